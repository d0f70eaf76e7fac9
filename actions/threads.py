"""Actions run in threads, so that no database wait holds up the action server's event loop.

rasa_sdk runs every action as a coroutine on one asyncio event loop, but the actions' work is
plain synchronous code over SQLAlchemy: the knowledge base, and the learner database, where a
write can wait for another connection's lock until its deadline. Waiting on the event loop, it
would stall every other learner's action: "show my progress" would pass the Rasa server's wait
behind a write it has nothing to do with. So each action's `run` is a plain function decorated
with `@in_a_thread`: rasa_sdk awaits it while it runs in a thread of its own.

The deadline of the action's writes (common/db.py) starts when the action is called, so that a
write, waits for locks included, ends before the Rasa server gives up on the action.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common.db import WRITE_DEADLINE_SECONDS, writes_due_by

# Threads that run actions. A thread waiting for a lock sleeps, for at most a write's deadline
# (1.5 s); every other action takes milliseconds. 32 keep the read-only actions answering while
# up to 30 writes wait at once, that is, while more than 13 writes a second arrive for as long as
# the database stays locked: far more than one action server is sent. (asyncio's default pool
# has 6 threads on 2 cores: 6 waiting writes would queue every other action behind them.)
# Threads are started only when needed.
ACTION_THREADS = 32
_threads = ThreadPoolExecutor(ACTION_THREADS, thread_name_prefix="action")


def in_a_thread(run: Callable[..., list[dict[str, Any]]]):
    """An action's `run`, written as a plain function, run in a thread of its own while the event
    loop serves other learners; its writes are due WRITE_DEADLINE_SECONDS after the call."""

    @functools.wraps(run)
    async def run_in_a_thread(action, dispatcher, tracker, domain) -> list[dict[str, Any]]:
        deadline = time.monotonic() + WRITE_DEADLINE_SECONDS
        loop = asyncio.get_running_loop()
        arguments = (action, dispatcher, tracker, domain)
        return await loop.run_in_executor(_threads, _run_by, deadline, run, arguments)

    run_in_a_thread.runs_in_a_thread = True
    return run_in_a_thread


def _run_by(deadline: float, run: Callable[..., Any], arguments: tuple) -> Any:
    with writes_due_by(deadline):
        return run(*arguments)
