"""Learners' goals in the learner database: set, list, complete, postpone, drop, and the check-in
that comes back when one falls due. Each method is one short transaction, as in
actions/learner_store.py (and raises NotSaved the same way)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from actions.learner_store import (
    add_ignoring_duplicates,
    default_progress_store,
    ensure_learner,
    utc_now,
    writing,
)
from common.db import session_scope
from common.goals import DONE, DROPPED, OPEN, claim_check_in, not_checked_in
from common.learner_schema import Goal, GoalChange, MilestoneDone


@dataclass(frozen=True)
class PlanStep:
    text: str
    source: str | None  # the source document; None for a step in the learner's own words


@dataclass(frozen=True)
class GoalRecord:
    id: int
    title: str
    milestone: str | None
    due_on: date | None
    status: str
    created_at: datetime
    plan: tuple[PlanStep, ...] = ()

    def overdue(self, today: date) -> bool:
        return self.status == OPEN and self.due_on is not None and self.due_on < today


def _record(goal: Goal) -> GoalRecord:
    plan = tuple(PlanStep(step["text"], step.get("source")) for step in goal.plan or [])
    return GoalRecord(
        goal.id, goal.title, goal.milestone, goal.due_on, goal.status, goal.created_at, plan
    )


# Open goals by due date, those without a date last, then in the order they were set.
_DUE_ORDER = (Goal.due_on.is_(None), Goal.due_on, Goal.id)


class GoalStore:
    def __init__(self, url: str) -> None:
        self.url = url

    # --- reading ----------------------------------------------------------------------------
    def open_goals(self, sender_id: str) -> list[GoalRecord]:
        with session_scope(self.url) as session:
            goals = session.execute(
                select(Goal)
                .where(Goal.sender_id == sender_id, Goal.status == OPEN)
                .order_by(*_DUE_ORDER)
            ).scalars()
            return [_record(goal) for goal in goals]

    def all_goals(self, sender_id: str) -> list[GoalRecord]:
        with session_scope(self.url) as session:
            goals = session.execute(
                select(Goal).where(Goal.sender_id == sender_id).order_by(Goal.id)
            ).scalars()
            return [_record(goal) for goal in goals]

    # --- writing ----------------------------------------------------------------------------
    def add(
        self, sender_id: str, title: str, due_on: date | None, milestone: str | None = None
    ) -> GoalRecord:
        now = utc_now()
        with writing(self.url) as session:
            ensure_learner(session, sender_id)
            goal = Goal(
                sender_id=sender_id,
                title=title[:200],
                milestone=milestone,
                due_on=due_on,
                status=OPEN,
                created_at=now,
                updated_at=now,
            )
            session.add(goal)
            session.flush()
            session.add(GoalChange(goal_id=goal.id, change="set", due_on=due_on, changed_at=now))
            return _record(goal)

    def complete(self, sender_id: str, goal_id: int) -> tuple[GoalRecord, bool] | None:
        """Mark a goal done, and its path step with it; returns the goal and whether the step
        was newly marked (None when the learner has no such open goal)."""
        with writing(self.url) as session:
            goal = self._open_goal(session, sender_id, goal_id)
            if goal is None:
                return None
            self._change(session, goal, "done", status=DONE)
            step_added = False
            if goal.milestone:
                step_added = bool(
                    add_ignoring_duplicates(
                        session,
                        MilestoneDone,
                        {"sender_id": sender_id, "milestone": goal.milestone, "done_at": utc_now()},
                    ).rowcount
                )
            return _record(goal), step_added

    def postpone(self, sender_id: str, goal_id: int, due_on: date) -> GoalRecord | None:
        # A new date is a new check-in: asked again when it comes.
        return self._change_open_goal(
            sender_id, goal_id, "postponed", due_on=due_on, checked_in_for=None
        )

    def set_plan(self, sender_id: str, goal_id: int, steps: list[PlanStep]) -> GoalRecord | None:
        """Keep these steps as the goal's plan (none: the learner skipped it)."""
        plan = [{"text": step.text[:500], "source": step.source} for step in steps] or None
        return self._change_open_goal(
            sender_id, goal_id, "planned" if plan else "plan skipped", plan=plan
        )

    def drop(self, sender_id: str, goal_id: int) -> GoalRecord | None:
        return self._change_open_goal(sender_id, goal_id, "dropped", status=DROPPED)

    def claim_check_in(self, sender_id: str, today: date) -> GoalRecord | None:
        """The learner's earliest open goal due by `today` not yet checked in on for its due
        date, marked as checked in in the same transaction: asked once per goal and date, even
        when two servers start sessions for the learner at once."""
        due = (
            select(Goal)
            .where(
                Goal.sender_id == sender_id,
                Goal.status == OPEN,
                Goal.due_on <= today,
                not_checked_in(),
            )
            .order_by(*_DUE_ORDER)
            .limit(1)
        )
        # Every session start asks: look first without writing, so most take no write lock.
        with session_scope(self.url) as session:
            if session.execute(due).first() is None:
                return None
        with writing(self.url) as session:
            goal = session.execute(due).scalar()
            if goal is None:
                return None
            return _record(goal) if claim_check_in(session, goal.id) else None

    def _change_open_goal(
        self, sender_id: str, goal_id: int, change: str, **values
    ) -> GoalRecord | None:
        """One change to a learner's open goal; None when they have no such open goal."""
        with writing(self.url) as session:
            goal = self._open_goal(session, sender_id, goal_id)
            if goal is None:
                return None
            self._change(session, goal, change, **values)
            return _record(goal)

    @staticmethod
    def _open_goal(session, sender_id: str, goal_id: int) -> Goal | None:
        return session.execute(
            select(Goal).where(Goal.id == goal_id, Goal.sender_id == sender_id, Goal.status == OPEN)
        ).scalar()

    @staticmethod
    def _change(session, goal: Goal, change: str, **values) -> None:
        now = utc_now()
        for name, value in values.items():
            setattr(goal, name, value)
        goal.updated_at = now
        session.add(GoalChange(goal_id=goal.id, change=change, due_on=goal.due_on, changed_at=now))


def default_goal_store() -> GoalStore:
    """Goals live in the learner database, migrated on first use like the progress store."""
    return GoalStore(default_progress_store().url)
