"""Start over, delete my data, export my data: confirmed, scoped to the learner, complete."""

import pytest
from rasa_sdk.events import FollowupAction

from actions.my_data import (
    ASK_DELETE,
    ASK_RESET,
    ERASE_CONVERSATION,
    ActionExportMyData,
    ActionHandleConfirmation,
)
from actions.progress import NOT_SAVED
from tests.support import RESPONSES, refuse_writes, reply_text, responses_sent, step_title

# Every test here runs on a fresh knowledge base and an empty learner database.
pytestmark = pytest.mark.usefixtures("kb_url", "learner_db_url")


def after_question(action_name):
    """Conversation events in which the bot has just run `action_name`, then the learner spoke."""
    return [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "delete my data"},
        {"event": "action", "name": action_name},
        {"event": "bot", "text": "Are you sure?"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "yes"},
    ]


@pytest.fixture
def ana(store):
    store.update_profile("learner-1", current_role="nurse")
    store.mark_done("learner-1", ["degree", "leadership"])
    store.mark_done("someone-else", ["degree"])
    return store


@pytest.mark.parametrize("question", [ASK_DELETE, ASK_RESET])
def test_each_destructive_request_is_asked_with_yes_and_no(question):
    [asked] = RESPONSES[question]
    assert asked["text"].endswith("Are you sure?")
    assert [button["payload"] for button in asked["buttons"]] == ["/affirm", "/deny"]


async def test_yes_after_the_question_erases_profile_progress_and_conversation(
    ana, dispatcher, tracker
):
    message = tracker("yes", intent="affirm", events=after_question(ASK_DELETE))
    events = await ActionHandleConfirmation().run(dispatcher, message, {})
    assert ana.record("learner-1") is None
    assert events == [FollowupAction(ERASE_CONVERSATION)]
    assert ana.completed("someone-else") == {"degree"}


async def test_a_deletion_the_database_refuses_keeps_the_conversation_too(
    ana, learner_db_url, dispatcher, tracker
):
    refuse_writes(learner_db_url, "DELETE", "learners")  # after the milestones' rows went
    message = tracker("yes", intent="affirm", events=after_question(ASK_DELETE))
    assert await ActionHandleConfirmation().run(dispatcher, message, {}) == []  # no erasing
    assert responses_sent(dispatcher) == [NOT_SAVED]
    assert ana.completed("learner-1") == {"degree", "leadership"}


async def test_no_after_the_question_keeps_everything(ana, dispatcher, tracker):
    message = tracker("no", intent="deny", events=after_question(ASK_DELETE))
    assert await ActionHandleConfirmation().run(dispatcher, message, {}) == []
    assert ana.completed("learner-1") == {"degree", "leadership"}
    assert "nothing was changed" in reply_text(dispatcher)


@pytest.mark.parametrize("previous", [None, "action_answer_degrees", "action_show_progress"])
async def test_a_yes_that_answers_no_question_changes_nothing(previous, ana, dispatcher, tracker):
    events = after_question(previous) if previous else []
    message = tracker("/affirm", intent="affirm", events=events)
    assert await ActionHandleConfirmation().run(dispatcher, message, {}) == []
    assert ana.completed("learner-1") == {"degree", "leadership"}


async def test_confirmed_reset_clears_progress_but_keeps_the_profile(ana, dispatcher, tracker):
    message = tracker("yes", intent="affirm", events=after_question(ASK_RESET))
    await ActionHandleConfirmation().run(dispatcher, message, {})
    assert ana.completed("learner-1") == set()
    assert ana.record("learner-1").profile.current_role == "nurse"


async def test_export_lists_everything_stored(ana, dispatcher, tracker):
    await ActionExportMyData().run(dispatcher, tracker("export my data"), {})
    text = reply_text(dispatcher)
    assert "your id: learner-1" in text
    assert "Current role: nurse" in text
    assert step_title("degree") in text
    assert step_title("leadership") in text


async def test_export_for_an_unknown_learner_says_nothing_is_stored(dispatcher, tracker):
    await ActionExportMyData().run(dispatcher, tracker("export", sender_id="new"), {})
    assert "No profile and no progress." in reply_text(dispatcher)


async def test_erasing_the_conversation_resets_and_restarts_it(dispatcher, tracker):
    from rasa_sdk.events import AllSlotsReset, Restarted

    from actions.my_data import ActionEraseConversation

    events = await ActionEraseConversation().run(dispatcher, tracker(""), {})
    assert events == [AllSlotsReset(), Restarted()]
