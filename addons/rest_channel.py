"""Rasa's REST channel (same name, same URL: POST /webhooks/rest/webhook), answering bad input
clearly instead of with a 500, an empty list or a shared "default" conversation.

credentials.yml:
    addons.rest_channel.RestInput:

- A body that is not {"sender": "<id>", "message": "<text>"} gets a 400 with a short JSON error.
  (Rasa itself answered a non-object body with a 500, and a missing sender with the "default"
  conversation that every such client would share.)
- Empty or over-long text gets a friendly reply without running the NLU, and control characters
  are dropped (addons/input_guard.py, shared with the website widget).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.input_guard import apologising, has_unreadable, readable, reply_instead

MAX_SENDER_CHARS = 255  # learners.sender_id is VARCHAR(255); PostgreSQL refuses longer ids
EXPECTED = 'expected {"sender": "<your id>", "message": "<text>"}'


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
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        return '"metadata", when given, must be a JSON object'
    return None


class RestInput(RasaRestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(apologising(on_new_message))

        @blueprint.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
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
            await collector.send_text_message(body["sender"], reply)
            if bool_arg(request, "stream", default=False):
                lines = "".join(json.dumps(m) + "\n" for m in collector.messages)
                return response.text(lines, content_type="text/event-stream")
            return response.json(collector.messages)

        return blueprint

    def _extract_message(self, req: Request) -> str:
        return readable(req.json["message"])

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # the channel is ours to say, not the client's


def bad_request(error: str) -> HTTPResponse:
    return response.json({"error": error}, status=400)
