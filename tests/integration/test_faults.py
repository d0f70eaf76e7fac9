"""Faults end to end: the action server stopped, hung or killed, the learner database locked,
and a message dropped after waiting past the conversation lock's lifetime.

These tests stop, pause and kill servers, so they run their own pair (own work dir), not the
shared `assistant`. How soon the learner hears back is the guard's timeout, specified in
tests/test_action_server_guard.py; here the REST request's own timeout (30 s, where Rasa alone
would wait 5 minutes) only keeps a missing guard from hanging the run.
"""

import json
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic.config import DEFAULT_CONFIG

from actions.progress import NOT_SAVED
from addons.action_server_guard import UNAVAILABLE_REPLY, ActionServerUnavailable, one_message
from addons.input_guard import SORRY
from common.db import WRITE_DEADLINE_SECONDS
from common.learner_ids import learner_id
from scripts.local_servers import RunningAssistant, running_assistant
from tests.integration.widget_client import WidgetClient
from tests.support import (
    PATH_STEPS,
    RESPONSES,
    new_sender,
    progress_summary,
    rendered,
    step_title,
    stored_milestones,
    text_of,
)

pytestmark = pytest.mark.integration

MILESTONES = [step["key"] for step in PATH_STEPS]
COULD_NOT_SAVE = RESPONSES[NOT_SAVED][0]["text"]
# The largest request the action server reads: Sanic's default, which rasa_sdk keeps
# (docs/operators.md).
ACTION_SERVER_REQUEST_LIMIT = DEFAULT_CONFIG["REQUEST_MAX_SIZE"]


# A turn waits at most this long for the one before (Rasa's TICKET_LOCK_LIFETIME, 60 s by default):
# shorter than the guard's wait for a hung action server, so a turn then outlasts it.
SHORT_LOCK_LIFETIME_SECONDS = 2


def test_a_message_dropped_after_the_lock_lifetime_gets_an_apology_in_the_widget(tmp_path):
    """Over socket.io, as the widget talks. (Its own servers, started before the module's pair.)"""
    env = {
        "TICKET_LOCK_LIFETIME": str(SHORT_LOCK_LIFETIME_SECONDS),
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "2",  # the widget's open connection holds up a stop
    }
    with running_assistant(work_dir=tmp_path, env=env) as servers:
        widget = WidgetClient(servers.url)
        try:
            session = widget.request_session(None)
            widget.emit("user_uttered", {"message": "hi", "session_id": session})
            widget.next_event()
            servers.signal_action_server(signal.SIGSTOP)  # each turn now lasts the guard's wait
            try:
                for _ in range(3):
                    widget.emit(
                        "user_uttered", {"message": "show my progress", "session_id": session}
                    )
                replies = sorted(widget.next_event()[1]["text"] for _ in range(3))
            finally:
                servers.signal_action_server(signal.SIGCONT)
        finally:
            widget.close()
    # The first waited for the action server; the two queued behind it outlived their tickets.
    assert replies == sorted([UNAVAILABLE_REPLY, SORRY, SORRY])


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def servers(work_dir) -> Iterator[RunningAssistant]:
    with running_assistant(work_dir=work_dir) as running:
        # A server's first message still does one-off work (connections, a new session), which
        # the timed messages below should not include.
        running.say("warm-up", "hi")
        yield running


@pytest.fixture
def learner(servers) -> str:
    name = new_sender()
    servers.say(name, "hi")  # a conversation already under way
    return name


def conversation(work_dir: Path, sender: str) -> list[str]:
    """What the learner said, as the conversation store holds it."""
    with sqlite3.connect(work_dir / "conversations.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
            (learner_id("rest", sender),),
        ).fetchall()
    return [json.loads(data).get("text") for (data,) in rows]


def profile_row(work_dir: Path, sender: str):
    with sqlite3.connect(work_dir / "learners.db") as db:
        query = "SELECT * FROM learners WHERE sender_id = ?"
        return db.execute(query, (learner_id("rest", sender),)).fetchone()


@contextmanager
def write_locked(database: Path, at_most: float) -> Iterator[None]:
    """Another connection holds the database's write lock until the block ends, or for at most
    `at_most` seconds, whichever comes first."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Lock()

    def release() -> None:
        with released:
            if holder.in_transaction:
                holder.execute("ROLLBACK")

    timer = threading.Timer(at_most, release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        release()
        holder.close()


def test_a_stopped_action_server_gets_a_friendly_reply_then_recovers(servers, learner, work_dir):
    newcomer = new_sender("newcomer")  # whose first message meets the outage
    servers.signal_action_server(signal.SIGKILL)
    try:
        for sender in (learner, newcomer):
            assert text_of(servers.say(sender, "I passed the CCRP")) == UNAVAILABLE_REPLY
    finally:
        servers.start_action_server()

    for sender in (learner, newcomer):
        reply = text_of(servers.say(sender, "I passed the CCRP"))
        assert reply.startswith(f"Marked done: {step_title('certification')}."), reply
        progress = text_of(servers.say(sender, "show my progress"))
        assert progress.startswith(f"Your progress: {progress_summary(1)}."), progress
        assert stored_milestones(work_dir, sender) == {"certification"}


def test_a_hung_action_server_gets_a_friendly_reply_then_recovers(servers, learner):
    newcomer = new_sender("newcomer")  # two actions: the session's start, the answer
    assert "Which role" in text_of(servers.say(learner, "set up my profile"))
    servers.signal_action_server(signal.SIGSTOP)
    try:
        for sender, message in [
            (learner, "Clinical Program Manager"),  # the form's check of the answer
            (learner, "show my progress"),
            (newcomer, "show my progress"),
        ]:
            assert text_of(servers.say(sender, message)) == UNAVAILABLE_REPLY
    finally:
        servers.signal_action_server(signal.SIGCONT)

    reply = text_of(servers.say(learner, "Clinical Program Manager"))  # the form carries on
    assert reply.startswith("What is your education so far?"), reply
    progress = text_of(servers.say(newcomer, "show my progress"))
    assert progress.startswith(f"Your progress: {progress_summary(0)}."), progress


def test_a_report_waits_for_a_locked_learner_database(servers, learner, work_dir):
    # The lock is held when the report arrives, for less than a write's deadline: the write
    # happens once it is released.
    with write_locked(work_dir / "learners.db", at_most=WRITE_DEADLINE_SECONDS / 2):
        reply = text_of(servers.say(learner, "I passed the CCRP"))
    assert reply.startswith(f"Marked done: {step_title('certification')}."), reply
    assert stored_milestones(work_dir, learner) == {"certification"}


def test_a_lock_outlasting_the_wait_gets_couldnt_save_and_stores_nothing(
    servers, learner, work_dir
):
    statement = "I'm a nurse with a BSN"  # a profile and a milestone: one transaction
    with write_locked(work_dir / "learners.db", at_most=10):
        reply = text_of(servers.say(learner, statement))
    assert reply == COULD_NOT_SAVE  # the action's own answer: it gave up before the guard did
    assert profile_row(work_dir, learner) is None
    assert stored_milestones(work_dir, learner) == set()

    reply = text_of(servers.say(learner, statement))  # trying again, as the reply suggests
    assert f"Marked done: {step_title('degree')}" in reply, reply
    assert "degree" in stored_milestones(work_dir, learner)


def conversations_at_once(
    servers: RunningAssistant, first: dict[str, list[str]], then: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Each learner's messages, in order, every learner at the same time: those in `first`
    start first, `then` half a second later. Returns the text of each reply, by learner.

    The half second puts `then` behind `first` on an action server that runs one action at a
    time (as it did when the actions waited for the database on its event loop)."""

    def talk(sender: str, messages: list[str]) -> list[str]:
        return [text_of(servers.say(sender, message)) for message in messages]

    with ThreadPoolExecutor(len(first) + len(then)) as pool:
        started = {sender: pool.submit(talk, sender, said) for sender, said in first.items()}
        time.sleep(0.5)
        started |= {sender: pool.submit(talk, sender, said) for sender, said in then.items()}
        return {sender: replies.result() for sender, replies in started.items()}


def learners_under_way(servers: RunningAssistant, name: str, count: int) -> list[str]:
    learners = [new_sender(name) for _ in range(count)]
    for sender in learners:
        servers.say(sender, "hi")
    return learners


READ_ONLY = ["show my progress", "is the CCRP worth it?", "export my data"]


def test_while_writes_wait_on_a_locked_database_everyone_else_is_answered(servers, work_dir):
    writers = learners_under_way(servers, "writer", 3)
    readers = learners_under_way(servers, "reader", 3)
    readers_progress = ["I passed the CCRP", "I'm a nurse with a BSN", "I just joined ACRP"]
    for reader, report in zip(readers, readers_progress, strict=True):
        servers.say(reader, report)
    as_answered_unlocked = {
        reader: [text_of(servers.say(reader, m)) for m in READ_ONLY] for reader in readers
    }

    # Held for longer than any action may take: every write waits for it until its deadline.
    with write_locked(work_dir / "learners.db", at_most=10):
        replies = conversations_at_once(
            servers,
            first={writer: ["I passed the CCRP"] for writer in writers},
            then={reader: READ_ONLY for reader in readers},
        )

    for reader in readers:
        assert replies[reader] == as_answered_unlocked[reader], reader
    for writer in writers:
        assert replies[writer] == [COULD_NOT_SAVE], writer
    # And no write lands later: the learner was told it failed.
    for writer in writers:
        progress = text_of(servers.say(writer, "show my progress"))
        assert progress.startswith(f"Your progress: {progress_summary(0)}."), progress
        assert stored_milestones(work_dir, writer) == set()


@pytest.mark.parametrize(
    ("request_", "done", "profile_kept", "conversation_kept"),
    [
        ("delete my data", "utter_data_deleted", False, False),
        ("start over", "utter_progress_cleared", True, True),
    ],
    ids=["delete my data", "start over"],
)
def test_a_destructive_request_during_a_lock_changes_nothing_and_says_so(
    servers, work_dir, request_, done, profile_kept, conversation_kept
):
    learner = new_sender()
    said_before = ["I'm a nurse with a BSN", "I passed the CCRP"]
    for message in said_before:
        servers.say(learner, message)
    milestones = stored_milestones(work_dir, learner)
    assert milestones
    others = learners_under_way(servers, "other", 2)  # their reports wait on the lock too
    assert text_of(servers.say(learner, request_)).endswith("Are you sure?")

    with write_locked(work_dir / "learners.db", at_most=10):
        replies = conversations_at_once(
            servers,
            first={other: ["I passed the CCRP"] for other in others},
            then={learner: ["yes"]},
        )
    assert replies[learner] == [COULD_NOT_SAVE]
    # Nothing changed, then or later: profile, progress and conversation are all there.
    progress = text_of(servers.say(learner, "show my progress"))
    assert progress.startswith(f"Your progress: {progress_summary(len(milestones))}."), progress
    assert profile_row(work_dir, learner) is not None
    assert stored_milestones(work_dir, learner) == milestones
    assert set(said_before) <= set(conversation(work_dir, learner))

    # Asked again with the database free, it is done, in both stores.
    assert text_of(servers.say(learner, request_)).endswith("Are you sure?")
    confirmed = text_of(servers.say(learner, "yes"))
    assert confirmed == rendered({"response": done, "count": len(milestones)})["text"]
    assert stored_milestones(work_dir, learner) == set()
    assert (profile_row(work_dir, learner) is not None) == profile_kept
    assert (set(said_before) <= set(conversation(work_dir, learner))) == conversation_kept


async def test_a_request_over_the_action_servers_size_limit_gets_the_friendly_reply(servers):
    # A conversation whose stored events outgrew what the action server accepts (finding 1: the
    # action server answered 413 before reading it, and Rasa's call ended in a ConnectionError
    # that left the learner without a reply, on every message).
    too_large = "x" * (ACTION_SERVER_REQUEST_LIMIT + 1)
    tracker = DialogueStateTracker.from_events("learner", [UserUttered(too_large)])
    action = RemoteAction(
        "action_show_progress", EndpointConfig(f"{servers.action_server_url}/webhook")
    )
    channel = CollectingOutputChannel()
    with one_message(), pytest.raises(ActionServerUnavailable):
        await action.run(channel, TemplatedNaturalLanguageGenerator({}), tracker, Domain.empty())
    assert [message["text"] for message in channel.messages] == [UNAVAILABLE_REPLY]


def test_killing_the_action_server_mid_stream_loses_no_confirmed_milestone(servers, work_dir):
    """Three learners report every milestone at once; the action server is killed (SIGKILL)
    part-way and started again. Every milestone a learner saw confirmed is stored."""
    learners = [new_sender(f"stream-{n}") for n in range(3)]
    confirmed: dict[str, set[str]] = {sender: set() for sender in learners}
    every_report = len(learners) * len(MILESTONES)
    lock = threading.Lock()

    def report_all(sender: str) -> None:
        for key in MILESTONES:
            reply = text_of(servers.say(sender, f'/tell_about_myself{{"milestone":"{key}"}}'))
            if reply.startswith(f"Marked done: {step_title(key)}."):
                with lock:
                    confirmed[sender].add(key)

    streams = [threading.Thread(target=report_all, args=(sender,)) for sender in learners]
    for stream in streams:
        stream.start()
    try:
        deadline = time.monotonic() + 60
        while sum(map(len, confirmed.values())) < every_report // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        servers.signal_action_server(signal.SIGKILL)
        for stream in streams:
            stream.join(timeout=60)
    finally:
        servers.start_action_server()

    assert every_report // 3 <= sum(map(len, confirmed.values())) < every_report  # part-way
    for sender in learners:
        assert confirmed[sender] <= stored_milestones(work_dir, sender), sender

    # What was not confirmed can be reported again.
    for sender in learners:
        for key in set(MILESTONES) - stored_milestones(work_dir, sender):
            servers.say(sender, f'/tell_about_myself{{"milestone":"{key}"}}')
        assert stored_milestones(work_dir, sender) == set(MILESTONES)
