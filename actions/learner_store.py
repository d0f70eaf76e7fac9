"""Learners' profiles and completed milestones, keyed by the channel's sender id.

Every method is one short transaction. Writes change only the fields or rows they are about (no
read-modify-write of a whole profile), so two conversations updating the same learner at once
both land. On SQLite each write transaction starts with a write, so it takes the lock up front and
waits for it instead of failing. Each write commits by its deadline (common/db.py: within the
Rasa server's wait for the action) or not at all: refused, or still waiting at the deadline, it
raises NotSaved, with nothing of it stored, then or later. Reads wait for no write (WAL on SQLite,
MVCC on PostgreSQL).

    python -m actions.learner_store migrate   # bring the learner database to the latest schema
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cache

from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from common.db import (
    DeadlinePassed,
    engine_for,
    insert_ignoring_duplicates,
    printable,
    session_scope,
    write_scope,
)
from common.learner_schema import Goal, GoalChange, Learner, MilestoneDone
from common.settings import PROJECT_ROOT, load_settings

logger = logging.getLogger(__name__)

PROFILE_FIELDS = (
    "education_level",
    "education_field",
    "current_role",
    "years_experience",
    "target_role",
    "preferred_setting",
)


class NotSaved(Exception):
    """A write was refused (e.g. the database stayed locked until the write's deadline): nothing
    of it was stored, then or later, and trying again can succeed."""


@dataclass(frozen=True)
class Profile:
    education_level: str | None = None
    education_field: str | None = None
    current_role: str | None = None
    years_experience: float | None = None
    target_role: str | None = None
    preferred_setting: str | None = None

    def known(self) -> dict:
        return {name: value for name, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class LearnerRecord:
    sender_id: str
    profile: Profile
    completed: dict[str, datetime] = field(default_factory=dict)
    created_at: datetime | None = None


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def add_ignoring_duplicates(session: Session, model, values: dict):
    dialect = session.get_bind().dialect.name
    return session.execute(insert_ignoring_duplicates(dialect, model, values))


class ProgressStore:
    def __init__(self, url: str) -> None:
        self.url = url

    # --- reading ----------------------------------------------------------------------------
    def record(self, sender_id: str) -> LearnerRecord | None:
        with session_scope(self.url) as session:
            # The columns of the record only, so it reads a database of any earlier revision.
            columns = [getattr(Learner, name) for name in PROFILE_FIELDS]
            learner = session.execute(
                select(*columns, Learner.created_at).where(Learner.sender_id == sender_id)
            ).first()
            if learner is None:
                return None
            rows = session.execute(
                select(MilestoneDone.milestone, MilestoneDone.done_at).where(
                    MilestoneDone.sender_id == sender_id
                )
            ).all()
            return LearnerRecord(
                sender_id=sender_id,
                profile=Profile(**{name: getattr(learner, name) for name in PROFILE_FIELDS}),
                completed=dict(rows),
                created_at=learner.created_at,
            )

    def takes_goal_reminders(self, sender_id: str) -> bool:
        with session_scope(self.url) as session:
            wanted = session.execute(
                select(Learner.goal_reminders).where(Learner.sender_id == sender_id)
            ).scalar()
            return wanted is not False

    def completed(self, sender_id: str) -> set[str]:
        with session_scope(self.url) as session:
            return set(
                session.execute(
                    select(MilestoneDone.milestone).where(MilestoneDone.sender_id == sender_id)
                ).scalars()
            )

    # --- writing ----------------------------------------------------------------------------
    def update_profile(self, sender_id: str, **fields) -> None:
        self.save(sender_id, profile=fields)

    def mark_done(self, sender_id: str, milestones: Iterable[str]) -> list[str]:
        """Record milestones as done; returns those that were not done before."""
        return self.save(sender_id, milestones=milestones)

    def save(
        self, sender_id: str, profile: dict | None = None, milestones: Iterable[str] = ()
    ) -> list[str]:
        """Profile fields and completed milestones in one transaction: all stored, or none.
        Returns the milestones that were not done before."""
        profile = profile or {}
        unknown = set(profile) - set(PROFILE_FIELDS)
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        added = []
        with self._writing() as session:
            ensure_learner(session, sender_id)
            if profile:
                session.execute(
                    update(Learner)
                    .where(Learner.sender_id == sender_id)
                    .values(**profile, updated_at=utc_now())
                )
            for milestone in dict.fromkeys(milestones):
                result = add_ignoring_duplicates(
                    session,
                    MilestoneDone,
                    {"sender_id": sender_id, "milestone": milestone, "done_at": utc_now()},
                )
                if result.rowcount:
                    added.append(milestone)
        return added

    def set_goal_reminders(self, sender_id: str, on: bool) -> None:
        """Direct messages when a goal falls due: "no reminders" turns them off."""
        with self._writing() as session:
            ensure_learner(session, sender_id)
            session.execute(
                update(Learner).where(Learner.sender_id == sender_id).values(goal_reminders=on)
            )

    def mark_not_done(self, sender_id: str, milestones: Iterable[str]) -> list[str]:
        """Undo milestones (a learner's correction); returns those that had been done."""
        removed = []
        with self._writing() as session:
            for milestone in dict.fromkeys(milestones):
                result = session.execute(
                    delete(MilestoneDone).where(
                        MilestoneDone.sender_id == sender_id,
                        MilestoneDone.milestone == milestone,
                    )
                )
                if result.rowcount:
                    removed.append(milestone)
        return removed

    def reset_progress(self, sender_id: str) -> int:
        """Forget completed milestones and goals (the profile stays); returns how many milestones
        were removed."""
        with self._writing() as session:
            _delete_goals(session, sender_id)
            result = session.execute(
                delete(MilestoneDone).where(MilestoneDone.sender_id == sender_id)
            )
            return result.rowcount

    def delete_learner(self, sender_id: str) -> bool:
        """Erase the profile, progress and goals; returns whether there was anything to erase."""
        with self._writing() as session:
            _delete_goals(session, sender_id)
            session.execute(delete(MilestoneDone).where(MilestoneDone.sender_id == sender_id))
            result = session.execute(delete(Learner).where(Learner.sender_id == sender_id))
            return bool(result.rowcount)

    def _writing(self):
        return writing(self.url)


@contextmanager
def writing(url: str) -> Iterator[Session]:
    """One write transaction, committed by its deadline (common/db.py); NotSaved (after the
    rollback) if the database refuses it or the deadline passes first."""
    try:
        with write_scope(url) as session:
            yield session
    except OperationalError as error:
        raise NotSaved(str(error.orig)) from error
    except DeadlinePassed as error:
        raise NotSaved(str(error)) from error


def ensure_learner(session: Session, sender_id: str) -> None:
    now = utc_now()
    add_ignoring_duplicates(
        session, Learner, {"sender_id": sender_id, "created_at": now, "updated_at": now}
    )


def _delete_goals(session: Session, sender_id: str) -> None:
    # Explicit rather than left to ON DELETE CASCADE, so the history goes first on any database.
    goals = select(Goal.id).where(Goal.sender_id == sender_id).scalar_subquery()
    session.execute(
        delete(GoalChange)
        .where(GoalChange.goal_id.in_(goals))
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Goal).where(Goal.sender_id == sender_id))


def migrate(url: str, revision: str = "head") -> None:
    """Bring the learner database at `url` to `revision` (Alembic), creating it if needed."""
    # Alembic logs its plugins' set-up at INFO when imported: quiet it first.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command

    config = alembic_config(url)
    before = current_revision(url)
    command.upgrade(config, revision)
    after = current_revision(url)
    if after != before:
        logger.info("Learner database migrated from %s to %s.", before or "empty", after)


def alembic_config(url: str):
    """Alembic's configuration for the learner database at `url`."""
    # Alembic logs set-up chatter at INFO on import and every run: quiet it before importing.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(url: str) -> str | None:
    """The learner database's schema revision (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine_for(url).connect() as connection:  # also creates the SQLite file's folder
        return MigrationContext.configure(connection).get_current_revision()


def default_progress_store() -> ProgressStore:
    """The configured learner database, migrated to the latest schema on first use."""
    return _progress_store_at(load_settings().learner_db_url)


@cache
def _progress_store_at(url: str) -> ProgressStore:
    with _migrating:  # actions run in threads (actions/threads.py); Alembic's state is global
        migrate(url)
    return ProgressStore(url)


_migrating = threading.Lock()


def main() -> None:
    parser = argparse.ArgumentParser(description="Learner database maintenance.")
    parser.add_argument("command", choices=["migrate"])
    parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    url = load_settings().learner_db_url
    migrate(url)
    logger.info("Learner database is at the latest schema (%s).", printable(url))


if __name__ == "__main__":
    main()
