"""The lock stores: Rasa's ticket locks, in memory for one process, shared by every process that
opens the SQLite file, or by every replica that reaches the Redis server (when redis-server is
installed; .ci/run installs it). LOCK_STORE_URL and SANIC_WORKERS pick between them. A waiting turn
starts when the one before ends, not at Rasa's next once-a-second look."""

import asyncio
import multiprocessing
import os
import shutil
import subprocess
import time
from queue import Empty

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from addons.lock_store import (
    AtomicRedisLockStore,
    ConfiguredLockStore,
    SQLiteLockStore,
    WakingInMemoryLockStore,
)
from scripts.local_servers import free_port

CONFIGURED = EndpointConfig(type="addons.lock_store.ConfiguredLockStore")  # as in endpoints.yml


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A throw-away Redis server on loopback, without persistence."""
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server (apt-get install redis-server; .ci/run installs it)")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not _answers(url):
        assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
        time.sleep(0.05)
    yield url
    server.terminate()
    server.wait()


def _answers(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        return False


def configure(kind: str, request, tmp_path, monkeypatch) -> str:
    """Set LOCK_STORE_URL and SANIC_WORKERS as an operator does for `kind` of deployment: one
    worker ("memory"), several workers on one machine ("sqlite": the file in the var folder),
    several replicas ("redis"). Returns LOCK_STORE_URL."""
    monkeypatch.setenv("COACH_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SANIC_WORKERS", "1" if kind == "memory" else "2")
    if kind != "redis":
        monkeypatch.delenv("LOCK_STORE_URL", raising=False)
        return ""
    url = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()
    monkeypatch.setenv("LOCK_STORE_URL", url)
    return url


@pytest.fixture(params=["sqlite", "redis"])
def where(request, tmp_path, monkeypatch) -> str:
    """LOCK_STORE_URL as an operator sets it for several workers: unset (a SQLite file in the var
    folder, which they share) or Redis."""
    return configure(request.param, request, tmp_path, monkeypatch)


def open_store() -> LockStore:
    """The store a Rasa process builds from endpoints.yml with the settings in its environment."""
    return LockStore.create(CONFIGURED)


def _issue_tickets(var_dir: str, lock_store_url: str, count: int, start, queue) -> None:
    """Another Rasa process, with the same settings. Importing Rasa takes each of them seconds (more
    on a busy machine), so they wait for each other at `start` to issue their tickets together."""
    os.environ.update(COACH_VAR_DIR=var_dir, LOCK_STORE_URL=lock_store_url, SANIC_WORKERS="2")
    store = open_store()
    start.wait(timeout=600)
    queue.put([store.issue_ticket("same-learner") for _ in range(count)])


@pytest.mark.parametrize("workers", [None, "1", "0", "many"])
def test_unset_with_one_worker_it_is_an_in_memory_store(workers, tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    if workers is None:
        monkeypatch.delenv("SANIC_WORKERS", raising=False)
    else:
        monkeypatch.setenv("SANIC_WORKERS", workers)  # Rasa runs one worker for each of these
    assert number_of_sanic_workers(CONFIGURED) == 1
    store = LockStore.create(CONFIGURED)
    assert isinstance(store, WakingInMemoryLockStore) and isinstance(store, InMemoryLockStore)
    assert not (tmp_path / "locks.db").exists()


def test_unset_with_several_workers_it_is_the_sqlite_file_in_the_var_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    store = LockStore.create(CONFIGURED)
    assert isinstance(store, SQLiteLockStore)
    assert store._engine.url.database == str(tmp_path / "locks.db")


def test_a_redis_url_gives_rasas_redis_store_on_that_server(monkeypatch):
    monkeypatch.setenv("LOCK_STORE_URL", "redis://:s%40cret@redis.internal:6380/2")
    store = LockStore.create(CONFIGURED)
    assert isinstance(store, AtomicRedisLockStore)
    settings = store.red.connection_pool.connection_kwargs
    assert (settings["host"], settings["port"], settings["db"]) == ("redis.internal", 6380, 2)
    assert settings["password"] == "s@cret"


def test_a_url_of_another_kind_is_refused(monkeypatch):
    monkeypatch.setenv("LOCK_STORE_URL", "memcached://127.0.0.1")
    with pytest.raises(ValueError, match="redis://"):
        ConfiguredLockStore()


def test_rasa_allows_several_workers_with_either(where, monkeypatch):
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(CONFIGURED) == 2


def test_a_lock_outlives_the_store_object_that_saved_it(where):
    open_store().issue_ticket("ana")
    lock = open_store().get_lock("ana")
    assert lock is not None and lock.last_issued == 0


def test_two_processes_never_get_the_same_ticket(where, tmp_path):
    open_store()  # create the SQLite table before the race
    spawn = multiprocessing.get_context("spawn")
    start, queue = spawn.Barrier(2), spawn.Queue()
    workers = [
        spawn.Process(target=_issue_tickets, args=(str(tmp_path), where, 50, start, queue))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        tickets = _results(workers, queue)
    finally:
        for worker in workers:
            worker.kill()  # a no-op for those that ended
            worker.join()
    assert sorted(tickets) == list(range(100))


def _results(workers, queue, give_up_after: float = 600) -> list[int]:
    """What every worker put on `queue`, failing at once if one died without it. How long a
    process takes to import Rasa depends on the machine's load, so only a hang is cut short."""
    results: list[int] = []
    answered, deadline = 0, time.monotonic() + give_up_after
    while answered < len(workers):
        try:
            results += queue.get(timeout=1)
            answered += 1
        except Empty:
            died = [worker.exitcode for worker in workers if worker.exitcode not in (None, 0)]
            assert not died, f"a worker died with exit code {died[0]}"
            assert time.monotonic() < deadline, f"{answered} of {len(workers)} answered"
    return results


def test_turns_of_one_conversation_run_one_after_the_other(where):
    store = open_store()
    order: list[str] = []

    async def turn(name: str) -> None:
        async with store.lock("ana", wait_time_in_seconds=0.01):
            order.append(f"{name} starts")
            await asyncio.sleep(0.05)
            order.append(f"{name} ends")

    async def both() -> None:
        await asyncio.gather(turn("first"), turn("second"))

    asyncio.run(both())
    assert order == ["first starts", "first ends", "second starts", "second ends"]
    assert store.get_lock("ana") is None  # cleaned up once nobody waits


def test_a_worker_that_died_holding_the_lock_blocks_nobody_for_long(where):
    store = open_store()
    store.issue_ticket("ana", lock_lifetime=0.3)  # taken by a worker that then crashed

    async def next_turn() -> None:
        async with store.lock("ana", wait_time_in_seconds=0.05):
            pass

    # The dead worker's ticket expires, so the next turn gets the lock. The timeout only stops a
    # store that kept the ticket from hanging the test (Rasa's lock waits on such a ticket).
    asyncio.run(asyncio.wait_for(next_turn(), timeout=30))


# --- waiting for a turn -----------------------------------------------------------------------

# Rasa waits this long between looks at a lock that is taken (LockStore.lock's default is 1 s).
# Set to an hour here, a turn that waited for Rasa's next look would never start within the test.
RASAS_LOOK_INTERVAL = 3600


@pytest.fixture(params=["memory", "sqlite", "redis"])
def any_store(request, tmp_path, monkeypatch) -> LockStore:
    """The store of each kind of deployment."""
    configure(request.param, request, tmp_path, monkeypatch)
    return open_store()


def run_turns(*turns) -> None:
    """Run turns (coroutines) at once; the timeout only keeps a store that never lets the next
    turn in from hanging the run."""

    async def together() -> None:
        await asyncio.gather(*turns)

    asyncio.run(asyncio.wait_for(together(), timeout=30))


def test_a_waiting_turn_starts_as_soon_as_the_one_before_ends(any_store):
    order: list[str] = []

    async def turn(name: str) -> None:
        async with any_store.lock("ana", wait_time_in_seconds=RASAS_LOOK_INTERVAL):
            order.append(f"{name} starts")
            await asyncio.sleep(0.05)
            order.append(f"{name} ends")

    run_turns(turn("first"), turn("second"), turn("third"))
    assert order == [
        "first starts", "first ends", "second starts", "second ends", "third starts", "third ends"
    ]  # fmt: skip
    assert any_store.get_lock("ana") is None


def test_a_turn_whose_ticket_expires_while_it_waits_is_refused_at_once(any_store):
    """Its message is answered with an apology (addons/input_guard.apologising) instead of
    waiting, unanswered, for as long as other turns keep the lock."""
    refused: list[LockError] = []

    async def long_turn(started: asyncio.Event, done: asyncio.Event) -> None:
        async with any_store.lock("ana", wait_time_in_seconds=0.05):
            started.set()
            await done.wait()

    async def short_lived_turn(started: asyncio.Event, done: asyncio.Event) -> None:
        await started.wait()
        try:
            async with any_store.lock("ana", lock_lifetime=0.2, wait_time_in_seconds=0.05):
                pass
        except LockError as error:
            refused.append(error)
        finally:
            done.set()

    async def both() -> None:
        started, done = asyncio.Event(), asyncio.Event()
        await asyncio.gather(long_turn(started, done), short_lived_turn(started, done))

    run_turns(both())
    assert len(refused) == 1
    assert any_store.get_lock("ana") is None
