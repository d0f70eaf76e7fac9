"""Milestones each learner has completed.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learner_milestones",
        sa.Column(
            "sender_id",
            sa.String(255),
            sa.ForeignKey("learners.sender_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("milestone", sa.String(40), primary_key=True),
        sa.Column("done_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("learner_milestones")
