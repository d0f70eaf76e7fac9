"""Whether a learner gets a direct message when a goal falls due ("no reminders" turns it off).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, which SQLite supports: no batch mode, whose copy-and-drop of the table
    # would cascade to the milestones and goals that refer to it.
    op.add_column(
        "learners",
        sa.Column("goal_reminders", sa.Boolean, nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_column("learners", "goal_reminders")
