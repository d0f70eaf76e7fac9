"""The progress view as Slack blocks, as the website widget draws it from the same text
(widget/coach-widget.js): "Your progress: 3 of 10 milestones (30%)." gets a bar, "[x]" / "[ ]"
checklist lines get ticks, and "Your goals:" gets a section per goal with its date. The actions
stay channel-neutral; this reads the wording of utter_show_progress, utter_goals and
utter_goals_beside_progress (domain.yml)."""

from __future__ import annotations

import re
from typing import Any

_MILESTONES = re.compile(r"\b(\d+) of (\d+) milestones\b")
_CHECK = re.compile(r"^\[( |x)\] (.+)$")
_GOALS = "Your goals:"
_GOAL = re.compile(r"^\d+\. (?P<title>.+), (?P<due>by .+?|with no date set)(?P<state> \(.+\))?$")
_STATE_MARKS = {" (overdue)": ":warning: ", " (due today)": ":alarm_clock: "}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def progress_blocks(text: str) -> list[dict[str, Any]] | None:
    """Blocks for a progress view or a list of goals; None for any other text."""
    lines = [line for line in text.strip().split("\n") if line.strip()]
    if not lines:
        return None
    if lines[0] == _GOALS:
        return _goal_blocks(lines[1:])
    checks = [match for match in map(_CHECK.match, lines) if match]
    milestones = _MILESTONES.search(lines[0])
    if not (checks and milestones):
        return None
    done, total = int(milestones.group(1)), int(milestones.group(2))
    blocks = [_section(f"*{lines[0]}*"), _context("▰" * done + "▱" * (total - done))]
    ticks = [
        f"{':white_check_mark:' if m.group(1) == 'x' else ':white_large_square:'} {m.group(2)}"
        for m in checks
    ]
    blocks.append(_section("\n".join(ticks)))
    rest = [line for line in lines[1:] if not _CHECK.match(line)]
    if rest:
        blocks.append(_context("\n".join(rest)))
    return blocks


def _goal_blocks(lines: list[str]) -> list[dict[str, Any]]:
    blocks = [_section(f"*{_GOALS[:-1]}*")]
    rest = []
    for line in lines:
        goal = _GOAL.match(line)
        if goal is None:
            rest.append(line)
            continue
        mark = _STATE_MARKS.get(goal.group("state") or "", "")
        due = goal.group("due") + (goal.group("state") or "")
        blocks.append(_section(f"{mark}*{goal.group('title')}*\n{due}"))
    if rest:
        blocks.append(_context("\n".join(rest)))
    return blocks
