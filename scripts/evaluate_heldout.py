"""Ask the held-out questions (tests/heldout/*.yml, never used for training) through the REST
channel of the real running assistant and print the accuracy per topic.

    .venv/bin/python -m scripts.evaluate_heldout            # starts both servers itself
    .venv/bin/python -m scripts.evaluate_heldout --min 0.9  # exit 1 below 90% overall

A question is answered correctly when the answer the learner gets is on the expected topic (the
`last_topic` slot the answer action sets, read from the tracker) and names every thing listed in
its `mentions`.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from common.learner_ids import learner_id
from scripts.local_servers import DEFAULT_MODEL, PROJECT_ROOT, RunningAssistant, running_assistant

HELDOUT_DIR = PROJECT_ROOT / "tests" / "heldout"


@dataclass
class HeldoutReport:
    per_topic: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        results = [ok for oks in self.per_topic.values() for ok in oks]
        return sum(results) / len(results)

    def table(self) -> str:
        lines = [f"{'topic':<18} {'correct':>9}  accuracy"]
        for topic, oks in sorted(self.per_topic.items()):
            lines.append(f"{topic:<18} {sum(oks):>4}/{len(oks):<4}  {sum(oks) / len(oks):6.1%}")
        total = sum(len(oks) for oks in self.per_topic.values())
        correct = sum(sum(oks) for oks in self.per_topic.values())
        lines.append(f"{'overall':<18} {correct:>4}/{total:<4}  {self.accuracy:6.1%}")
        return "\n".join(lines)


TOPIC_LEVEL_SETS = ("questions.yml", "variants.yml")  # answers.yml is scripts/evaluate_answers.py's


def load_questions(path: Path | None = None) -> list[dict]:
    """One held-out file's questions, or every topic-level file's when no path is given."""
    paths = [path] if path else [HELDOUT_DIR / name for name in TOPIC_LEVEL_SETS]
    return [
        question
        for each in paths
        for question in yaml.safe_load(each.read_text(encoding="utf-8"))["questions"]
    ]


def evaluate(assistant: RunningAssistant, questions: list[dict]) -> HeldoutReport:
    report = HeldoutReport()
    run = uuid.uuid4().hex[:8]
    for number, question in enumerate(questions):
        sender = f"heldout-{run}-{number}"  # a fresh conversation per question
        reply = "\n".join(m.get("text") or "" for m in assistant.say(sender, question["text"]))
        topic = assistant.tracker(learner_id("rest", sender))["slots"].get("last_topic")
        missing = [m for m in question.get("mentions", []) if m.lower() not in reply.lower()]
        correct = topic == question["topic"] and not missing and bool(reply)
        report.per_topic[question["topic"]].append(correct)
        if not correct:
            detail = f"answered {topic}" + (f", missing {missing}" if missing else "")
            report.misses.append(f"[{question['topic']}] {question['text']!r}: {detail}")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--min", type=float, default=0.0, help="fail below this accuracy")
    args = parser.parse_args()
    questions = load_questions()
    with running_assistant(args.model) as assistant:
        report = evaluate(assistant, questions)
    print(report.table())
    for miss in report.misses:
        print("  miss:", miss)
    return 0 if report.accuracy >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())
