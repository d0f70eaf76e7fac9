"""The widget's socket.io channel as any client could use it (python-socketio, polling transport):
a client gets only conversations the server issued, and cannot speak before it has one."""

import queue
import time

import pytest
import socketio

pytestmark = pytest.mark.integration


class WidgetClient:
    def __init__(self, url: str) -> None:
        self.events: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("session_confirm", lambda data: self.events.put(("session_confirm", data)))
        self.sio.on("bot_uttered", lambda data: self.events.put(("bot_uttered", data)))
        self.sio.connect(url, transports=["polling"], socketio_path="/socket.io")

    def next_event(self, timeout: float = 30) -> tuple[str, object]:
        return self.events.get(timeout=timeout)

    def request_session(self, session_id) -> str:
        self.sio.emit("session_request", {"session_id": session_id})
        kind, issued = self.next_event()
        assert kind == "session_confirm"
        return issued

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def client(assistant):
    client = WidgetClient(assistant.url)
    yield client
    client.close()


def test_a_slack_or_shell_id_is_not_accepted_as_a_widget_conversation(client, assistant):
    assistant.say("shell-someone", "I passed the CCRP")
    issued = client.request_session("shell-someone")
    assert issued != "shell-someone"
    client.sio.emit("user_uttered", {"message": "show my progress", "session_id": issued})
    kind, reply = client.next_event()
    assert kind == "bot_uttered" and "0 of 10" in reply["text"]


def test_messages_before_a_session_are_ignored(client):
    client.sio.emit("user_uttered", {"message": "show my progress", "session_id": "anything"})
    time.sleep(3)
    assert client.events.empty()


def test_a_reconnecting_widget_continues_its_conversation(assistant):
    first = WidgetClient(assistant.url)
    session_id = first.request_session(None)
    first.sio.emit("user_uttered", {"message": "I passed the CCRP", "session_id": session_id})
    first.next_event()
    first.close()

    second = WidgetClient(assistant.url)
    try:
        assert second.request_session(session_id) == session_id
        second.sio.emit("user_uttered", {"message": "show my progress", "session_id": session_id})
        kind, reply = second.next_event()
        assert kind == "bot_uttered" and "1 of 10" in reply["text"]
    finally:
        second.close()
