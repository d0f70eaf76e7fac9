"""A goal's plan: the steps the learner kept (from the knowledge base, or their own).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, as in 0005: a batch copy of the table would cascade to its history.
    op.add_column("learner_goals", sa.Column("plan", sa.JSON))


def downgrade() -> None:
    op.drop_column("learner_goals", "plan")
