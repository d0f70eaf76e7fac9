"""Which goal the learner means: "I did it", "push the second one to July", "drop the CCRP goal",
or a reminder's button that names its goal."""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.conversation import latest_text, referenced_position
from actions.goal_store import GoalRecord
from common.goals import GOAL_ENTITY

GOAL_IN_FOCUS = "goal_in_focus"  # the goal just set, checked in on, or the only one listed
LISTED_GOALS = "listed_goals"  # the goals "My goals" showed, in order: "the first one"


def goal_meant(tracker: Tracker, goals: list[GoalRecord]) -> GoalRecord | None:
    clicked = next(tracker.get_latest_entity_values(GOAL_ENTITY), None)  # a reminder's button
    by_id = [g for g in goals if str(g.id) == str(clicked)]
    if by_id:
        return by_id[0]
    text = latest_text(tracker)
    listed = [g for i in tracker.get_slot(LISTED_GOALS) or [] for g in goals if g.id == i]
    position = referenced_position(text)
    if position is not None:
        shown = listed or goals
        return shown[position] if -len(shown) <= position < len(shown) else None
    named = [g for g in goals if _names_goal(text, g)]
    if len(named) == 1:
        return named[0]
    focus = tracker.get_slot(GOAL_IN_FOCUS)
    in_focus = [g for g in goals if g.id == focus]
    if in_focus:
        return in_focus[0]
    return goals[0] if len(goals) == 1 else None


# Words of a request about a goal, not of a goal: "change the plan for my goal".
_STOP_WORDS = {"the", "a", "an", "to", "my", "of", "for", "in", "on", "and", "get", "do", "goal",
               "plan"}  # fmt: skip


def _names_goal(text: str, goal: GoalRecord) -> bool:
    words = set(re.findall(r"[a-z0-9']+", text.lower())) - _STOP_WORDS
    return bool(words & (set(re.findall(r"[a-z0-9']+", goal.title.lower())) - _STOP_WORDS))
