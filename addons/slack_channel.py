"""Slack, through Rasa's Slack channel, configured from the environment.

credentials.yml:
    addons.slack_channel.SlackChannel:
      use_threads: false           # any of Rasa's slack settings except the two secrets
      conversation_granularity: sender

The bot token and signing secret come from SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET. Without them
the server still starts for the other channels, logs one line saying Slack is off, and answers
/webhooks/slack/webhook with 503. (Rasa refuses to start at all when a `${VAR}` in
credentials.yml is unset, which is why the secrets are not written there.)

On top of Rasa's channel:
- A Slack user is the learner `slack:<Slack user id>` (common/learner_ids.py; with the
  `channel` or `thread` granularity, `slack:` before Rasa's id for those), so no other channel
  can address them. Replies still go to the Slack channel the message came from.
- Replies are posted apart from handling the message (addons/slack_outbox.py): handling writes
  them into the outbox, so the conversation is saved whatever Slack's API does, and a slow API
  holds no conversation.
- Each Slack event is handled once, and an event whose handling failed is handled again when
  Slack retries it (`answer()`). The record of events replaces Rasa's `errors_ignore_retry`.
- Bad input gets a clear answer: a signed body that is not what Slack sends a 400 with a short
  JSON error (Rasa answered some with a 500), a body over MAX_BODY_BYTES a 413, and text that is
  empty or longer than the other channels take (addons/input_guard.py) the same friendly reply,
  without the NLU.
- The url_verification challenge is answered as Slack documents it, {"challenge": ...}; Rasa
  answers with a bare JSON string, which Slack's documentation does not list.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.goal_reminders import CHECK_IN, GoalReminders
from addons.input_guard import SORRY, readable, reply_instead
from addons.slack_blocks import progress_blocks
from addons.slack_outbox import EventState, Reply, SlackOutbox, SlackSender
from common.learner_ids import SLACK, channel_of, learner_id
from common.settings import load_settings

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on (README, 'Slack')."
)
# Slack's longest message (40,000 characters) fits several times over, as text and again as
# blocks; anything larger is not an event or a click.
MAX_BODY_BYTES = 1_000_000
SLACK_ID = re.compile(r"[A-Z0-9]{2,64}")  # users U024BE7LH, W..., channels D..., C..., G...
SLACK_TS = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")  # a message's time stamp, its id
MAX_KEY_CHARS = 255  # the column that remembers it (addons/slack_outbox.py)
SLACK_BUTTONS_PER_BLOCK = 25  # Slack's limit for one actions block


class Malformed(Exception):
    """A signed body that is not what Slack sends; the message says what is wrong."""


@dataclass(frozen=True)
class Incoming:
    """A learner's message or button click, read from a Slack request."""

    user: str  # the Slack user id
    text: str  # as Slack sent it: what they wrote, or the clicked button's payload
    channel: str | None  # where they wrote it, where the replies go
    thread_ts: str | None
    event_key: str | None  # the same in each of Slack's retries of it
    bot_users: list[str] = field(default_factory=list)  # mentions of the bot, not part of the text

    def metadata(self) -> dict[str, Any]:
        """What Rasa's Slack channel puts in a message's metadata."""
        return {"out_channel": self.channel, "thread_id": self.thread_ts, "users": self.bot_users}


def slack_address(recipient: str) -> str:
    """Where to post for a recipient: a Slack channel as it is; a learner id (what Rasa passes
    when it has no Slack channel, e.g. a message sent through its HTTP API) as the learner's
    Slack user, which Slack takes as their direct-message channel. (Slack ids have no "_", the
    separator of Rasa's `channel` and `thread` conversation ids.)"""
    if channel_of(recipient) != SLACK:
        return recipient
    return recipient.removeprefix(f"{SLACK}:").split("_")[0]


class SlackReplies(SlackBot):
    """Rasa's Slack output, writing each reply into the outbox (in order) instead of posting it.

    - A turn's replies are held under its token until the turn is stored.
    - `as_user` is never sent. Rasa sends `as_user=True`, which Slack refuses with
      `invalid_arguments` from apps with a bot token (every app created today): no reply would
      ever arrive.
    - Buttons: Rasa drops every button when there are more than 5 (the help menu has one per
      topic); Slack takes 25 per actions block, so all of them are sent.
    - The progress view and the list of goals go as blocks (addons/slack_blocks.py).
    """

    def __init__(
        self,
        outbox: SlackOutbox,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        turn: str | None = None,
    ) -> None:
        # Not SlackBot.__init__, which makes a Web API client: posting is the sender's.
        self.outbox = outbox
        self.slack_channel = slack_channel
        self.thread_id = thread_id
        self.turn = turn

    def reply(self, channel: str, **message: Any) -> Reply:
        message.pop("as_user", None)
        if self.thread_id:
            message["thread_ts"] = self.thread_id
        return Reply(slack_address(channel), message)

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        await self.outbox.add(self.reply(channel, **kwargs), self.turn)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        blocks = progress_blocks(text)  # the progress view and goals, drawn as the widget does
        if blocks is None:
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        recipient = self.slack_channel or recipient_id
        await self._post_message(channel=recipient, text=text, blocks=blocks)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        ]
        for start in range(0, len(buttons), SLACK_BUTTONS_PER_BLOCK):
            elements = [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": button["title"][:75]},
                    "value": button["payload"],
                }
                for button in buttons[start : start + SLACK_BUTTONS_PER_BLOCK]
            ]
            blocks.append({"type": "actions", "elements": elements})
        recipient = self.slack_channel or recipient_id
        await self._post_message(channel=recipient, text=text, blocks=blocks)


class SlackChannel(SlackInput):
    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = load_settings()
        if not (settings.slack_bot_token and settings.slack_signing_secret):
            logger.warning(NOT_CONFIGURED)
            return SlackNotConfigured()
        channel = super().from_credentials(
            {
                **(credentials or {}),
                "slack_token": settings.slack_bot_token,
                "slack_signing_secret": settings.slack_signing_secret,
            }
        )
        channel.outbox = SlackOutbox(settings.slack_deliveries_db_url)
        channel.sender = SlackSender(
            channel.outbox, settings.slack_bot_token, settings.slack_api_url, channel.proxy
        )
        channel.reminders = GoalReminders(
            settings.learner_db_url, channel.outbox, settings.goal_reminder_seconds
        )
        logger.info("Slack is on: events and interactivity at /webhooks/slack/webhook")
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("slack_webhook", __name__)

        @blueprint.listener("after_server_start")
        async def start_sending(app, *_: Any) -> None:
            self.sender.start()
            # The check-in's words and buttons are the loaded model's (loaded before start).
            agent = getattr(app.ctx, "agent", None)
            check_in = agent.domain.responses.get(CHECK_IN) if agent and agent.domain else None
            if check_in:
                self.reminders.start(check_in[0], SlackReplies(self.outbox).send_text_with_buttons)
            else:
                logger.warning("No model loaded: goals' reminders on Slack are off.")

        @blueprint.listener("before_server_stop")
        async def stop_sending(*_: Any) -> None:
            await self.reminders.stop()
            await self.sender.stop()

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["GET", "POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if len(request.body) > MAX_BODY_BYTES:
                too_large = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
                return error(f"the body is over {MAX_BODY_BYTES:,} bytes", too_large)
            if not self.is_request_from_slack_authentic(request):
                return error("not signed by Slack (X-Slack-Signature)", HTTPStatus.BAD_REQUEST)
            try:
                incoming = self.read(request)
            except Malformed as problem:
                return error(str(problem), HTTPStatus.BAD_REQUEST)
            if isinstance(incoming, HTTPResponse):
                return incoming
            return await self.answer(incoming, on_new_message)

        return blueprint

    def read(self, request: Request) -> Incoming | HTTPResponse:
        """The learner's message or click in a signed request, or the answer to a request that
        has none (Slack's URL check, a bot's own message, ...)."""
        content_type = (request.content_type or "").split(";")[0].strip()
        if content_type == "application/json":
            try:
                body = json.loads(request.body)
            except ValueError:
                raise Malformed("the body is not JSON") from None
            return self.read_event(body)
        if content_type == "application/x-www-form-urlencoded":
            return self.read_interaction(request.form.get("payload"))
        raise Malformed("expected an Events API body (JSON) or an interactivity form")

    def read_event(self, body: Any) -> Incoming | HTTPResponse:
        if not isinstance(body, dict):
            raise Malformed("an Events API body must be a JSON object")
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge")})
        if body.get("type") == "app_rate_limited":
            logger.warning("Slack is holding back events: the app went over its rate limit.")
            return response.text("")
        event = body.get("event")
        if not isinstance(event, dict):
            raise Malformed('an Events API body needs an "event" object')
        if not self._is_user_message(body):
            return response.text("Not a learner's message: nothing to answer.")
        channel = slack_id(event.get("channel"), "the event's channel", optional=True)
        if not self._is_supported_channel(body, {"out_channel": channel}):
            return response.text("channel not supported.")
        text = event.get("text")
        if not isinstance(text, str):
            raise Malformed("the event's text must be a string")
        # The bot's own user, whose mentions are dropped from the text (as Rasa reads it).
        authorization = _first(body.get("authorizations"))
        bot_users = body.get("authed_users") or [_field(authorization, "user_id")]
        return Incoming(
            user=slack_id(event.get("user"), "the event's user"),
            text=text,
            channel=channel,
            thread_ts=slack_ts(event.get("thread_ts", event.get("ts"))),
            event_key=delivery_key(body.get("event_id")),
            bot_users=[user for user in _list(bot_users) if isinstance(user, str)],
        )

    def read_interaction(self, payload_field: str | None) -> Incoming | HTTPResponse:
        if not payload_field:
            raise Malformed('an interactivity request needs a "payload" field')
        try:
            payload = json.loads(payload_field)
        except ValueError:
            raise Malformed("the payload is not JSON") from None
        if not isinstance(payload, dict):
            raise Malformed("the payload must be a JSON object")
        actions = payload.get("actions")
        if not (isinstance(actions, list) and actions and isinstance(actions[0], dict)):
            raise Malformed('the payload needs "actions", a list of objects')
        user = slack_id(_field(payload, "user", "id"), "the payload's user")
        if not self._is_interactive_message(payload):
            return response.text("This kind of interaction is not used here.")
        try:
            value = self._get_interactive_response(actions[0])
        except (LookupError, AttributeError, TypeError):
            raise Malformed("the action's value is not where Slack puts it") from None
        if value is None:  # a link button, or a menu with nothing chosen
            return response.text("Nothing to answer.")
        if not isinstance(value, str):
            raise Malformed("the action's value must be a string")
        message = payload.get("message")
        message = message if isinstance(message, dict) else {}
        return Incoming(
            user=user,
            text=value,
            channel=slack_id(_field(payload, "channel", "id"), "the channel", optional=True),
            thread_ts=slack_ts(message.get("thread_ts", message.get("ts"))),
            event_key=delivery_key(payload.get("trigger_id") or actions[0].get("action_ts")),
        )

    async def answer(
        self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Handles the message (in the background, as Rasa does: Slack wants its answer within
        3 s), unless its event was handled already."""
        key = incoming.event_key
        if key:
            state = await self.outbox.begin_event(key)
            if state is EventState.ANSWERED:
                logger.info("Slack delivered %s again; it was answered already.", key)
                return response.text("", headers={"X-Slack-No-Retry": "1"})
            if state is EventState.PROCESSING:
                # Slack retries when our answer took over 3 s ("http_timeout"), so the first
                # delivery is usually still being handled. A 200 here would end Slack's
                # retries, and the event would be lost if that handling then failed; a 503
                # leaves it with Slack, which retries again after 1 and 5 minutes, when the
                # first handling has ended: answered (acknowledged then) or failed (handled
                # then). Rasa instead drops every http_timeout retry unseen, which loses the
                # event whenever its first handling fails.
                return response.text("Still answering this event.", status=503)

        sender = self._get_conversation_id(incoming.user, incoming.channel, incoming.thread_ts)
        thread = incoming.thread_ts if self.use_threads else None
        output = SlackReplies(
            self.outbox, incoming.channel or self.slack_channel, thread, turn=uuid.uuid4().hex
        )
        text = incoming.text
        friendly = reply_instead(text)  # before any cleaning: a huge text costs time to clean
        if friendly is None:
            text = readable(self._sanitize_user_message(text, incoming.bot_users))
            friendly = reply_instead(text)
        if friendly is not None:
            await output.send_text_message(sender, friendly)
            await self.outbox.answered(output.turn, key)
            return response.text("")

        message = UserMessage(
            text, output, sender, input_channel=self.name(), metadata=incoming.metadata()
        )
        # Kept referenced until done, so the task is not garbage-collected (asyncio's advice).
        task = asyncio.create_task(self._handle(message, on_new_message, key))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        return response.text("")

    async def _handle(
        self,
        message: UserMessage,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        event_key: str | None,
    ) -> None:
        """Rasa handles the message (on_new_message returns once the turn is stored); then its
        replies are released to the sender and its event is answered. If the handling failed,
        its replies are dropped, the learner gets an apology, and the event is forgotten, so that
        Slack's retry is handled. (A failed save of the conversation never gets here: Rasa's
        FailSafeTrackerStore logs it and keeps the turn in memory instead.)"""
        output: SlackReplies = message.output_channel
        try:
            await on_new_message(message)
            stored = True
        except Exception:
            logger.exception("Could not answer a Slack message of %s.", message.sender_id)
            stored = False
        try:
            if stored:
                await self.outbox.answered(output.turn, event_key)
            else:
                apology = output.reply(output.slack_channel or message.sender_id, text=SORRY)
                await self.outbox.failed(output.turn, event_key, apology)
        except Exception:
            logger.exception(
                "Could not record the end of a turn of %s in the Slack outbox; its replies will"
                " be dropped as those of a turn that never ended.",
                message.sender_id,
            )

    def _get_conversation_id(
        self, sender_id: str | None, channel_id: str | None, thread_id: str | None
    ) -> str | None:
        """Rasa's conversation id for the granularity, as a learner of this channel."""
        own = super()._get_conversation_id(sender_id, channel_id, thread_id)
        return learner_id(SLACK, own) if own else None

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        """For what Rasa sends outside a learner's turn (its HTTP API): posted as soon as the
        sender gets to it."""
        return SlackReplies(self.outbox, channel or self.slack_channel, thread_id)


def error(message: str, status: HTTPStatus) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _field(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]..., or None where a step is missing or not an object."""
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def delivery_key(value: Any) -> str | None:
    """An event's id (or a click's), which Slack's retries of it repeat."""
    if value is not None and not (isinstance(value, str) and 0 < len(value) <= MAX_KEY_CHARS):
        raise Malformed(
            f"an event or trigger id must be a string of 1 to {MAX_KEY_CHARS} characters"
        )
    return value


def slack_id(value: Any, what: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not (isinstance(value, str) and SLACK_ID.fullmatch(value)):
        raise Malformed(f"{what} must be a Slack id")
    return value


def slack_ts(value: Any) -> str | None:
    if value is not None and not (isinstance(value, str) and SLACK_TS.fullmatch(value)):
        raise Malformed("a message's ts must be a Slack time stamp")
    return value


class SlackNotConfigured(InputChannel):
    """Stands where Slack would be, so a misdirected Slack request gets a clear answer."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("slack_not_configured", __name__)

        @blueprint.route("/webhook", methods=["GET", "POST"])
        async def webhook(_: Request) -> HTTPResponse:
            return response.text(NOT_CONFIGURED, status=HTTPStatus.SERVICE_UNAVAILABLE)

        return blueprint
