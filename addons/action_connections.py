"""Calls to the action server reuse their HTTP connections instead of opening new ones each time.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp `ClientSession` for every call
(`async with self.session()`): a new connection pool, a lookup of the action server's host in a
thread, a TCP connection and its teardown, for every custom action, form validation and
`action_ask_*`, on both servers. `install()` replaces `EndpointConfig.session` with one session
kept per endpoint and event loop (each Sanic worker has its own loop), which `async with` enters
and leaves open; `close_resources` (Rasa's `after_server_stop` listener) closes them when the
server stops. Rasa has no hook for this, so both go through addons/rasa_patches.py.

An idle connection is closed after `IDLE_SECONDS`, before the action server's Sanic closes it
(5 s by default): a request sent on a connection the server is closing at that moment would fail
with nothing to tell whether the action ran, and an action is not safe to send twice. So at a
learner's pace each call still opens a connection, as before; under load they are reused.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
from typing import Any

import aiohttp
import rasa.core.run
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

from addons import rasa_patches

IDLE_SECONDS = 2.0

# (loop, what the endpoint's session carries: headers and credentials) -> the open session.
# Rasa gives every action the one endpoint read from endpoints.yml; keying by its contents keeps
# one session however many copies of it are made.
_kept: dict[tuple[asyncio.AbstractEventLoop, str], aiohttp.ClientSession] = {}


def _new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """What Rasa's `session()` makes, with connections kept open while in use."""
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS),
    )


def kept_session(self: EndpointConfig) -> Any:
    """This endpoint's session for the running loop, opened on first use."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop: nothing could keep a session open; Rasa's own
        return rasa_patches.original(EndpointConfig, "session")(self)
    key = (loop, json.dumps([self.headers, self.basic_auth], sort_keys=True, default=str))
    session = _kept.get(key)
    if session is None or session.closed:
        _forget_closed_loops()
        session = _kept[key] = _new_session(self)
    return contextlib.nullcontext(session)  # `async with` gives it and leaves it open


def _forget(keys: list[tuple[asyncio.AbstractEventLoop, str]]) -> None:
    """Drop these sessions, closing their connectors at once: aiohttp would otherwise report
    them as leaked when they are collected."""
    for key in keys:
        session = _kept.pop(key)  # held until its connector is closed, or it warns when freed
        if session.connector is not None:
            session.connector._close()  # aiohttp's synchronous close, which allows a closed loop


def _forget_closed_loops() -> None:
    """The sessions of loops that ended without Rasa's shutdown listener (tests run a loop per
    test): their connections ended with the loop."""
    _forget([key for key in _kept if key[0].is_closed()])


@atexit.register
def _forget_all() -> None:
    """At exit, whatever is still kept (the last test's loop, a server stopped without its
    listener)."""
    _forget(list(_kept))


async def close_sessions(loop: asyncio.AbstractEventLoop) -> None:
    """Close the sessions kept for `loop`."""
    for key in [key for key in _kept if key[0] is loop]:
        await _kept.pop(key).close()


async def close_resources_and_sessions(app: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Rasa's shutdown listener, then the kept sessions of this worker's loop."""
    await rasa_patches.original(rasa.core.run, "close_resources")(app, loop)
    await close_sessions(loop)


PATCHES = [
    rasa_patches.Patch(
        EndpointConfig,
        "session",
        kept_session,
        written_for="3.6.21",
        signature="(self) -> aiohttp.client.ClientSession",
    ),
    rasa_patches.Patch(
        rasa.core.run,
        "close_resources",
        close_resources_and_sessions,
        written_for="3.6.21",
        signature="(app: sanic.app.Sanic, _: asyncio.events.AbstractEventLoop) -> None",
    ),
]


def install() -> None:
    rasa_patches.install(PATCHES)
