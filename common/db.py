"""Engines and per-call sessions (SQLAlchemy 1.4 with the 2.0-style API)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

# How long a write waits for another connection's write lock before SQLite gives up ("database is
# locked"). Writes take milliseconds, so this rides out any ordinary contention. It is kept below
# the Rasa server's wait for an action (addons/action_server_guard.py, 2.6 s) so that a learner
# whose write is refused hears "couldn't save that" from the action, not a generic error.
SQLITE_BUSY_TIMEOUT_SECONDS = 2.2


@cache
def engine_for(url: str) -> Engine:
    """One engine (connection pool) per database URL for the life of the process."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # Wait for a writer instead of failing at once with "database is locked".
    engine = create_engine(url, future=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run while a writer commits.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def printable(url: str) -> str:
    """A database URL fit for logs: its password, if any, shown as ***."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session for one unit of work: committed on success, rolled back on error."""
    with Session(engine_for(url), future=True) as session, session.begin():
        yield session


def insert_ignoring_duplicates(dialect: str, table, values: dict | list[dict]) -> Insert:
    """INSERT of one row (a dict) or many (a list) that skips each row whose key exists (ON
    CONFLICT DO NOTHING): PostgreSQL or SQLite."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(values).on_conflict_do_nothing()
