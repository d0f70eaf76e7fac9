"""Learners' goals, with their history (actions/goals.py).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learner_goals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "sender_id",
            sa.String(255),
            sa.ForeignKey("learners.sender_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("milestone", sa.String(40)),
        sa.Column("due_on", sa.Date),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("checked_in_for", sa.Date),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_learner_goals_sender_id", "learner_goals", ["sender_id", "status", "due_on"]
    )
    op.create_index("ix_learner_goals_status_due_on", "learner_goals", ["status", "due_on"])
    op.create_table(
        "learner_goal_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "goal_id",
            sa.Integer,
            sa.ForeignKey("learner_goals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("change", sa.String(12), nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("changed_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_learner_goal_changes_goal_id", "learner_goal_changes", ["goal_id"])


def downgrade() -> None:
    op.drop_table("learner_goal_changes")
    op.drop_table("learner_goals")
