"""Faults end to end: the action server stopped, hung or killed, the learner database locked,
and a message dropped after waiting past the conversation lock's lifetime.

These tests stop, pause and kill servers, so they run their own pair (own work dir), not the
shared `assistant`. How soon the learner hears back is the guard's timeout, specified in
tests/test_action_server_guard.py; here the REST request's own timeout (30 s, where Rasa alone
would wait 5 minutes) only keeps a missing guard from hanging the run.
"""

import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from actions.progress import NOT_SAVED
from addons.action_server_guard import UNAVAILABLE_REPLY
from addons.input_guard import SORRY
from common.learner_ids import learner_id
from scripts.local_servers import RunningAssistant, running_assistant
from tests.integration.widget_client import WidgetClient
from tests.support import (
    PATH_STEPS,
    needs_model,
    new_sender,
    progress_summary,
    rendered,
    step_title,
    text_of,
)

pytestmark = [pytest.mark.integration, needs_model]

MILESTONES = [step["key"] for step in PATH_STEPS]


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


def stored(work_dir: Path, sender: str) -> set[str]:
    """The milestones stored for a REST sender."""
    with sqlite3.connect(work_dir / "learners.db") as db:
        rows = db.execute(
            "SELECT milestone FROM learner_milestones WHERE sender_id = ?",
            (learner_id("rest", sender),),
        ).fetchall()
    return {milestone for (milestone,) in rows}


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
        assert stored(work_dir, sender) == {"certification"}


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
    # The lock is held when the report arrives: the write can only happen once it is released.
    with write_locked(work_dir / "learners.db", at_most=2.0):
        reply = text_of(servers.say(learner, "I passed the CCRP"))
    assert reply.startswith(f"Marked done: {step_title('certification')}."), reply
    assert stored(work_dir, learner) == {"certification"}


def test_a_lock_outlasting_the_wait_gets_couldnt_save_and_stores_nothing(
    servers, learner, work_dir
):
    statement = "I'm a nurse with a BSN"  # a profile and a milestone: one transaction
    with write_locked(work_dir / "learners.db", at_most=10):
        reply = text_of(servers.say(learner, statement))
    # The action's own answer: it gave up waiting before the guard did.
    assert reply == rendered({"response": NOT_SAVED})["text"]
    assert profile_row(work_dir, learner) is None
    assert stored(work_dir, learner) == set()

    reply = text_of(servers.say(learner, statement))  # trying again, as the reply suggests
    assert f"Marked done: {step_title('degree')}" in reply, reply
    assert stored(work_dir, learner) == {"degree"}


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
        assert confirmed[sender] <= stored(work_dir, sender), sender

    # What was not confirmed can be reported again.
    for sender in learners:
        for key in set(MILESTONES) - stored(work_dir, sender):
            servers.say(sender, f'/tell_about_myself{{"milestone":"{key}"}}')
        assert stored(work_dir, sender) == set(MILESTONES)
