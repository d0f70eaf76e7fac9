"""Reporting, correcting, showing progress and next steps, through the real actions."""

import asyncio

import pytest
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.my_data import ASK_DELETE, ActionExportMyData, ActionHandleConfirmation
from actions.onboarding import ValidateOnboardingForm
from actions.progress import (
    NOT_SAVED,
    ActionCorrectProgress,
    ActionRecordProgress,
    ActionShowProgress,
    ActionSuggestNextSteps,
)
from tests.support import (
    progress_summary,
    refuse_writes,
    reply_text,
    responses_sent,
    slot_events,
    step_title,
    write_locked,
)

# Every test here runs on a fresh knowledge base and an empty learner database.
pytestmark = pytest.mark.usefixtures("kb_url", "learner_db_url")


def entity(kind, value):
    return {"entity": kind, "value": value}


@pytest.mark.parametrize(
    ("message", "entities", "milestone"),
    [
        ("I passed the CCRP", [entity("certification", "CCRP")], "certification"),
        ("I just joined ACRP", [], "professional_organisation"),
        ("finished my MHA", [entity("degree", "MHA")], "graduate_degree"),
        (
            "I've started leading a small team",
            [entity("milestone", "leadership")],
            "leadership",
        ),
        ("got promoted to assistant manager", [], "leadership"),
    ],
)
async def test_a_reported_milestone_is_stored(
    message, entities, milestone, store, dispatcher, tracker
):
    await ActionRecordProgress().run(dispatcher, tracker(message, entities=entities), {})
    assert milestone in store.completed("learner-1")
    assert "Marked done:" in reply_text(dispatcher)
    assert "Progress: " in reply_text(dispatcher)


async def test_a_masters_also_counts_the_bachelors(store, dispatcher, tracker):
    await ActionRecordProgress().run(dispatcher, tracker("I have an MPH"), {})
    assert store.completed("learner-1") == {"degree", "graduate_degree"}


async def test_a_background_statement_fills_the_profile(store, dispatcher, tracker):
    message = tracker(
        "I'm a nurse with a BSN and 3 years in a hospital",
        entities=[entity("job_title", "nurse"), entity("years", "3")],
    )
    events = await ActionRecordProgress().run(dispatcher, message, {})
    profile = store.record("learner-1").profile
    assert profile.education_level == "bachelor" and profile.education_field == "nursing"
    assert profile.current_role == "nurse"
    assert profile.years_experience == 3
    assert profile.preferred_setting == "hospitals"
    assert "degree" in store.completed("learner-1")
    assert slot_events(events)["current_role"] == "nurse"


async def test_a_report_that_cannot_be_saved_says_so_and_stores_none_of_it(
    learner_db_url, store, dispatcher, tracker
):
    # The profile update goes through; the milestone after it, in the same message, is refused.
    refuse_writes(learner_db_url, "INSERT", "learner_milestones")
    message = tracker("I'm a nurse with a BSN", entities=[entity("job_title", "nurse")])
    assert await ActionRecordProgress().run(dispatcher, message, {}) == []
    assert responses_sent(dispatcher) == [NOT_SAVED]
    assert store.record("learner-1") is None


async def test_a_correction_that_cannot_be_saved_says_so(
    learner_db_url, store, dispatcher, tracker
):
    store.mark_done("learner-1", ["certification"])
    refuse_writes(learner_db_url, "DELETE", "learner_milestones")
    await ActionCorrectProgress().run(dispatcher, tracker("actually I don't have the CCRP yet"), {})
    assert responses_sent(dispatcher) == [NOT_SAVED]
    assert store.completed("learner-1") == {"certification"}


async def test_the_target_role_is_recognised(store, dispatcher, tracker):
    await ActionRecordProgress().run(
        dispatcher, tracker("I want to become a clinical programme manager"), {}
    )
    assert store.record("learner-1").profile.target_role == "Clinical Program Manager"


async def test_an_unrecognised_report_asks_which_milestone(store, dispatcher, tracker):
    await ActionRecordProgress().run(dispatcher, tracker("I did a thing!"), {})
    assert "Which milestone was that?" in reply_text(dispatcher)
    assert store.record("learner-1") is None


async def test_reporting_twice_says_it_is_already_there(store, dispatcher, tracker):
    store.mark_done("learner-1", ["certification"])
    await ActionRecordProgress().run(dispatcher, tracker("I passed the CHOM"), {})
    assert f"Already on your list: {step_title('certification')}." in reply_text(dispatcher)


async def test_a_correction_undoes_the_milestone(store, dispatcher, tracker):
    store.mark_done("learner-1", ["certification", "degree"])
    await ActionCorrectProgress().run(dispatcher, tracker("actually I don't have the CCRP yet"), {})
    assert store.completed("learner-1") == {"degree"}
    assert "no longer marked done" in reply_text(dispatcher)


async def test_progress_is_a_checklist_with_a_percentage(store, dispatcher, tracker):
    store.mark_done("learner-1", ["degree", "certification", "leadership"])
    await ActionShowProgress().run(dispatcher, tracker("show my progress"), {})
    text = reply_text(dispatcher)
    assert text.startswith(f"Your progress: {progress_summary(3)}.")
    assert f"[x] {step_title('certification')}" in text
    assert f"[ ] {step_title('graduate_degree')}" in text


async def test_next_steps_skip_what_the_learner_has(kb, store, dispatcher, tracker):
    store.mark_done("learner-1", ["degree", "graduate_degree"])
    await ActionSuggestNextSteps().run(dispatcher, tracker("what next?"), {})
    text = reply_text(dispatcher)
    # The path's own order after the two degrees.
    following = [step.title for step in kb.path() if "degree" not in step.key][:3]
    for position, title in enumerate(following, start=1):
        assert f"{position}. {title}" in text
    assert "bachelor" not in text.lower()
    assert "Source: " in text


async def test_each_learner_sees_only_their_own_progress(store, dispatcher, tracker):
    store.mark_done("someone-else", ["degree", "certification"])
    await ActionShowProgress().run(dispatcher, tracker("show my progress"), {})
    assert reply_text(dispatcher).startswith(f"Your progress: {progress_summary(0)}.")


async def test_a_question_is_answered_and_nothing_recorded_from_it(store, dispatcher, tracker):
    message = tracker("is health sciences a sensible degree to pick?", intent="tell_about_myself")
    events = await ActionRecordProgress().run(dispatcher, message, {})
    assert store.record("learner-1") is None
    assert "health sciences" in reply_text(dispatcher).splitlines()[0].lower()
    assert slot_events(events)["last_topic"] == "degrees"


async def test_a_statement_with_a_question_is_recorded_and_answered(store, dispatcher, tracker):
    message = tracker("I'm a nurse with a BSN, which certification should I get?")
    message.latest_message["intent_ranking"] = [
        {"name": "tell_about_myself", "confidence": 0.6},
        {"name": "ask_certifications", "confidence": 0.3},
    ]
    events = await ActionRecordProgress().run(dispatcher, message, {})
    assert store.completed("learner-1") == {"degree"}
    text = reply_text(dispatcher)
    assert text.startswith("Noted: Education: bachelor's degree (nursing)")
    assert "CCRP" in text  # the certifications answer
    assert slot_events(events)["last_topic"] == "certifications"


@pytest.mark.parametrize("follow_up", ["ask_more", "ask_about_item", "ask_which_of_those"])
async def test_a_follow_up_intent_is_not_taken_for_a_topic(follow_up, store, dispatcher, tracker):
    # NLU ranks the follow-up above the real topic: the topic is answered, the follow-up ignored.
    message = tracker(
        "I'm a nurse. Tell me more?",
        intent="tell_about_myself",
        entities=[{"entity": "job_title", "value": "nurse", "start": 6, "end": 11}],
        intent_ranking=[
            {"name": "tell_about_myself", "confidence": 0.4},
            {"name": follow_up, "confidence": 0.35},
            {"name": "ask_certifications", "confidence": 0.25},
        ],
    )
    events = await ActionRecordProgress().run(dispatcher, message, {})
    assert store.record("learner-1").profile.current_role == "nurse"
    text = reply_text(dispatcher)
    assert text.startswith("Noted: Current role: nurse.")
    assert "\nCertifications\n" in text
    assert slot_events(events)["last_topic"] == "certifications"


async def test_only_a_follow_up_intent_ranked_answers_no_topic(store, dispatcher, tracker):
    message = tracker(
        "I'm a nurse. Tell me more?",
        entities=[{"entity": "job_title", "value": "nurse", "start": 6, "end": 11}],
        intent_ranking=[{"name": "ask_more", "confidence": 0.9}],
    )
    events = await ActionRecordProgress().run(dispatcher, message, {})
    assert store.record("learner-1").profile.current_role == "nurse"
    # A nurse's work is hands-on clinical experience: noted, marked, no topic answered.
    assert responses_sent(dispatcher) == [
        "utter_noted",
        "utter_marked_done",
        "utter_progress_so_far",
    ]
    assert "last_topic" not in slot_events(events)


@pytest.mark.parametrize(
    ("background", "has_clinical_experience"),
    [
        ("I'm a nurse with a BSN", True),
        ("I work as a registered nurse", True),
        ("I'm a pharmacist", True),
        ("I'm an accountant", False),
        ("I'm a software engineer", False),
    ],
)
async def test_a_clinical_job_counts_as_clinical_experience_in_the_next_steps(
    background, has_clinical_experience, store, dispatcher, tracker
):
    title = background.split(" a ", 1)[-1].split(" an ", 1)[-1].removesuffix(" with a BSN")
    start = background.index(title)
    said = tracker(
        background,
        entities=[
            {"entity": "job_title", "value": title, "start": start, "end": start + len(title)}
        ],
    )
    await ActionRecordProgress().run(dispatcher, said, {})
    assert ("clinical_experience" in store.completed("learner-1")) is has_clinical_experience
    if has_clinical_experience:  # never told to go and get what their job gives them
        dispatcher.messages.clear()
        await ActionSuggestNextSteps().run(dispatcher, tracker("what next?"), {})
        assert step_title("clinical_experience") not in reply_text(dispatcher)


# While a write waits for a locked learner database, everyone else is answered.

WRITES = {
    "a report": lambda tracker: (ActionRecordProgress(), tracker("I passed the CCRP")),
    "an onboarding answer": lambda tracker: (
        ValidateOnboardingForm(),
        tracker("4 years", intent="inform", slots={"requested_slot": "years_experience"}),
    ),
    "a confirmed deletion": lambda tracker: (
        ActionHandleConfirmation(),
        tracker(
            "yes",
            intent="affirm",
            events=[
                {"event": "action", "name": ASK_DELETE},
                {"event": "action", "name": "action_listen"},
                {"event": "user", "text": "yes"},
            ],
        ),
    ),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_others_are_answered_while_a_write_waits_for_a_lock(
    write, learner_db_url, store, tracker, domain
):
    store.save("learner-1", profile={"current_role": "nurse"}, milestones=["degree"])
    store.mark_done("learner-2", ["degree", "leadership"])
    before = store.record("learner-1")
    writer, writers_message = write(tracker)
    writers_dispatcher = CollectingDispatcher()
    readers = [(ActionShowProgress(), CollectingDispatcher())]
    readers += [(ActionExportMyData(), CollectingDispatcher())]

    with write_locked(learner_db_url):  # for longer than a write may wait
        writing = asyncio.create_task(writer.run(writers_dispatcher, writers_message, domain))
        await asyncio.sleep(0)  # the write is under way first
        for reader, dispatcher in readers:
            await reader.run(dispatcher, tracker("", sender_id="learner-2"), domain)
            assert not writing.done()  # answered while the write still waits
        await writing

    assert reply_text(readers[0][1]).startswith(f"Your progress: {progress_summary(2)}.")
    assert step_title("leadership") in reply_text(readers[1][1])
    # The write said it could not save, and nothing of it lands, then or later.
    assert NOT_SAVED in responses_sent(writers_dispatcher)
    assert store.record("learner-1") == before


def test_every_action_runs_in_a_thread():
    executor = ActionExecutor()
    executor.register_package("actions")  # as the action server finds them
    assert executor.actions
    for name, run in executor.actions.items():
        assert getattr(run, "runs_in_a_thread", False), name
