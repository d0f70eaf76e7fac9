"""Slack, through Rasa's Slack channel, configured from the environment.

credentials.yml:
    addons.slack_channel.SlackChannel:
      use_threads: false           # any of Rasa's slack settings except the two secrets

The bot token and signing secret come from SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET. Without them
the server still starts for the other channels, logs one line saying Slack is off, and answers
/webhooks/slack/webhook with 503. (Rasa refuses to start at all when a `${VAR}` in
credentials.yml is unset, which is why the secrets are not written there.)

On top of Rasa's channel:
- A Slack user is the learner `slack:<Slack user id>` (common/learner_ids.py; with the
  `channel` or `thread` granularity, `slack:` before Rasa's id for those), so no other channel
  can address them. Replies still go to the Slack channel the message came from.
- The url_verification challenge is answered as Slack documents it, {"challenge": ...}; Rasa
  answers with a bare JSON string, which Slack's documentation does not list.
- Each Slack delivery is answered once. Slack re-sends an event it thinks
  was lost (X-Slack-Retry-Num); Rasa drops only retries caused by timeouts, so any other retry
  would otherwise produce a second reply. What was answered is kept in SLACK_DELIVERIES_DB_URL
  (default var/slack_deliveries.db), which every worker shares.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Column, Float, MetaData, String, Table

from common.db import engine_for, insert_ignoring_duplicates
from common.learner_ids import SLACK, channel_of, learner_id
from common.settings import load_settings

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on (README, 'Slack')."
)


# Slack retries a delivery within minutes; an hour of memory covers every retry.
DELIVERY_MEMORY_SECONDS = 3600

deliveries_table = Table(
    "slack_deliveries",
    MetaData(),
    Column("key", String(255), primary_key=True),
    Column("seen_at", Float, nullable=False, index=True),
)


class SeenDeliveries:
    """Slack deliveries already answered, in a database every Sanic worker (and replica) shares:
    a retry may reach another worker than the first delivery did."""

    def __init__(self, db_url: str) -> None:
        self._engine = engine_for(db_url)
        deliveries_table.metadata.create_all(self._engine)

    def first_time(self, key: str) -> bool:
        now = time.time()
        with self._engine.begin() as connection:
            connection.execute(
                deliveries_table.delete().where(
                    deliveries_table.c.seen_at < now - DELIVERY_MEMORY_SECONDS
                )
            )
            inserted = connection.execute(
                insert_ignoring_duplicates(
                    self._engine.dialect.name, deliveries_table, {"key": key, "seen_at": now}
                )
            )
        return inserted.rowcount == 1


def delivery_key(request: Request) -> str | None:
    """What identifies one Slack delivery across its retries: the event id, or the click."""
    if request.headers.get("content-type") == "application/json":
        return (request.json or {}).get("event_id")
    form_payload = request.form.get("payload")
    if form_payload:
        payload = json.loads(form_payload)
        return payload.get("trigger_id") or (payload.get("actions") or [{}])[0].get("action_ts")
    return None


SLACK_BUTTONS_PER_BLOCK = 25  # Slack's limit for one actions block


def slack_address(recipient: str) -> str:
    """Where to post for a recipient: a Slack channel as it is; a learner id (what Rasa passes
    when it has no Slack channel, e.g. a message sent through its HTTP API) as the learner's
    Slack user, which Slack takes as their direct-message channel. (Slack ids have no "_", the
    separator of Rasa's `channel` and `thread` conversation ids.)"""
    if channel_of(recipient) != SLACK:
        return recipient
    return recipient.removeprefix(f"{SLACK}:").split("_")[0]


class SlackReplies(SlackBot):
    """Rasa's Slack output, posting to a configurable Web API address.

    - `as_user` is never sent. Rasa sends `as_user=True`, which Slack refuses with
      `invalid_arguments` from apps with a bot token (every app created today): no reply would
      ever arrive.
    - Buttons: Rasa drops every button when there are more than 5 (the help menu has one per
      topic); Slack takes 25 per actions block, so all of them are sent.
    - Never posted to a learner id (slack_address()).
    """

    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
        api_url: str = "https://slack.com/api/",
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, proxy=proxy, base_url=api_url)

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)
        await super()._post_message(slack_address(channel), **kwargs)

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
        channel.api_url = settings.slack_api_url
        channel.deliveries = SeenDeliveries(settings.slack_deliveries_db_url)
        logger.info("Slack is on: events and interactivity at /webhooks/slack/webhook")
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def url_verification(request: Request) -> HTTPResponse | None:
            is_json = request.headers.get("content-type") == "application/json"
            if request.method != "POST" or not is_json:
                return None
            body = request.json
            if isinstance(body, dict) and body.get("type") == "url_verification":
                if not self.is_request_from_slack_authentic(request):
                    return None  # Rasa's handler refuses it
                return response.json({"challenge": body.get("challenge")})
            return None

        return blueprint

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender_id: str | None,
        metadata: dict | None,
    ) -> Any:
        # Called only for signed requests, so a forger cannot use up delivery keys.
        key = delivery_key(request)
        if key and not self.deliveries.first_time(key):
            logger.info("Slack delivered %s again; it was answered already.", key)
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    def _get_conversation_id(
        self, sender_id: str | None, channel_id: str | None, thread_id: str | None
    ) -> str | None:
        """Rasa's conversation id for the granularity, as a learner of this channel."""
        own = super()._get_conversation_id(sender_id, channel_id, thread_id)
        return learner_id(SLACK, own) if own else None

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        return SlackReplies(
            self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_url
        )


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
