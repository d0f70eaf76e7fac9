"""Tables of the learner database (profiles and progress). Changes go through Alembic migrations
in migrations/versions/, never through create_all, so operators' databases upgrade in place."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    true,
)
from sqlalchemy.orm import declarative_base

LearnerModel = declarative_base()


class Learner(LearnerModel):
    __tablename__ = "learners"
    sender_id = Column(String(255), primary_key=True)  # the channel's id for this learner
    education_level = Column(String(40))  # none / bachelor / master / doctorate
    education_field = Column(String(200))
    # "current_role" is a reserved word in PostgreSQL: the column avoids it.
    current_role = Column("current_job", String(200))
    years_experience = Column(Float)
    target_role = Column(String(100))
    preferred_setting = Column(String(100))
    # A direct message when a goal falls due, where the channel allows one (Slack).
    goal_reminders = Column(Boolean, nullable=False, server_default=true())
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class MilestoneDone(LearnerModel):
    __tablename__ = "learner_milestones"
    sender_id = Column(ForeignKey("learners.sender_id", ondelete="CASCADE"), primary_key=True)
    milestone = Column(String(40), primary_key=True)  # a path step key from the knowledge base
    done_at = Column(DateTime, nullable=False)


class Goal(LearnerModel):
    """Something the learner means to do, by a date or not: an intention, never a milestone done
    (completing a goal linked to a path step marks that step, actions/goals.py)."""

    __tablename__ = "learner_goals"
    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(ForeignKey("learners.sender_id", ondelete="CASCADE"), nullable=False)
    title = Column(String(200), nullable=False)  # in the learner's words: "pass the CCRP"
    milestone = Column(String(40))  # the path step it leads to, when it names one
    due_on = Column(Date)  # None: no date set
    status = Column(String(10), nullable=False)  # open / done / dropped
    # The due date the learner was last asked "how did it go?" about: one check-in per date.
    checked_in_for = Column(Date)
    # The steps the learner kept for it: [{"text": ..., "source": document or None (their own)}].
    plan = Column(JSON)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    __table_args__ = (
        # A learner's goals, and their due check-in at a session start.
        Index("ix_learner_goals_sender_id", "sender_id", "status", "due_on"),
        # The scheduler's query for due goals still to check in on, over every learner.
        Index("ix_learner_goals_to_check_in", "status", "checked_in_for", "due_on"),
    )


class GoalChange(LearnerModel):
    """A goal's history: set, postponed, done, dropped, with the due date after the change."""

    __tablename__ = "learner_goal_changes"
    id = Column(Integer, primary_key=True, autoincrement=True)
    goal_id = Column(ForeignKey("learner_goals.id", ondelete="CASCADE"), nullable=False, index=True)
    change = Column(String(12), nullable=False)
    due_on = Column(Date)
    changed_at = Column(DateTime, nullable=False)
