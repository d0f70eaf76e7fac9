"""Learner ids carry the channel that issued them (common/learner_ids.py).

Every stored id is mapped with `prefixed()`: `U0123ABCD` -> `slack:U0123ABCD`, `web-<hex>` ->
`web:<hex>`, `shell-root` -> `shell:root`, any other (a REST sender) -> `rest:<id>`; ids that
already carry a channel stay as they are, so the mapping is the same however often it is applied.
The conversation store maps its ids with the same function.

The primary key is also the key of learner_milestones (a foreign key, ON DELETE CASCADE), so a
learner is moved, not renamed: a copy under the new id, their milestones copied to it, then the
old milestones and the old row deleted. On PostgreSQL all of it is one transaction; on SQLite it
is one too (Alembic runs the DML of a revision in a single transaction). A learner already stored
under the new id as well (a REST caller that sent it) is one learner: that row, the newer, keeps
its profile, and the milestones of both are kept.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

from common.learner_ids import prefixed

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    tables = sa.MetaData()
    learners = sa.Table("learners", tables, autoload_with=bind)
    milestones = sa.Table("learner_milestones", tables, autoload_with=bind)

    stored = bind.execute(
        sa.union(sa.select(learners.c.sender_id), sa.select(milestones.c.sender_id))
    ).scalars()
    moved = {old: prefixed(old) for old in stored if prefixed(old) != old}
    if not moved:
        return
    old_ids = list(moved)

    parents = bind.execute(sa.select(learners).where(learners.c.sender_id.in_(old_ids))).mappings()
    _insert_ignoring_duplicates(
        bind, learners, [{**row, "sender_id": moved[row["sender_id"]]} for row in parents]
    )
    children = bind.execute(
        sa.select(milestones).where(milestones.c.sender_id.in_(old_ids))
    ).mappings()
    _insert_ignoring_duplicates(
        bind, milestones, [{**row, "sender_id": moved[row["sender_id"]]} for row in children]
    )
    bind.execute(sa.delete(milestones).where(milestones.c.sender_id.in_(old_ids)))
    bind.execute(sa.delete(learners).where(learners.c.sender_id.in_(old_ids)))


def _insert_ignoring_duplicates(bind, table: sa.Table, rows: list[dict]) -> None:
    if not rows:
        return
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    bind.execute(insert(table).on_conflict_do_nothing(), rows)


def downgrade() -> None:
    # Not invertible: "rest:ana" is "ana" from before or a REST learner who came since, and
    # stripping the channels would merge "rest:shell-root" with "shell:root": one learner would
    # get another's record.
    raise NotImplementedError(
        "Learner ids cannot be given back their old form without risking one learner getting "
        "another's record: restore the backup taken before upgrading instead."
    )
