"""The website widget's channel: Rasa's socket.io channel, plus the widget's own files.

credentials.yml:
    addons.website_widget.WebsiteWidgetInput:
      session_persistence: true    # any of Rasa's socketio settings

What it adds to Rasa's `socketio` channel:
- It serves the widget under /webhooks/widget/: the embeddable script (coach-widget.js), the
  socket.io client it loads (installed from npm into widget/node_modules), and a demo page (/).
  One server, one port: what a site owner points the script tag at also answers the chat.
- Conversation ids are issued by the server (random 128 bits) and recorded in the conversation
  store's database (WidgetSessions, shared by replicas). With `session_persistence: true` a
  browser resumes its own conversation after a reload by the id it was given; any other id (one
  never issued, or an issued one with anything added) gets a new conversation. A browser cannot
  name a Slack user's or a shell user's id, and cannot send into a conversation it did not open
  with `session_request`. The learner is `web:<id>` (common/learner_ids.py).
- Only the text of a message reaches the conversation: anything else the client sends with it
  (Rasa's socket.io channel stored its `metadata`, of any size) is dropped. engine.io refuses a
  WebSocket message or polling request over MAX_BODY_BYTES.
- A message that is not text, empty or too long gets a friendly reply without running the NLU,
  as over REST, and a learner with MAX_UNANSWERED messages unanswered is asked to slow down, both
  in the tab that sent it (addons/input_guard.py); a failure gets an apology, never a dead
  handler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from engineio.payload import Payload
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from addons.input_guard import (
    MAX_BODY_BYTES,
    SLOW_DOWN,
    Unanswered,
    apologising,
    readable,
    reply_instead,
)
from addons.tracker_store import SESSION_ID, WidgetSessions
from common.db import engine_for
from common.learner_ids import WEB, learner_id
from common.settings import load_settings

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
SOCKET_IO_CLIENT = WIDGET_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def accepted_session_id(requested: Any, sessions: WidgetSessions) -> str:
    """The widget's own id when this server issued it, exactly; else a newly issued one."""
    if (
        isinstance(requested, str)
        and SESSION_ID.fullmatch(requested)
        and sessions.issued(requested)
    ):
        return requested
    return sessions.issue()


class WebsiteWidgetInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"  # the channel name Rasa records on each message

    def url_prefix(self) -> str:
        return "widget"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # engine.io decodes at most 16 packets from one long-polling request and drops the whole
        # request beyond that, silently: 17 messages sent at once were all lost. The body limit is
        # the bound that matters: let in as many packets as fit (a byte and a separator each).
        Payload.max_decode_packets = MAX_BODY_BYTES // 2
        # Rasa's socket.io server leaves CORS to Sanic (`rasa run --cors ...`).
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=MAX_BODY_BYTES
        )
        self.sio = sio  # get_output_channel() needs it
        blueprint = SocketBlueprint(sio, self.socketio_path, "website_widget", __name__)
        issued = WidgetSessions(engine_for(load_settings().tracker_db_url))
        learners: dict[str, str] = {}  # socket id -> learner id
        unanswered = Unanswered()
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
            learners.pop(sid, None)

        # A client may emit an event with no data or with several arguments: take the first.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            # Without session_persistence every connection starts a new conversation.
            session_id = await asyncio.to_thread(
                accepted_session_id, requested if self.session_persistence else None, issued
            )
            learners[sid] = learner_id(WEB, session_id)
            # Replies go to the conversation's room, so every open tab of it sees them.
            sio.enter_room(sid, learners[sid], namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            learner = learners.get(sid)
            if learner is None:
                logger.info("Ignored a widget message sent before session_request.")
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message") if isinstance(data, dict) else None
            # Replies about the message itself go to this tab only: nothing of it was stored.
            reply = reply_instead(text)
            if reply is not None:
                await output.send_text_message(sid, reply)
                return
            with unanswered.taking_on(learner) as taken_on:
                if not taken_on:
                    await output.send_text_message(sid, SLOW_DOWN)
                    return
                await answer(
                    UserMessage(readable(text), output, learner, input_channel=self.name())
                )

        return blueprint
