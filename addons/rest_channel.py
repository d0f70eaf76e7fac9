"""Rasa's REST channel (same name, same URL: POST /webhooks/rest/webhook), for trusted callers
only, answering bad input clearly instead of with a 500, an empty list or a shared "default"
conversation.

credentials.yml:
    addons.rest_channel.RestInput:

- REST is off unless REST_API_TOKEN is set (common/settings.py): every request then needs
  `Authorization: Bearer <token>`. Without the variable every request gets a 403 saying how to
  turn REST on; with a missing or wrong token, a 401. (Rasa's channel answered anyone who could
  reach the port, for any sender.)
- The sender is the caller's own id for the learner: the conversation is `rest:<sender>`
  (common/learner_ids.py), so a REST caller can never address a Slack, widget or terminal
  learner, whatever it sends.
- A body over MAX_BODY_BYTES gets a 413 before it is parsed; one that is not
  {"sender": "<id>", "message": "<text>"} (with optional "metadata" of at most
  MAX_METADATA_BYTES) gets a 400 with a short JSON error. Nothing of a refused request is stored.
  (Rasa itself stored any metadata, answered a non-object body with a 500, and a missing sender
  with the "default" conversation that every such client would share.)
- Empty or over-long text gets a friendly reply without running the NLU, and control characters
  are dropped; a learner with MAX_UNANSWERED messages unanswered is asked to slow down
  (addons/input_guard.py, shared with the website widget).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.input_guard import (
    MAX_BODY_BYTES,
    MAX_METADATA_BYTES,
    Unanswered,
    apologising,
    has_unreadable,
    pacing,
    readable,
    reply_instead,
)
from common.learner_ids import REST, learner_id
from common.settings import load_settings

logger = logging.getLogger(__name__)

# Learner ids are VARCHAR(255) in both databases (PostgreSQL refuses longer ones), prefix included.
MAX_SENDER_CHARS = 255 - len(learner_id(REST, ""))
EXPECTED = 'expected {"sender": "<your id>", "message": "<text>"}'
REST_OFF = (
    "REST is off on this server. To turn it on, set REST_API_TOKEN in the Rasa server's "
    'environment; callers then send "Authorization: Bearer <token>" (docs/channels.md, "REST").'
)
NEEDS_TOKEN = 'send the REST token (REST_API_TOKEN) as "Authorization: Bearer <token>"'


def caller_problem(authorization: str | None, token: str) -> tuple[HTTPStatus, str] | None:
    """Why a request with this Authorization header is refused (status and a short error) when
    the server's REST token is `token`; None when it may go on."""
    if not token:
        return HTTPStatus.FORBIDDEN, REST_OFF
    scheme, _, credentials = (authorization or "").partition(" ")
    presented = credentials.encode("utf-8", "replace")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented, token.encode()):
        return HTTPStatus.UNAUTHORIZED, NEEDS_TOKEN
    return None


def request_problem(body: Any) -> str | None:
    """What is wrong with a webhook request body, in one short sentence; None when it is fine."""
    if not isinstance(body, dict):
        return f"the body must be a JSON object: {EXPECTED}"
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        return f'"sender" must be a non-empty string: {EXPECTED}'
    if len(sender) > MAX_SENDER_CHARS or has_unreadable(sender):
        return f'"sender" must be at most {MAX_SENDER_CHARS} characters, without control characters'
    if not isinstance(body.get("message"), str):
        return f'"message" must be a string: {EXPECTED}'
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return '"metadata", when given, must be a JSON object'
    if metadata and len(json.dumps(metadata, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        return f'"metadata" must be at most {MAX_METADATA_BYTES:,} bytes as JSON'
    return None


class RestInput(RasaRestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(pacing(apologising(on_new_message), Unanswered()))
        token = load_settings().rest_api_token
        if token:
            logger.info("REST is on, for callers with the token: /webhooks/rest/webhook")
        else:
            logger.info("REST is off: set REST_API_TOKEN to turn it on (docs/channels.md, 'REST').")

        @blueprint.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            refused = caller_problem(request.headers.get("authorization"), token)
            if refused:
                status, error = refused
                challenge = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                return response.json({"error": error}, status=status, headers=challenge)
            if len(request.body) > MAX_BODY_BYTES:
                return response.json(
                    {"error": f"the body must be at most {MAX_BODY_BYTES:,} bytes: {EXPECTED}"},
                    status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                )
            try:
                body = request.json
            except SanicException:
                return bad_request(f"the body is not valid JSON: {EXPECTED}")
            problem = request_problem(body)
            if problem:
                return bad_request(problem)
            reply = reply_instead(body["message"])
            if reply is None:
                return None  # on to Rasa's handler
            collector = CollectingOutputChannel()
            await collector.send_text_message(learner_id(REST, body["sender"]), reply)
            if bool_arg(request, "stream", default=False):
                lines = "".join(json.dumps(m) + "\n" for m in collector.messages)
                return response.text(lines, content_type="text/event-stream")
            return response.json(collector.messages)

        return blueprint

    async def _extract_sender(self, req: Request) -> str:
        return learner_id(REST, req.json["sender"])  # the channel says whose, never the caller

    def _extract_message(self, req: Request) -> str:
        return readable(req.json["message"])

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # the channel is ours to say, not the client's


def bad_request(error: str) -> HTTPResponse:
    return response.json({"error": error}, status=400)
