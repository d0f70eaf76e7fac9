"""The Rasa server's guard around the action server: a friendly reply within seconds when the
action server refuses, hangs or fails; Rasa's own behaviour when it answers.

The replaced RemoteAction.run is compared with Rasa's own (addons/rasa_patches.py keeps it) on
the same calls to a local stand-in for the action server."""

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import jsonschema
import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

import addons  # noqa: F401  (installs the guard, as the Rasa server's first addon import does)
from addons.action_server_guard import (
    ACTION_TIMEOUT_SECONDS,
    UNAVAILABLE_REPLY,
    ActionServerUnavailable,
    one_message,
)
from common.db import WRITE_DEADLINE_SECONDS
from scripts.local_servers import free_port
from tests.rasa_support import action_server_stand_in, rasa_without_addons


@pytest.fixture
def channel() -> CollectingOutputChannel:
    """What the learner is sent."""
    return CollectingOutputChannel()


def sent(channel: CollectingOutputChannel) -> list[str]:
    return [message["text"] for message in channel.messages]


async def run_action(url: str, channel: CollectingOutputChannel, text="show my progress") -> list:
    """Rasa runs a custom action on the action server at `url`, for a conversation whose last
    message is `text`; returns its events."""
    tracker = DialogueStateTracker.from_events("learner", [UserUttered(text)])
    action = RemoteAction("action_show_progress", EndpointConfig(url))
    nlg = TemplatedNaturalLanguageGenerator({})
    return await action.run(channel, nlg, tracker, Domain.empty())


def action_server(status: int, body: dict):
    """A stand-in action server answering every call with `status` and `body`; yields its URL
    and the list of calls it received."""
    return action_server_stand_in(lambda _call: body, status)


def described(events: list) -> list[dict]:
    """Events as Rasa serialises them, less the time they were made at."""
    return [{k: v for k, v in event.as_dict().items() if k != "timestamp"} for event in events]


async def test_an_action_server_that_is_not_running_gets_a_friendly_reply(channel):
    with one_message(), pytest.raises(ActionServerUnavailable) as refused:
        await run_action(f"http://127.0.0.1:{free_port()}/webhook", channel)
    assert sent(channel) == [UNAVAILABLE_REPLY]
    assert not isinstance(refused.value.__cause__, asyncio.TimeoutError)  # refused, not waited


async def test_a_hung_action_server_is_given_up_on_in_time(channel):
    with socket.socket() as hung, one_message():  # the kernel accepts; nothing ever answers
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        url = f"http://127.0.0.1:{hung.getsockname()[1]}/webhook"
        # Given up on by the guard's own time limit (the outer limit only keeps a broken guard
        # from hanging the test run).
        with pytest.raises(ActionServerUnavailable) as given_up:
            await asyncio.wait_for(run_action(url, channel), 30)
        assert isinstance(given_up.value.__cause__, asyncio.TimeoutError)
        assert sent(channel) == [UNAVAILABLE_REPLY]

        # Another action for the same message (say, after a new session's start) is not tried
        # at all, so it neither waits nor repeats the reply.
        with pytest.raises(ActionServerUnavailable, match="not tried"):
            await run_action(url, channel)
        assert sent(channel) == [UNAVAILABLE_REPLY]


async def test_a_failing_action_gets_a_friendly_reply_and_the_next_message_tries_again(channel):
    async with action_server(500, {"error": "database is locked"}) as (url, calls):
        with one_message():
            for _ in range(2):
                with pytest.raises(ActionServerUnavailable):
                    await run_action(url, channel)
        assert len(calls) == 1  # the second action for the message was not tried
        with one_message(), pytest.raises(ActionServerUnavailable):
            await run_action(url, channel)
        assert len(calls) == 2
    assert sent(channel) == [UNAVAILABLE_REPLY, UNAVAILABLE_REPLY]


async def test_once_the_learner_is_told_the_bot_listens(channel):
    # A new learner's session start failed: no rule matches what is left of the conversation,
    # and the policies' fallback would fail in turn until Rasa's circuit breaker trips.
    processor = SimpleNamespace(domain=Domain.from_dict({"actions": ["action_clarify"]}))
    tracker = DialogueStateTracker.from_events("learner", [UserUttered("show my progress")])
    with one_message():
        with pytest.raises(ActionServerUnavailable):
            await run_action(f"http://127.0.0.1:{free_port()}/webhook", channel)
        prediction = MessageProcessor._predict_next_with_tracker(processor, tracker)
    listen = processor.domain.index_for_action("action_listen")
    assert prediction.max_confidence_index == listen
    assert prediction.max_confidence == 1.0


# Side by side with Rasa's own RemoteAction.run, on the same action server.

ANSWER = {
    "events": [{"event": "slot", "name": "target_role", "value": "cpm"}],
    "responses": [{"text": "Your progress", "buttons": [{"title": "More", "payload": "/more"}]}],
}


async def test_an_answer_gives_the_events_and_messages_rasa_gives():
    rasa_channel, guarded_channel = CollectingOutputChannel(), CollectingOutputChannel()
    async with action_server(200, ANSWER) as (url, calls):
        with rasa_without_addons():
            by_rasa = await run_action(url, rasa_channel)
        with one_message():
            guarded = await run_action(url, guarded_channel)
    assert len(calls) == 2
    assert [type(event).__name__ for event in by_rasa] == ["BotUttered", "SlotSet"]
    assert described(guarded) == described(by_rasa)
    # Rasa sends an action's replies after it ran, from the BotUttered events.
    assert guarded_channel.messages == rasa_channel.messages == []


async def test_a_rejection_is_raised_as_rasa_raises_it(channel):
    rejection = {"action_name": "validate_onboarding_form", "error": "not this one"}
    async with action_server(400, rejection) as (url, _):
        with rasa_without_addons(), pytest.raises(ActionExecutionRejection):
            await run_action(url, channel)
        with one_message(), pytest.raises(ActionExecutionRejection):
            await run_action(url, channel)
    assert sent(channel) == []


@asynccontextmanager
async def failing_action_server(failure: str):
    """The URL of an action server that is not running, or that fails with HTTP 500."""
    if failure == "not running":
        yield f"http://127.0.0.1:{free_port()}/webhook"
    else:
        async with action_server(500, {"error": "database is locked"}) as (url, _):
            yield url


@pytest.mark.parametrize("failure", ["not running", "HTTP 500"])
async def test_a_failure_raises_as_in_rasa_and_the_learner_is_told(failure):
    rasa_channel, guarded_channel = CollectingOutputChannel(), CollectingOutputChannel()
    async with failing_action_server(failure) as url:
        with rasa_without_addons(), pytest.raises(RasaException):
            await run_action(url, rasa_channel)
        with one_message(), pytest.raises(RasaException):
            await run_action(url, guarded_channel)
    assert sent(rasa_channel) == []
    assert sent(guarded_channel) == [UNAVAILABLE_REPLY]


# Every other way the call can fail. Rasa's own RemoteAction.run lets several of them escape as
# something other than a RasaException (finding 1: a tracker too large for the action server ended
# in a ConnectionError, and the learner heard nothing, on every message after).

# Larger than the kernel's socket buffers on the loopback, so the request is still being sent
# when the action server answers or hangs up.
LARGE_TRACKER_TEXT = "x" * 16_000_000


def http_response(status: str, body: str, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return (head + body).encode()


TOO_LARGE = http_response("413 Request Entity Too Large", "")


@asynccontextmanager
async def raw_action_server(answer: bytes | None, reset: bool = False) -> AsyncIterator[str]:
    """An action server that reads only the request's headers, then sends `answer` (raw HTTP) and
    closes the connection; reset=True closes it with a TCP reset. Yields its webhook URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if answer:
            writer.write(answer)
            await writer.drain()
        if reset:  # SO_LINGER with a zero timeout: close() sends RST, not FIN
            linger = struct.pack("ii", 1, 0)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/webhook"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("answer", "reset", "text", "raised_by_rasa"),
    [
        # The action server's request size limit (Sanic's 413), answered before a large request
        # was read: aiohttp's write fails with Python's ConnectionError.
        (TOO_LARGE, False, LARGE_TRACKER_TEXT, ConnectionError),
        (TOO_LARGE, False, "show my progress", RasaException),
        (None, False, LARGE_TRACKER_TEXT, RasaException),  # hangs up mid-request
        (None, True, LARGE_TRACKER_TEXT, RasaException),  # resets the connection mid-request
        (None, False, "show my progress", RasaException),  # hangs up without an answer
        (b"NOT HTTP\r\n\r\n", False, "show my progress", RasaException),
        (http_response("400 Bad Request", "oops", "text/plain"), False, "hi", ValueError),
        (http_response("400 Bad Request", '{"error": "no action name"}'), False, "hi", KeyError),
        (http_response("200 OK", "{not json"), False, "hi", ValueError),
        (http_response("200 OK", "[]"), False, "hi", jsonschema.ValidationError),
        (http_response("200 OK", '{"events": [{"event": "what"}]}'), False, "hi", Exception),
    ],
    ids=[
        "413 to a large request",
        "413",
        "hangs up mid-request",
        "resets mid-request",
        "hangs up",
        "not HTTP",
        "400 not JSON",
        "400 not a rejection",
        "200 not JSON",
        "200 not an action result",
        "200 unknown events",
    ],
)
async def test_every_failed_call_gets_the_friendly_reply(answer, reset, text, raised_by_rasa):
    rasa_channel, guarded_channel = CollectingOutputChannel(), CollectingOutputChannel()
    async with raw_action_server(answer, reset) as url:
        with rasa_without_addons(), pytest.raises(raised_by_rasa):
            await run_action(url, rasa_channel, text)
        with one_message(), pytest.raises(ActionServerUnavailable):
            await run_action(url, guarded_channel, text)
    assert sent(rasa_channel) == []  # Rasa alone: silence
    assert sent(guarded_channel) == [UNAVAILABLE_REPLY]


def test_a_learner_hears_back_within_3_seconds_and_a_write_ends_before_rasa_gives_up():
    # Parsing, prediction and the reply take about 0.1 s (more on a busy machine).
    assert ACTION_TIMEOUT_SECONDS <= 2.7
    # A write commits by its deadline, counted from the action's start, or not at all
    # (common/db.py), so none lands after the learner was told something failed, and the action
    # can still say "couldn't save that" itself: a second is left for sending the request and the
    # answer, and for the Rasa server's event loop, busy with other learners' messages.
    assert WRITE_DEADLINE_SECONDS + 1.0 <= ACTION_TIMEOUT_SECONDS
