"""Engines, per-call sessions and write transactions with a deadline (SQLAlchemy 1.4 with the
2.0-style API)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.dml import Insert

# The longest a write may take, waits for other connections' locks included: from the start of
# the action that makes it (actions/threads.py), or of the transaction outside an action. Writes
# take milliseconds, so this rides out any ordinary contention. It is well below the Rasa server's
# wait for an action (addons/action_server_guard.py, 2.6 s, counted from before the request is
# sent), so a write either lands before the learner is told, or is rolled back and the learner
# hears "couldn't save that" from the action; it never lands after the Rasa server gave up and
# said something went wrong. The 1.1 s between them is for sending the request and the answer,
# and for the Rasa server's event loop, busy for a few hundred milliseconds at a time
# understanding other learners' messages when many arrive at once (measured: with 2.2 s, two of
# three learners whose report met a lock were told "temporarily unavailable" instead).
WRITE_DEADLINE_SECONDS = 1.5
# SQLite's wait for a lock outside write_scope(): migrations, the knowledge base's build. (Reads
# wait for no writer: WAL.)
SQLITE_BUSY_TIMEOUT_SECONDS = 2.2

# The deadline (time.monotonic()) of the writes made within writes_due_by(), if any.
_writes_due: ContextVar[float | None] = ContextVar("writes_due", default=None)


class DeadlinePassed(Exception):
    """A write transaction could not commit by its deadline: it was rolled back."""


@cache
def engine_for(url: str) -> Engine:
    """One engine (connection pool) per database URL for the life of the process."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args = {}
        if parsed.get_backend_name() == "postgresql":
            # No statement and no lock wait outlasts a write's deadline, whatever the caller
            # (write_scope() shortens both to what is left of its own deadline).
            limit = f"{round(WRITE_DEADLINE_SECONDS * 1000)}ms"
            connect_args["options"] = f"-c lock_timeout={limit} -c statement_timeout={limit}"
        return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)

    # Wait for a writer instead of failing at once with "database is locked".
    connect_args: dict = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    pool: dict = {}
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A few connections stay open. SQLAlchemy 1.4 opens a new one to a SQLite file for every
        # session (NullPool), and closing the last one deleted the write-ahead log, which changed
        # the knowledge base's build_version() on every call: every cached read and the passage
        # index were built again for each message (a third of the action server's CPU). The
        # action server's threads take turns with them, hence check_same_thread off.
        connect_args["check_same_thread"] = False
        pool["poolclass"] = QueuePool
    engine = create_engine(url, future=True, connect_args=connect_args, **pool)

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


@contextmanager
def writes_due_by(deadline: float) -> Iterator[None]:
    """Every write transaction of the block (write_scope) commits by `deadline`, a
    time.monotonic() value, or not at all."""
    token = _writes_due.set(deadline)
    try:
        yield
    finally:
        _writes_due.reset(token)


@contextmanager
def write_scope(url: str) -> Iterator[Session]:
    """A session for one write transaction that commits by its deadline or not at all: by that of
    the enclosing writes_due_by(), or WRITE_DEADLINE_SECONDS from now if sooner. Waits for locks
    end at the deadline (then the database raises OperationalError); a transaction still open at
    the deadline is rolled back (DeadlinePassed)."""
    deadline = time.monotonic() + WRITE_DEADLINE_SECONDS
    deadline = min(deadline, _writes_due.get() or deadline)
    _check(deadline)
    with Session(engine_for(url), future=True) as session, session.begin():
        _wait_for_locks_at_most(session, deadline - time.monotonic())
        yield session
        _check(deadline)  # the commit follows at once


def _check(deadline: float) -> None:
    late = time.monotonic() - deadline
    if late >= 0:
        raise DeadlinePassed(f"the write's deadline passed {late:.3f} s ago")


def _wait_for_locks_at_most(session: Session, seconds: float) -> None:
    milliseconds = max(1, round(seconds * 1000))
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(text(f"PRAGMA busy_timeout = {milliseconds}"))
    elif dialect == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
        session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))


def without_time_limits(connection) -> None:
    """Lift the limits engine_for() puts on PostgreSQL connections, for the rest of the
    connection's transaction: for maintenance that may wait for readers or move much at once (the
    knowledge base's build, scripts/move_to_postgres.py), never for a learner's write."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL lock_timeout = 0"))
        connection.execute(text("SET LOCAL statement_timeout = 0"))


def insert_ignoring_duplicates(dialect: str, table, values: dict | list[dict]) -> Insert:
    """INSERT of one row (a dict) or many (a list) that skips each row whose key exists (ON
    CONFLICT DO NOTHING): PostgreSQL or SQLite."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(values).on_conflict_do_nothing()
