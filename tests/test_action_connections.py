"""Calls to the action server reuse their connection while they come in quick succession, open a
new one once it has been idle for IDLE_SECONDS (before the action server would close it), and
are closed when the Rasa server stops (addons/action_connections.py)."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import rasa.core.run
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic.config import DEFAULT_CONFIG

import addons  # noqa: F401  (installs the extension, as the Rasa server's first addon import does)
from addons.action_connections import IDLE_SECONDS
from common.settings import PROJECT_ROOT
from tests.rasa_support import action_server_stand_in, rasa_without_addons

ANSWER = {"events": [], "responses": [{"text": "Your progress"}]}


@asynccontextmanager
async def action_server() -> AsyncIterator[tuple[str, list[int]]]:
    """A stand-in action server; yields its URL and, per call, the client port it came from."""
    ports: list[int] = []
    async with action_server_stand_in(lambda _call: ANSWER, client_ports=ports) as (url, _):
        yield url, ports


async def call(endpoint: EndpointConfig) -> None:
    tracker = DialogueStateTracker.from_events("learner", [UserUttered("show my progress")])
    action = RemoteAction("action_show_progress", endpoint)
    nlg = TemplatedNaturalLanguageGenerator({})
    await action.run(CollectingOutputChannel(), nlg, tracker, Domain.empty())


async def test_calls_in_quick_succession_share_one_connection():
    async with action_server() as (url, ports):
        endpoint = EndpointConfig(url)
        for _ in range(5):
            await call(endpoint)
        assert len(set(ports)) == 1
        # Rasa's own opens a connection per call.
        with rasa_without_addons():
            for _ in range(5):
                await call(endpoint)
        assert len(set(ports[5:])) == 5


async def test_a_connection_idle_for_longer_than_idle_seconds_is_not_reused():
    assert IDLE_SECONDS < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]  # the action server's Sanic
    async with action_server() as (url, ports):
        endpoint = EndpointConfig(url)
        await call(endpoint)
        await asyncio.sleep(IDLE_SECONDS + 0.5)
        await call(endpoint)
        assert len(set(ports)) == 2


async def test_stopping_the_rasa_server_closes_its_connections():
    async with action_server() as (url, ports):
        endpoint = EndpointConfig(url)
        await call(endpoint)
        async with endpoint.session() as session:
            pass
        assert not session.closed
        # Rasa's after_server_stop listener, as Sanic runs it (no agent loaded here).
        await rasa.core.run.close_resources(SimpleNamespace(ctx=SimpleNamespace()), None)
        assert not session.closed  # another loop's stop leaves this one's open
        await rasa.core.run.close_resources(
            SimpleNamespace(ctx=SimpleNamespace()), asyncio.get_running_loop()
        )
        assert session.closed
        await call(endpoint)  # a later call (another server in the same process) opens anew
        assert len(ports) == 2


def test_a_process_ending_without_stopping_a_server_reports_nothing_left_open():
    """As tests and scripts end: the loop closed, Rasa's listener never ran. (Quiet logs.)"""
    program = "\n".join(
        [
            "import asyncio",
            "from rasa.utils.endpoints import EndpointConfig",
            "from tests.test_action_connections import action_server, call",
            "async def main():",
            "    async with action_server() as (url, _):",
            "        await call(EndpointConfig(url))",
            "asyncio.run(main())",
        ]
    )
    ended = subprocess.run(
        [sys.executable, "-c", program],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,  # only a hang: importing Rasa beside other tests can take a minute
    )
    assert ended.returncode == 0, ended.stderr
    assert "Unclosed" not in ended.stderr
