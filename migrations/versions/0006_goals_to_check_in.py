"""The scheduler's due goals from one index range: a goal's check-in mark is cleared when its date
moves, so "still to check in on" is `checked_in_for IS NULL`, indexed with status and date.
Before, a round with nothing due read every open goal past its date to find none (about 100 ms
over 100,000 goals, every round of every replica).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    goals = sa.table(
        "learner_goals", sa.column("checked_in_for", sa.Date), sa.column("due_on", sa.Date)
    )
    # A mark for an earlier date meant "still to come" before; now that is no mark at all.
    op.execute(
        goals.update()
        .where(
            goals.c.checked_in_for.is_not(None),
            sa.or_(goals.c.due_on.is_(None), goals.c.checked_in_for != goals.c.due_on),
        )
        .values(checked_in_for=None)
    )
    op.drop_index("ix_learner_goals_status_due_on", table_name="learner_goals")
    op.create_index(
        "ix_learner_goals_to_check_in", "learner_goals", ["status", "checked_in_for", "due_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_learner_goals_to_check_in", table_name="learner_goals")
    op.create_index("ix_learner_goals_status_due_on", "learner_goals", ["status", "due_on"])
