"""The widget's socket.io channel as any client could use it (python-socketio over WebSocket, as
the widget connects): a client gets only conversations the server issued, and cannot speak before
it has one."""

import asyncio
import queue
import threading
import time

import pytest
import socketio

from tests.support import progress_summary

pytestmark = pytest.mark.integration


class WidgetClient:
    """python-socketio's asyncio client (its WebSocket transport needs no extra package), driven
    from these synchronous tests through an event loop of its own."""

    def __init__(self, url: str, transports: tuple[str, ...] = ("websocket",)) -> None:
        self.events: queue.Queue = queue.Queue()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("session_confirm", self._received("session_confirm"))
        self.sio.on("bot_uttered", self._received("bot_uttered"))
        # WebSocket, as the widget does: with several Sanic workers, long-polling requests could
        # reach a worker that does not hold the session (the cluster test uses them on purpose).
        self._run(self.sio.connect(url, transports=list(transports), socketio_path="/socket.io"))

    def _received(self, kind: str):
        async def handler(data=None) -> None:
            self.events.put((kind, data))

        return handler

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def emit(self, event: str, data: dict) -> None:
        self._run(self.sio.emit(event, data))

    def next_event(self, timeout: float = 30) -> tuple[str, object]:
        return self.events.get(timeout=timeout)

    def request_session(self, session_id) -> str:
        self.emit("session_request", {"session_id": session_id})
        kind, issued = self.next_event()
        assert kind == "session_confirm"
        return issued

    def close(self) -> None:
        self._run(self.sio.disconnect())
        self._loop.call_soon_threadsafe(self._loop.stop)


@pytest.fixture
def client(assistant):
    client = WidgetClient(assistant.url)
    yield client
    client.close()


def test_a_slack_or_shell_id_is_not_accepted_as_a_widget_conversation(client, assistant):
    assistant.say("shell-someone", "I passed the CCRP")
    issued = client.request_session("shell-someone")
    assert issued != "shell-someone"
    client.emit("user_uttered", {"message": "show my progress", "session_id": issued})
    kind, reply = client.next_event()
    assert kind == "bot_uttered" and progress_summary(0) in reply["text"]


def test_messages_before_a_session_are_ignored(client):
    client.emit("user_uttered", {"message": "show my progress", "session_id": "anything"})
    time.sleep(3)
    assert client.events.empty()


def test_a_reconnecting_widget_continues_its_conversation(assistant):
    first = WidgetClient(assistant.url)
    session_id = first.request_session(None)
    first.emit("user_uttered", {"message": "I passed the CCRP", "session_id": session_id})
    first.next_event()
    first.close()

    second = WidgetClient(assistant.url)
    try:
        assert second.request_session(session_id) == session_id
        second.emit("user_uttered", {"message": "show my progress", "session_id": session_id})
        kind, reply = second.next_event()
        assert kind == "bot_uttered" and progress_summary(1) in reply["text"]
    finally:
        second.close()
