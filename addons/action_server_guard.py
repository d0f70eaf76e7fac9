"""A friendly reply, within seconds, when the action server is down or hung.

Rasa 3.6 waits up to 5 minutes for the action server (`DEFAULT_REQUEST_TIMEOUT`, fixed in
`RemoteAction.run`; endpoints.yml's `action_endpoint` takes no timeout), and when the call fails
`MessageProcessor._run_action` logs the error and carries on with no reply: the learner hears
nothing. Rasa offers no hook for either, so `install()` wraps `RemoteAction.run` (every custom
action, form validation and `action_ask_*` goes through it) and `MessageProcessor.handle_message`
(to know which message a call is for), through addons/rasa_patches.py, which checks each against
the installed Rasa first. addons/__init__.py installs them whenever Rasa loads this project's
addons.

The learner is told however the call fails: refused, unreachable, timed out, the connection
lost mid-request (as when a request passes the action server's size limit, docs/operators.md), an
HTTP error, or an answer that is not an action's result. A rejection (ActionExecutionRejection, a
form's "not this one") is no failure: it passes through to Rasa.

A failed call still fails as Rasa expects (it raises a RasaException), so the conversation's
state stays as Rasa leaves it after an action error; a form, for one, carries on at the same
question. Once the learner has been told, the bot listens
(`MessageProcessor._predict_next_with_tracker` is wrapped too): left to the policies, a
conversation whose session start failed matches no rule, and the fallback action would fail in
turn until Rasa's circuit breaker trips. Nothing is remembered between messages: the next one
tries the action server again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from addons import rasa_patches

UNAVAILABLE_REPLY = (
    "Sorry, I can't do that right now: part of me is temporarily unavailable. "
    "Please try again in a minute."
)
# Longest wait for one action. A learner hears back within 3 s even from a hung action server
# (this + parsing and the reply). Actions take well under 0.2 s; a write that waits for a lock
# commits by its deadline (common/db.py, shorter) or not at all, so an action waiting on a lock
# answers before this, and no write lands after the learner was told it failed.
ACTION_TIMEOUT_SECONDS = 2.6

# Whether an action call already failed while handling the current message. One message can
# need several actions (a new session's start, then the answer); after one failed, the others
# fail at once: the learner waits once and is told once.
_failed_in_this_message: ContextVar[list[bool] | None] = ContextVar("failed", default=None)


class ActionServerUnavailable(RasaException):
    """The action server did not run the action; the learner has been told."""


def _failures() -> list[bool]:
    """The current message's flag; a throw-away one outside a message (Rasa's HTTP API)."""
    return _failed_in_this_message.get() or [False]


@contextmanager
def one_message() -> Iterator[None]:
    """Everything run inside handles one learner message."""
    token = _failed_in_this_message.set([False])
    try:
        yield
    finally:
        _failed_in_this_message.reset(token)


async def handle_one_message(
    self: MessageProcessor, message: UserMessage
) -> list[dict[str, Any]] | None:
    """Rasa's handle_message, with the actions it runs knowing they serve one message."""
    with one_message():
        return await rasa_patches.original(MessageProcessor, "handle_message")(self, message)


def listen_once_told(self: MessageProcessor, tracker: DialogueStateTracker) -> PolicyPrediction:
    """Rasa's prediction, or listening once an action failed for this message."""
    if _failures()[0]:
        return PolicyPrediction.for_action_name(self.domain, ACTION_LISTEN_NAME, "guard")
    return rasa_patches.original(MessageProcessor, "_predict_next_with_tracker")(self, tracker)


async def run_or_tell_the_learner(
    self: RemoteAction,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
    domain: Domain,
) -> list[Event]:
    """Rasa's RemoteAction.run within ACTION_TIMEOUT_SECONDS; if it fails, the learner is sent
    UNAVAILABLE_REPLY (once per message) and it raises, as Rasa's does."""
    failed = _failures()
    if failed[0]:
        raise ActionServerUnavailable(f"'{self.name()}' not tried: failed for this message")
    rasa_run = rasa_patches.original(RemoteAction, "run")
    try:
        return await asyncio.wait_for(
            rasa_run(self, output_channel, nlg, tracker, domain), ACTION_TIMEOUT_SECONDS
        )
    except ActionExecutionRejection:
        raise  # the action's own "not me" (e.g. a form's): Rasa handles it
    except Exception as error:
        # However the call failed, the action did not run as Rasa expects. Rasa's own run turns
        # some failures into a RasaException (refused, unreachable, HTTP 5xx) but lets others
        # escape: the ConnectionError of an action server that answers 413 to a request it will
        # not read, the JSON or schema error of an answer that is not an action's result.
        # (asyncio's CancelledError is no Exception: a cancelled message stays cancelled.)
        failed[0] = True
        await output_channel.send_response(tracker.sender_id, {"text": UNAVAILABLE_REPLY})
        raise ActionServerUnavailable(f"'{self.name()}' failed: {error!r}") from error


PATCHES = [
    rasa_patches.Patch(
        RemoteAction,
        "run",
        run_or_tell_the_learner,
        written_for="3.6.21",
        signature=(
            "(self, output_channel: 'OutputChannel', nlg: 'NaturalLanguageGenerator', "
            "tracker: 'DialogueStateTracker', domain: 'Domain') "
            "-> List[rasa.shared.core.events.Event]"
        ),
    ),
    rasa_patches.Patch(
        MessageProcessor,
        "handle_message",
        handle_one_message,
        written_for="3.6.21",
        signature=(
            "(self, message: rasa.core.channels.channel.UserMessage) "
            "-> Optional[List[Dict[str, Any]]]"
        ),
    ),
    rasa_patches.Patch(
        MessageProcessor,
        "_predict_next_with_tracker",
        listen_once_told,
        written_for="3.6.21",
        signature=(
            "(self, tracker: rasa.shared.core.trackers.DialogueStateTracker) "
            "-> rasa.core.policies.policy.PolicyPrediction"
        ),
    ),
]


def install() -> None:
    rasa_patches.install(PATCHES)
