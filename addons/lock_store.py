"""A conversation lock store in a SQLite file, so several Sanic workers can share one machine.

Rasa serialises the messages of one conversation with a lock store. Its in-memory store works
only inside one process, so Rasa refuses more than one Sanic worker with it (SANIC_WORKERS is
then ignored); its Redis store needs a Redis server. This one keeps the same ticket locks in a
SQLite file that every worker on the machine opens: one `make run` can use both cores without an
extra service. Several machines need the Redis lock store instead (README, "Growing").

endpoints.yml:
    lock_store:
      type: addons.lock_store.SQLiteLockStore
      db: var/locks.db

Rasa's stores read a lock, change it and write it back in separate steps; here each of those
read-modify-writes runs in one `BEGIN IMMEDIATE` transaction, so two workers issuing tickets for
the same conversation at the same moment cannot both get the same ticket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockStore
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, event, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

DEFAULT_DB = "var/locks.db"

metadata = MetaData()
locks = Table(
    "conversation_locks",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("lock", Text, nullable=False),  # TicketLock.dumps()
)


def _engine(path: str) -> Engine:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None hands transaction control to us, so BEGIN IMMEDIATE takes the write
    # lock before the read; the timeout waits for another worker instead of failing.
    # Connections are kept (SQLAlchemy 1.4 would open one per call for a SQLite file): a message
    # takes the lock four or five times.
    engine = create_engine(
        f"sqlite:///{path}",
        future=True,
        poolclass=QueuePool,
        connect_args={"timeout": 15, "isolation_level": None, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        # Locks matter only while their messages are handled: no fsync per commit.
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    metadata.create_all(engine)
    return engine


class SQLiteLockStore(LockStore):
    def __init__(self, endpoint_config: EndpointConfig | None = None, db: str = DEFAULT_DB):
        if endpoint_config is not None:
            db = endpoint_config.kwargs.get("db", db)
        self._engine = _engine(db)
        self._connection: Connection | None = None  # the transaction in progress, if any

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if self._connection is not None:  # already inside one of the atomic steps below
            yield self._connection
            return
        with self._engine.begin() as connection:
            self._connection = connection
            try:
                yield connection
            finally:
                self._connection = None

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        with self._transaction() as connection:
            stored = connection.execute(
                select(locks.c.lock).where(locks.c.conversation_id == conversation_id)
            ).scalar()
        return TicketLock.from_dict(json.loads(stored)) if stored else None

    def delete_lock(self, conversation_id: str) -> None:
        with self._transaction() as connection:
            connection.execute(locks.delete().where(locks.c.conversation_id == conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        row = {"conversation_id": lock.conversation_id, "lock": lock.dumps()}
        with self._transaction() as connection:
            connection.execute(
                insert(locks)
                .values(**row)
                .on_conflict_do_update(index_elements=[locks.c.conversation_id], set_=row)
            )

    # Rasa's read-modify-write steps, each made atomic across processes.

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._transaction():
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._transaction():
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._transaction():
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._transaction():
            super().cleanup(conversation_id, ticket_number)
