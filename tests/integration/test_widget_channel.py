"""The widget's socket.io channel as any client could use it (python-socketio over WebSocket, as
the widget connects, and long-polling by hand): a client gets only conversations the server
issued, cannot speak before it has one, stores nothing but its text, and every message it sends
gets an answer or a clear "slow down", however many it sends at once."""

import queue
import time
from collections import Counter

import pytest

from addons.action_server_guard import UNAVAILABLE_REPLY
from addons.input_guard import EMPTY, NOT_TEXT, SLOW_DOWN, SORRY, TOO_LONG
from common.learner_ids import learner_id
from tests.integration.widget_client import PollingRequests, WidgetClient
from tests.support import CERTIFICATIONS_ANSWER, conversation_rows, progress_summary

pytestmark = pytest.mark.integration

QUESTION = "what certifications should I get?"
ANSWER = CERTIFICATIONS_ANSWER  # how the first part of its answer begins
# More messages than Rasa's once-a-second lock took past its 60 s lifetime, sent as a flood.
FLOOD, FLOOD_BATCH, FLOOD_PAUSE = 100, 10, 0.15
# One more than engine.io decoded from one polling request (it dropped the whole request).
POLLING_BURST = 17
NOT_ANSWERS = {SORRY, UNAVAILABLE_REPLY, EMPTY, NOT_TEXT, TOO_LONG}


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


def test_an_id_the_server_did_not_issue_starts_a_new_conversation(assistant, servers_dir):
    first = WidgetClient(assistant.url)
    issued = first.request_session(None)
    first.emit("user_uttered", {"message": "I passed the CCRP", "session_id": issued})
    first.next_event()
    first.close()

    for never_issued in ("0" * 32, issued + "\n", " " + issued):
        other = WidgetClient(assistant.url)
        try:
            given = other.request_session(never_issued)
            assert given not in (never_issued, issued), repr(never_issued)
            other.emit("user_uttered", {"message": "show my progress", "session_id": given})
            kind, reply = other.next_event()
            assert progress_summary(0) in reply["text"], repr(never_issued)
        finally:
            other.close()
        never_stored = learner_id("web", never_issued)
        assert conversation_rows(servers_dir / "conversations.db", never_stored) == []


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


def test_only_the_text_of_a_message_is_stored(client, servers_dir):
    session = client.request_session(None)
    planted = "planted-" + "x" * 10_000
    client.emit(
        "user_uttered",
        {
            "message": "hi",
            "session_id": session,
            "metadata": {"planted": planted},  # Rasa's socket.io channel stored this
            "customData": {"planted": planted},
        },
    )
    client.next_event()
    stored = conversation_rows(servers_dir / "conversations.db", learner_id("web", session))
    assert stored and "planted" not in repr(stored)


def test_a_flood_gets_an_answer_or_a_slow_down_for_every_message(client):
    session = client.request_session(None)
    for sent in range(FLOOD):
        client.emit("user_uttered", {"message": QUESTION, "session_id": session})
        if sent % FLOOD_BATCH == FLOOD_BATCH - 1:
            time.sleep(FLOOD_PAUSE)
    replies = each_answered_or_slowed_down(client.next_event, FLOOD)
    assert replies[ANSWER] >= 1, replies

    # Answered as usual once the flood is over (after the rest of its last answer, if any).
    client.emit("user_uttered", {"message": "show my progress", "session_id": session})
    later: list[str] = []
    while not any(progress_summary(0) in text for text in later):
        assert len(later) < 3, later
        later.append(client.next_event()[1]["text"])


def test_a_burst_in_one_polling_request_gets_an_answer_or_a_slow_down_for_each(assistant):
    polling = PollingRequests(assistant.url)
    try:
        session = polling.request_session(None)
        burst = [{"message": QUESTION, "session_id": session}] * POLLING_BURST
        polling.emit_at_once("user_uttered", burst)
        replies = each_answered_or_slowed_down(polling.next_event, POLLING_BURST)
        assert replies[ANSWER] >= 1, replies
    finally:
        polling.close()


def each_answered_or_slowed_down(next_event, sent: int, give_up_after: float = 120) -> Counter:
    """Bot messages until there is an answer or a slow-down for each of `sent` messages (an
    answer may come in several parts; its first begins with ANSWER). Fails on an apology or an
    error reply, or when no reply came for `give_up_after` seconds (a limit only there to end a
    run where messages were silently dropped)."""
    replies: Counter = Counter()
    while replies[ANSWER] + replies[SLOW_DOWN] < sent:
        try:
            kind, reply = next_event(timeout=give_up_after)
        except queue.Empty:
            pytest.fail(f"no reply to some of the {sent} messages; replies: {dict(replies)}")
        text = reply.get("text", "") if isinstance(reply, dict) else ""
        if text in NOT_ANSWERS:
            pytest.fail(f"{text!r} for one of the messages; so far: {dict(replies)}")
        if text.startswith(ANSWER):
            replies[ANSWER] += 1
        elif text == SLOW_DOWN:
            replies[SLOW_DOWN] += 1
    return replies
