"""What a learner has done and what to do next, from the career path in the knowledge base.
Pure functions: no database, no Rasa; the actions feed them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from actions.knowledge_base import PathStepInfo

# Having the later milestone means having the earlier one.
IMPLIED_BY = {"graduate_degree": {"degree"}}


@dataclass(frozen=True)
class Progress:
    done: list[PathStepInfo]
    to_do: list[PathStepInfo]

    @property
    def percent(self) -> int:
        total = len(self.done) + len(self.to_do)
        return round(100 * len(self.done) / total) if total else 0

    @property
    def summary(self) -> str:
        """ "3 of 10 milestones (30%)" """
        return (
            f"{len(self.done)} of {len(self.done) + len(self.to_do)} milestones ({self.percent}%)"
        )


def effective_completed(completed: Iterable[str]) -> set[str]:
    effective = set(completed)
    for milestone in list(effective):
        effective |= IMPLIED_BY.get(milestone, set())
    return effective


def progress(path: Sequence[PathStepInfo], completed: Iterable[str]) -> Progress:
    done = effective_completed(completed)
    return Progress(
        done=[step for step in path if step.key in done],
        to_do=[step for step in path if step.key not in done],
    )


def next_milestones(
    path: Sequence[PathStepInfo], completed: Iterable[str], limit: int = 3
) -> list[PathStepInfo]:
    """The next steps on the path, in the path's order, never one the learner already has."""
    return progress(path, completed).to_do[:limit]
