"""The website widget's channel: Rasa's socket.io channel, plus the widget's own files.

credentials.yml:
    addons.website_widget.WebsiteWidgetInput:
      session_persistence: true    # any of Rasa's socketio settings

What it adds to Rasa's `socketio` channel:
- It serves the widget under /webhooks/widget/: the embeddable script (coach-widget.js), the
  socket.io client it loads (installed from npm into widget/node_modules), and a demo page (/).
  One server, one port: what a site owner points the script tag at also answers the chat.
- With `session_persistence: true`, conversation ids are issued by the server (random 128 bits)
  and checked: a browser can resume its own conversation after a reload, but cannot name a Slack
  user's or a shell user's id, and cannot send into a conversation it did not open with
  `session_request`. Conversation ids are stored as `web-<id>`.
- A message that is not text, empty or too long gets a friendly reply without running the NLU,
  as over REST (addons/input_guard.py); a failure gets an apology, never a dead handler.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from addons.input_guard import apologising, readable, reply_instead

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
SOCKET_IO_CLIENT = WIDGET_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
SENDER_PREFIX = "web-"  # widget conversations never share an id with Slack or shell ones
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


def sender_id_for(session_id: str) -> str:
    return SENDER_PREFIX + session_id


def accepted_session_id(requested: Any) -> str:
    """The widget's own id when it is one this server could have issued, else a new one."""
    if isinstance(requested, str) and SESSION_ID.match(requested):
        return requested
    return uuid.uuid4().hex


class WebsiteWidgetInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"  # the channel name Rasa records on each message

    def url_prefix(self) -> str:
        return "widget"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's socket.io server leaves CORS to Sanic (`rasa run --cors ...`).
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self.sio = sio  # get_output_channel() needs it
        blueprint = SocketBlueprint(sio, self.socketio_path, "website_widget", __name__)
        sessions: dict[str, str] = {}  # socket id -> conversation (sender) id
        answer = apologising(on_new_message)

        @blueprint.route("/", methods=["GET"])
        async def demo_page(_: Request) -> HTTPResponse:
            return await response.file(WIDGET_DIR / "index.html")

        @blueprint.route("/coach-widget.js", methods=["GET"])
        async def widget_script(_: Request) -> HTTPResponse:
            return await response.file(
                WIDGET_DIR / "coach-widget.js", mime_type="text/javascript; charset=utf-8"
            )

        @blueprint.route("/socket.io.min.js", methods=["GET"])
        async def socket_io_client(_: Request) -> HTTPResponse:
            if not SOCKET_IO_CLIENT.exists():
                logger.error("The widget's socket.io client is missing: run `make widget`.")
                return response.text("socket.io client not installed", status=404)
            return await response.file(SOCKET_IO_CLIENT, mime_type="text/javascript")

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            sessions.pop(sid, None)

        # A client may emit an event with no data or with several arguments: take the first.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            # Without session_persistence every connection starts a new conversation.
            session_id = accepted_session_id(requested if self.session_persistence else None)
            sessions[sid] = sender_id_for(session_id)
            # Replies go to the conversation's room, so every open tab of it sees them.
            sio.enter_room(sid, sessions[sid], namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            sender_id = sessions.get(sid)
            if sender_id is None:
                logger.info("Ignored a widget message sent before session_request.")
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message") if isinstance(data, dict) else None
            reply = reply_instead(text)
            if reply is not None:
                await output.send_text_message(sid, reply)  # to this tab only: nothing was stored
                return
            await answer(UserMessage(readable(text), output, sender_id, input_channel=self.name()))

        return blueprint
