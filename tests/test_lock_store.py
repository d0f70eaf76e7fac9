"""The SQLite lock store: Rasa's ticket locks, shared by every process that opens the file."""

import asyncio
import multiprocessing
import time

import pytest
from rasa.core.lock_store import LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from addons.lock_store import SQLiteLockStore


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "locks.db")


def _issue_tickets(db: str, count: int, queue) -> None:
    store = SQLiteLockStore(db=db)
    queue.put([store.issue_ticket("same-learner") for _ in range(count)])


def test_rasa_builds_it_from_endpoints_and_allows_several_workers(db, monkeypatch):
    config = EndpointConfig(type="addons.lock_store.SQLiteLockStore", db=db)
    assert isinstance(LockStore.create(config), SQLiteLockStore)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(config) == 2


def test_a_lock_outlives_the_store_object_that_saved_it(db):
    SQLiteLockStore(db=db).issue_ticket("ana")
    lock = SQLiteLockStore(db=db).get_lock("ana")
    assert lock is not None and lock.last_issued == 0


def test_two_processes_never_get_the_same_ticket(db):
    SQLiteLockStore(db=db)  # create the table before the race
    queue = multiprocessing.get_context("spawn").Queue()
    workers = [
        multiprocessing.get_context("spawn").Process(target=_issue_tickets, args=(db, 50, queue))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    tickets = queue.get(timeout=60) + queue.get(timeout=60)
    for worker in workers:
        worker.join()
    assert sorted(tickets) == list(range(100))


def test_turns_of_one_conversation_run_one_after_the_other(db):
    store = SQLiteLockStore(db=db)
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


def test_a_worker_that_died_holding_the_lock_blocks_nobody_for_long(db):
    store = SQLiteLockStore(db=db)
    store.issue_ticket("ana", lock_lifetime=0.3)  # taken by a worker that then crashed

    async def next_turn() -> float:
        started = time.monotonic()
        async with store.lock("ana", wait_time_in_seconds=0.05):
            return time.monotonic() - started

    assert asyncio.run(next_turn()) < 2
