"""The widget's socket.io channel as any client could use it (python-socketio over WebSocket, as
the widget connects): a client gets only conversations the server issued, and cannot speak before
it has one."""

import time

import pytest

from tests.integration.widget_client import WidgetClient
from tests.support import progress_summary

pytestmark = pytest.mark.integration


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
