"""The tracker store erases a learner's stored conversation when they delete their data, and
otherwise behaves exactly like Rasa's SQL tracker store."""

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Restarted,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from actions.settings import PROJECT_ROOT
from addons.tracker_store import ERASE_ACTION, ErasableSQLTrackerStore


@pytest.fixture
def rasa_domain():
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture
def tracker_store(tmp_path, rasa_domain):
    return ErasableSQLTrackerStore(domain=rasa_domain, dialect="sqlite", db=str(tmp_path / "c.db"))


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
