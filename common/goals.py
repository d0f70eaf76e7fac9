"""What both servers need of goals: today's date, how a goal and its date are said back, and the
claim of a check-in, so that each goal is asked about once per due date, whether by the next
session (action server) or by a direct message (Rasa server's Slack reminders)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from common.db import session_scope, write_scope
from common.learner_schema import Goal, Learner
from common.settings import load_settings

OPEN, DONE, DROPPED = "open", "done", "dropped"

# The entity a button's payload names its goal by (`/goal_done{"goal": 12}`): a reminder's buttons
# act on the goal it is about, however many the learner has.
GOAL_ENTITY = "goal"


def about_goal(payload: str, goal_id: int) -> str:
    return f'{payload}{{"{GOAL_ENTITY}": {goal_id}}}'


_FIRST_PERSON = {"my": "your", "i": "you", "me": "you", "myself": "yourself", "mine": "yours"}


def today() -> date:
    """Today's date for goals and check-ins: COACH_TODAY (YYYY-MM-DD) when set, so tests and
    demonstrations can move the clock of running servers; otherwise the machine's date."""
    fixed = load_settings().today
    return date.fromisoformat(fixed) if fixed else date.today()


def spoken(on: date) -> str:
    """A date as the assistant confirms it: "Tuesday 1 June 2027"."""
    return f"{on:%A} {on.day} {on:%B %Y}"


def said_back(title: str) -> str:
    """The goal as the coach says it back: "finish my MHA" -> "finish your MHA"."""
    return re.sub(
        r"\b(my|i|me|myself|mine)\b",
        lambda match: _FIRST_PERSON[match.group(1).lower()],
        title,
        flags=re.IGNORECASE,
    )


def not_checked_in():
    """The goal's check-in for its current due date is still to come: a new date clears it
    (GoalStore.postpone), so this is one indexed value (migration 0006)."""
    return Goal.checked_in_for.is_(None)


@dataclass(frozen=True)
class DueGoal:
    id: int
    sender_id: str
    title: str
    due_on: date


def claim_due_reminders(url: str, on: date, channel: str, limit: int = 100) -> list[DueGoal]:
    """Open goals due by `on` of the channel's learners who take reminders, whose check-in is
    still to come, each claimed: however many replicas ask at once, a goal is handed to one of
    them, once per due date. Looks first without writing, in the (status, checked_in_for, due_on)
    index, which holds only the goals still to check in on at its front: a round with nothing due
    reads next to nothing and takes no write lock."""
    due_goals = (
        select(Goal.id, Goal.sender_id, Goal.title, Goal.due_on)
        .join(Learner, Learner.sender_id == Goal.sender_id)
        .where(
            Goal.status == OPEN,
            Goal.due_on <= on,
            not_checked_in(),
            Learner.goal_reminders.is_(True),
            Goal.sender_id.startswith(f"{channel}:"),
        )
        .order_by(Goal.due_on, Goal.id)
        .limit(limit)
    )
    with session_scope(url) as session:
        if not session.execute(due_goals).first():
            return []
    with write_scope(url) as session:
        due = session.execute(due_goals).all()
        return [DueGoal(*goal) for goal in due if claim_check_in(session, goal.id)]


def claim_check_in(session, goal_id: int) -> bool:
    """Marks the goal's check-in for its due date as asked; False if someone else just did (the
    condition is re-checked under the row's write lock, so only one claim wins)."""
    return bool(
        session.execute(
            update(Goal)
            .where(Goal.id == goal_id, not_checked_in())
            .values(checked_in_for=Goal.due_on)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def release_reminder(url: str, goal: DueGoal) -> None:
    """A claimed reminder that could not be queued: the next round (or session) asks instead."""
    with write_scope(url) as session:
        session.execute(
            update(Goal)
            .where(Goal.id == goal.id, Goal.checked_in_for == goal.due_on)
            .values(checked_in_for=None)
            .execution_options(synchronize_session=False)
        )
