"""Tables of the learner database (profiles and progress). Changes go through Alembic migrations
in migrations/versions/, never through create_all, so operators' databases upgrade in place."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, ForeignKey, String
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
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class MilestoneDone(LearnerModel):
    __tablename__ = "learner_milestones"
    sender_id = Column(ForeignKey("learners.sender_id", ondelete="CASCADE"), primary_key=True)
    milestone = Column(String(40), primary_key=True)  # a path step key from the knowledge base
    done_at = Column(DateTime, nullable=False)
