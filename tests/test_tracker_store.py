"""The tracker store loads a window of recent turns in the state the whole session gives, erases a
learner's stored conversation when they delete their data, moves conversations stored before
learner ids carried their channel to their channel's ids, keeps the widget's issued session ids,
and otherwise behaves exactly like Rasa's SQL tracker store, on
SQLite or on PostgreSQL (when TEST_POSTGRES_URL names a database: .ci/run starts one), wherever
TRACKER_DB_URL says."""

import logging
import os

import pytest
import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from addons.conversation_window import KEPT_TURNS, MOVE_AFTER_TURNS
from addons.tracker_store import (
    ERASE_ACTION,
    ErasableSQLTrackerStore,
    WidgetSessions,
    connection_settings,
)
from common.db import engine_for
from common.settings import PROJECT_ROOT

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
STORE_TYPE = "addons.tracker_store.ErasableSQLTrackerStore"


@pytest.fixture
def rasa_domain():
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_db_url(request, tmp_path, monkeypatch) -> str:
    """An empty conversation database of each kind, named by TRACKER_DB_URL as an operator would."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'conversations.db'}"
    elif not POSTGRES_URL:
        pytest.skip("set TEST_POSTGRES_URL to an empty PostgreSQL database (.ci/run does)")
    else:
        url = POSTGRES_URL
        with engine_for(url).begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS events")
            connection.exec_driver_sql("DROP TABLE IF EXISTS widget_sessions")
            connection.exec_driver_sql("DROP TABLE IF EXISTS conversation_windows")
    monkeypatch.setenv("TRACKER_DB_URL", url)
    return url


@pytest.fixture
def tracker_store(tracker_db_url, rasa_domain):
    # As Rasa builds it from endpoints.yml's `tracker_store`, which names only the type.
    return TrackerStore.create(EndpointConfig(type=STORE_TYPE), domain=rasa_domain)


def conversation(sender, domain, *texts):
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    for text in texts:
        events += [
            ActionExecuted("action_listen"),
            UserUttered(text),
            ActionExecuted("action_record_progress"),
            BotUttered(f"noted: {text}"),
        ]
    return DialogueStateTracker.from_events(sender, events, slots=domain.slots)


def user_texts(tracker):
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


async def test_a_normal_conversation_is_stored_and_appended(tracker_store, rasa_domain):
    tracker = conversation("ana", rasa_domain, "I passed the CCRP")
    await tracker_store.save(tracker)
    tracker.update(UserUttered("show my progress"))
    await tracker_store.save(tracker)
    stored = await tracker_store.retrieve_full_tracker("ana")
    assert user_texts(stored) == ["I passed the CCRP", "show my progress"]


async def test_deleting_data_erases_that_learners_stored_conversation_only(
    tracker_store, rasa_domain
):
    ana = conversation("ana", rasa_domain, "I'm a nurse with a BSN", "I passed the CCRP")
    ben = conversation("ben", rasa_domain, "I joined ACRP")
    await tracker_store.save(ana)
    await tracker_store.save(ben)

    for event in [
        ActionExecuted("action_listen"),
        UserUttered("yes"),
        ActionExecuted("action_handle_confirmation"),
        BotUttered("Done: your profile, progress and conversation history are deleted."),
        ActionExecuted(ERASE_ACTION),
        Restarted(),
        ActionExecuted("action_listen"),
    ]:
        ana.update(event)
    await tracker_store.save(ana)

    erased = await tracker_store.retrieve_full_tracker("ana")
    assert user_texts(erased) == []
    assert "BSN" not in str([e.as_dict() for e in erased.events])
    assert user_texts(await tracker_store.retrieve_full_tracker("ben")) == ["I joined ACRP"]

    # The learner comes back: a fresh conversation is stored as usual.
    returning = await tracker_store.retrieve("ana")
    returning.update(UserUttered("hello"))
    await tracker_store.save(returning)
    assert user_texts(await tracker_store.retrieve_full_tracker("ana")) == ["hello"]


# Learner ids as the channels stored them before ids carried their channel, and now.
STORED_BEFORE_PREFIXES = {
    "U0123ABCD": "slack:U0123ABCD",
    "web-" + "ab" * 16: "web:" + "ab" * 16,
    "shell-root": "shell:root",
    "ana": "rest:ana",
}


async def test_conversations_stored_before_ids_carried_their_channel_keep_their_learner(
    tracker_db_url, rasa_domain, caplog
):
    # What an installation of the previous version holds, as Rasa's own store wrote it.
    previous_version = SQLTrackerStore(domain=rasa_domain, **connection_settings(tracker_db_url))
    already_prefixed = "slack:U0999WXYZ"
    said = {
        sender: f"note {n}" for n, sender in enumerate([*STORED_BEFORE_PREFIXES, "slack:U0999WXYZ"])
    }
    for sender, note in said.items():
        await previous_version.save(conversation(sender, rasa_domain, note))

    with caplog.at_level(logging.INFO, logger="addons.tracker_store"):
        store = TrackerStore.create(EndpointConfig(type=STORE_TYPE), domain=rasa_domain)

    for old, new in STORED_BEFORE_PREFIXES.items():
        assert await store.retrieve_full_tracker(old) is None, old
        assert user_texts(await store.retrieve_full_tracker(new)) == [said[old]], new
    assert user_texts(await store.retrieve_full_tracker(already_prefixed)) == [
        said[already_prefixed]
    ]
    assert f"Moved {len(STORED_BEFORE_PREFIXES)} conversation(s)" in caplog.text
    # The widget learner's browser, which keeps its session id, resumes that conversation.
    assert WidgetSessions(store.engine).issued("ab" * 16)

    # Started again (a restart, another replica): nothing moves twice.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="addons.tracker_store"):
        again = TrackerStore.create(EndpointConfig(type=STORE_TYPE), domain=rasa_domain)
    assert "Moved" not in caplog.text
    for old, new in STORED_BEFORE_PREFIXES.items():
        assert user_texts(await again.retrieve_full_tracker(new)) == [said[old]], new


def test_the_widget_sessions_it_issued_are_recognised_by_every_replica(tracker_store):
    one_replica, another = (
        WidgetSessions(tracker_store.engine),
        WidgetSessions(tracker_store.engine),
    )
    issued = one_replica.issue()
    assert issued != one_replica.issue()
    assert another.issued(issued)
    for never_issued in ("0" * 32, issued + "\n", issued.upper(), issued[:-1]):
        assert not another.issued(never_issued), never_issued


def test_it_stores_where_tracker_db_url_says(tracker_store, tracker_db_url):
    assert isinstance(tracker_store, ErasableSQLTrackerStore)
    stored_at = tracker_store.engine.url
    assert stored_at.get_backend_name() == tracker_db_url.split(":")[0]
    assert stored_at.database == connection_settings(tracker_db_url)["db"]


def test_settings_in_endpoints_yml_take_precedence_over_the_variable(tmp_path, rasa_domain):
    store = ErasableSQLTrackerStore(domain=rasa_domain, dialect="sqlite", db=str(tmp_path / "e.db"))
    assert store.engine.url.database == str(tmp_path / "e.db")


def test_a_postgresql_url_becomes_rasas_connection_settings():
    assert connection_settings(
        "postgresql://coach:s%40cret@db.example:5433/conversations?sslmode=require"
    ) == {
        "dialect": "postgresql",
        "host": "db.example",
        "port": 5433,
        "db": "conversations",
        "username": "coach",
        "password": "s@cret",
        "query": {"sslmode": "require"},
    }


# The window of recent turns (addons/conversation_window.py).


def a_turn(number: int) -> list:
    """One learner message and the assistant's answer, with a slot set on some turns."""
    turn = [
        ActionExecuted("action_listen"),
        UserUttered(f"message {number}", intent={"name": "ask_certifications"}),
        ActionExecuted("action_answer_topic"),
        BotUttered(f"answer {number}"),
    ]
    if number % 7 == 0:
        turn.append(SlotSet("last_topic", f"topic {number}"))
    return turn


async def talk(tracker_store, sender, domain, turns, first_events=list, first=0):
    """Message by message, as the Rasa server does: load, add one turn, save. `first_events()`
    makes events to add before the first turn (made then: Rasa orders a session by time)."""
    if first == 0:
        await tracker_store.save(conversation(sender, domain))
    for number in range(first, first + turns):
        tracker = await tracker_store.retrieve(sender)
        for event in (first_events() if number == first else []) + a_turn(number):
            tracker.update(event)
        await tracker_store.save(tracker)


async def whole_session(tracker_store, sender):
    """The session as Rasa's own SQL tracker store loads it from the same database."""
    return await SQLTrackerStore.retrieve(tracker_store, sender)


@pytest.mark.parametrize("turns", [MOVE_AFTER_TURNS, MOVE_AFTER_TURNS + 1, 150])
async def test_a_long_conversation_loads_a_bounded_window_in_the_state_of_the_whole(
    tracker_store, rasa_domain, turns
):
    await talk(tracker_store, "ana", rasa_domain, turns)

    loaded = await tracker_store.retrieve("ana")
    whole = await whole_session(tracker_store, "ana")
    assert len(user_texts(loaded)) <= MOVE_AFTER_TURNS
    assert user_texts(loaded) == user_texts(whole)[-len(user_texts(loaded)) :]
    assert loaded.current_slot_values() == whole.current_slot_values()
    assert loaded.latest_message.text == f"message {turns - 1}"
    # What the policies see: MemoizationPolicy's last 5 states, and more.
    assert loaded.past_states(rasa_domain)[-2 * 5 :] == whole.past_states(rasa_domain)[-2 * 5 :]
    # and every event is still stored, once.
    full = await tracker_store.retrieve_full_tracker("ana")
    assert user_texts(full) == [f"message {number}" for number in range(turns)]


async def test_a_form_in_progress_across_the_windows_start_is_still_active(
    tracker_store, rasa_domain
):
    def started_form():
        return [ActiveLoop("onboarding_form"), SlotSet("requested_slot", "education")]

    await talk(tracker_store, "ana", rasa_domain, 3 * MOVE_AFTER_TURNS, started_form)

    loaded = await tracker_store.retrieve("ana")
    assert len(user_texts(loaded)) < 3 * MOVE_AFTER_TURNS
    assert loaded.active_loop_name == "onboarding_form"
    assert loaded.get_slot("requested_slot") == "education"


async def test_a_new_session_is_loaded_from_its_start_as_rasa_does(tracker_store, rasa_domain):
    await talk(tracker_store, "ana", rasa_domain, MOVE_AFTER_TURNS + 5)
    tracker = await tracker_store.retrieve("ana")
    for event in [ActionExecuted("action_session_start"), SessionStarted()] + a_turn(999):
        tracker.update(event)
    await tracker_store.save(tracker)

    assert user_texts(await tracker_store.retrieve("ana")) == ["message 999"]
    assert user_texts(await whole_session(tracker_store, "ana")) == ["message 999"]


async def test_deleting_data_after_a_long_conversation_leaves_no_window_behind(
    tracker_store, rasa_domain
):
    await talk(tracker_store, "ana", rasa_domain, 2 * MOVE_AFTER_TURNS)
    tracker = await tracker_store.retrieve("ana")
    for event in [ActionExecuted(ERASE_ACTION), Restarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    await tracker_store.save(tracker)

    assert user_texts(await tracker_store.retrieve_full_tracker("ana")) == []
    assert (await tracker_store.retrieve("ana")).current_slot_values()["last_topic"] is None
    await talk(tracker_store, "ana", rasa_domain, 2, first=1000)
    assert user_texts(await tracker_store.retrieve("ana")) == ["message 1000", "message 1001"]


async def test_the_window_moves_in_steps_not_on_every_message(tracker_store, rasa_domain):
    await talk(tracker_store, "ana", rasa_domain, MOVE_AFTER_TURNS + 1)
    assert len(user_texts(await tracker_store.retrieve("ana"))) == KEPT_TURNS
    await talk(tracker_store, "ana", rasa_domain, 3, first=MOVE_AFTER_TURNS + 1)
    assert len(user_texts(await tracker_store.retrieve("ana"))) == KEPT_TURNS + 3


async def test_a_tracker_saved_again_after_its_window_moved_stores_each_event_once(
    tracker_store, rasa_domain
):
    await talk(tracker_store, "ana", rasa_domain, MOVE_AFTER_TURNS)
    tracker = await tracker_store.retrieve("ana")
    for number in (MOVE_AFTER_TURNS, MOVE_AFTER_TURNS + 1):
        for event in a_turn(number):
            tracker.update(event)
        await tracker_store.save(tracker)  # the first of these saves moves the window

    full = await tracker_store.retrieve_full_tracker("ana")
    assert user_texts(full) == [f"message {number}" for number in range(MOVE_AFTER_TURNS + 2)]


async def test_a_copy_of_a_loaded_tracker_is_counted_against_the_store(tracker_store, rasa_domain):
    """A tracker not loaded by this store (a copy, one built from events) carries no note of
    what is stored: the store counts, as Rasa's does."""
    await talk(tracker_store, "ana", rasa_domain, MOVE_AFTER_TURNS + 3)
    loaded = await tracker_store.retrieve("ana")
    events = [e.as_dict() for e in loaded.events]
    copy = DialogueStateTracker.from_dict("ana", events, rasa_domain.slots)
    for event in a_turn(500):
        copy.update(event)
    await tracker_store.save(copy)

    full = await tracker_store.retrieve_full_tracker("ana")
    expected = [f"message {number}" for number in range(MOVE_AFTER_TURNS + 3)] + ["message 500"]
    assert user_texts(full) == expected


async def test_a_loaded_conversation_is_saved_without_reading_the_store(tracker_store, rasa_domain):
    """Each message's save sends its new events in one INSERT and reads nothing: the tracker
    notes what is stored and where its window starts (the reads were a tenth of a message)."""
    await talk(tracker_store, "ana", rasa_domain, MOVE_AFTER_TURNS + 3)  # it has a window
    tracker = await tracker_store.retrieve("ana")
    for event in a_turn(500):
        tracker.update(event)

    statements = []

    def record(_connection, _cursor, statement, *_):
        statements.append(statement.split()[0].upper())

    sqlalchemy.event.listen(tracker_store.engine, "before_cursor_execute", record)
    try:
        await tracker_store.save(tracker)
    finally:
        sqlalchemy.event.remove(tracker_store.engine, "before_cursor_execute", record)

    assert statements == ["INSERT"]
    full = await tracker_store.retrieve_full_tracker("ana")
    assert user_texts(full)[-2:] == [f"message {MOVE_AFTER_TURNS + 2}", "message 500"]
