"""Conversation lock stores: a SQLite file for one machine, Redis for several (LOCK_STORE_URL).

Rasa serialises the messages of one conversation with a lock store. Its in-memory store works
only inside one process, so Rasa refuses more than one Sanic worker with it (SANIC_WORKERS is
then ignored); its Redis store needs a Redis server. This one keeps the same ticket locks in a
SQLite file that every worker on the machine opens: one `make run` can use both cores without an
extra service. Several machines need the Redis lock store instead (README, "Growing").

endpoints.yml:
    lock_store:
      type: addons.lock_store.ConfiguredLockStore

picks the store from LOCK_STORE_URL and SANIC_WORKERS (common/settings.py): unset, Rasa's
in-memory store for one worker and the SQLite file var/locks.db for several;
`redis://[:password@]host:port/db`, Rasa's Redis lock store, which replicas on several machines
share. One endpoints.yml then serves every deployment.

Rasa's stores read a lock, change it and write it back in separate steps; here each of those
read-modify-writes runs in one `BEGIN IMMEDIATE` transaction, so two workers issuing tickets for
the same conversation at the same moment cannot both get the same ticket. Rasa's own Redis store
has the same gap (a GET, then a SET); AtomicRedisLockStore closes it with a short Redis mutex.

Waiting for a turn (QueuedTurns, in all three stores): Rasa looks at a taken lock once a second,
so ten messages of one learner took about ten seconds however fast each was answered. In one
process the next turn is woken the moment the one before ends; the SQLite file and Redis, shared
with other processes that cannot wake it, are looked at every SHARED_LOOK_SECONDS. A turn whose
ticket expired while it waited (Rasa's lock lifetime, 60 s) is refused at once with a LockError,
which the channels answer with an apology; Rasa's loop kept such a turn waiting, unanswered, for
as long as other turns held the lock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, event, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

from common.settings import load_settings

DEFAULT_DB = "var/locks.db"

# How often a turn looks at a lock shared with other processes while it waits: a turn takes a few
# hundred milliseconds, so 50 ms adds little to a wait; each look is one read.
SHARED_LOOK_SECONDS = 0.05


class QueuedTurns(LockStore):
    """Rasa's wait for a conversation's lock (LockStore._acquire_lock), with waits that end as soon
    as the turn can start, and a turn whose ticket expired refused at once."""

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or not _still_queued(lock, ticket):
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}': its "
                    "ticket expired while it waited."
                )
            if not lock.is_locked(ticket):
                return lock
            # Expired tickets ahead are skipped by every read (TicketLock drops them as it reads),
            # and the turn that ends saves the lock without them: no write while waiting.
            await self._wait_for_turn(conversation_id, wait_time_in_seconds)

    async def _wait_for_turn(self, conversation_id: str, at_most: float) -> None:
        """Return when the turn ahead may have ended (or a ticket ahead expired)."""
        await asyncio.sleep(min(at_most, SHARED_LOOK_SECONDS))


def _still_queued(lock: TicketLock, ticket: int) -> bool:
    lock.remove_expired_tickets()
    return any(queued.number == ticket for queued in lock.tickets)


class WakingInMemoryLockStore(QueuedTurns, InMemoryLockStore):
    """Rasa's in-memory lock store (one process), whose waiting turns are woken when the turn
    ahead of them ends. Rasa's `wait_time_in_seconds` (1 s) remains only as the longest wait
    between looks, for a ticket ahead that expires without ending."""

    def __init__(self) -> None:
        super().__init__()
        # Conversation -> the futures its waiting turns sleep on, resolved when a turn ends.
        self._sleeping: dict[str, set[asyncio.Future]] = {}

    async def _wait_for_turn(self, conversation_id: str, at_most: float) -> None:
        turn_ended = asyncio.get_running_loop().create_future()
        sleeping = self._sleeping.setdefault(conversation_id, set())
        sleeping.add(turn_ended)
        try:
            await asyncio.wait_for(turn_ended, at_most)
        except asyncio.TimeoutError:
            pass  # look again: a ticket ahead may have expired
        finally:
            sleeping.discard(turn_ended)
            if not sleeping and self._sleeping.get(conversation_id) is sleeping:
                del self._sleeping[conversation_id]

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        super().finish_serving(conversation_id, ticket_number)
        for turn_ended in self._sleeping.pop(conversation_id, set()):
            if not turn_ended.done():
                turn_ended.set_result(None)


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


class SQLiteLockStore(QueuedTurns, LockStore):
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


# How long one read-modify-write of a lock may hold its Redis mutex: a few round trips take
# milliseconds; the expiry only frees the mutex of a replica that died holding it.
MUTEX_SECONDS = 2


class AtomicRedisLockStore(QueuedTurns, RedisLockStore):
    """Rasa's Redis lock store (same keys, same tickets), with each read-modify-write of a lock
    done under a per-conversation Redis mutex. Without it two replicas receiving a message for
    the same learner at the same moment can both read the lock, both issue ticket 0 and both
    handle their message at once: Rasa's maintainers call the step "far from atomic"."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._holding = False  # inside one of the atomic steps (they call each other)

    @contextmanager
    def _atomic(self, conversation_id: str) -> Iterator[None]:
        if self._holding:
            yield
            return
        mutex = self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=MUTEX_SECONDS,
            blocking_timeout=2 * MUTEX_SECONDS,
            sleep=0.002,
        )
        with mutex:
            self._holding = True
            try:
                yield
            finally:
                self._holding = False

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._atomic(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._atomic(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._atomic(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._atomic(conversation_id):
            super().cleanup(conversation_id, ticket_number)


def redis_settings(url: str) -> dict:
    """RedisLockStore's keyword arguments for `redis://[[user]:password@]host[:port][/db]`."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("redis", "rediss"):
        raise ValueError(f"LOCK_STORE_URL must start with redis:// or rediss://, not {url!r}")
    return {
        "host": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.path.lstrip("/") or 0),
        "username": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "use_ssl": parsed.scheme == "rediss",
    }


class ConfiguredLockStore(LockStore):
    """The lock store LOCK_STORE_URL and SANIC_WORKERS call for. Rasa builds a custom lock store
    from endpoints.yml as `ConfiguredLockStore(endpoint_config=...)`; __new__ hands back the
    configured store itself, so Rasa sees (and logs) the real store, never a wrapper."""

    def __new__(cls, endpoint_config: EndpointConfig | None = None) -> LockStore:
        settings = load_settings()
        if settings.lock_store_url:
            return AtomicRedisLockStore(**redis_settings(settings.lock_store_url))
        if settings.sanic_workers <= 1:
            # One process: in memory, turns are serialised without a file commit per lock step
            # (about 4% of a message's time, make bench), and a waiting turn is woken directly.
            return WakingInMemoryLockStore()
        return SQLiteLockStore(endpoint_config, db=str(settings.locks_db_path))
