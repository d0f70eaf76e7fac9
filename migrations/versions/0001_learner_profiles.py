"""Learner profiles.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learners",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("education_level", sa.String(40)),
        sa.Column("education_field", sa.String(200)),
        sa.Column("current_job", sa.String(200)),
        sa.Column("years_experience", sa.Float),
        sa.Column("target_role", sa.String(100)),
        sa.Column("preferred_setting", sa.String(100)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("learners")
