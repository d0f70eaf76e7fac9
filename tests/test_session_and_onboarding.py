"""A returning learner is recognised; onboarding stores each answer as it is understood."""

import pytest

from actions.onboarding import ActionAskPreferredSetting, ValidateOnboardingForm
from actions.progress import NOT_SAVED
from actions.session import ActionSessionStart
from tests.support import (
    DOMAIN,
    progress_summary,
    refuse_writes,
    reply_buttons,
    reply_text,
    responses_sent,
    slot_events,
    step_title,
)

# Every test here runs on a fresh knowledge base and an empty learner database.
pytestmark = pytest.mark.usefixtures("kb_url", "learner_db_url")


async def test_a_new_learner_starts_silently(dispatcher, tracker):
    events = await ActionSessionStart().run(dispatcher, tracker("/session_start"), {})
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert dispatcher.messages == []


async def test_a_returning_learner_is_greeted_with_where_they_stand(store, dispatcher, tracker):
    store.update_profile("learner-1", target_role="Clinical Program Manager")
    store.mark_done("learner-1", ["degree", "graduate_degree"])
    events = await ActionSessionStart().run(dispatcher, tracker("/session_start"), {})
    assert reply_text(dispatcher) == (
        f"Welcome back! You have {progress_summary(2)}. "
        f"Next up: {step_title('certification').lower()}."
    )
    assert slot_events(events)["target_role"] == "Clinical Program Manager"


def form_tracker(tracker, requested_slot, text, intent="inform"):
    return tracker(text, intent=intent, slots={"requested_slot": requested_slot})


@pytest.mark.parametrize(
    ("slot", "answer", "stored"),
    [
        ("target_role", "ops manager", {"target_role": "Clinical Operations Manager"}),
        ("target_role", "Clinical Program Manager", {"target_role": "Clinical Program Manager"}),
        ("education", "a bachelor's in nursing", {"education_level": "bachelor"}),
        ("education", "master of public health", {"education_level": "master"}),
        ("current_role", "I'm a lab technician", {"current_role": "lab technician"}),
        ("current_role", "research coordinator", {"current_role": "clinical research coordinator"}),
        ("years_experience", "about five years", {"years_experience": 5}),
        ("years_experience", "none", {"years_experience": 0}),
        ("preferred_setting", "pharma", {"preferred_setting": "pharmaceutical companies"}),
    ],
)
async def test_each_answer_is_understood_and_stored_at_once(
    slot, answer, stored, store, dispatcher, tracker, domain
):
    events = await ValidateOnboardingForm().run(
        dispatcher, form_tracker(tracker, slot, answer), domain
    )
    assert slot_events(events).get(slot) not in (None, "skipped")
    profile = store.record("learner-1").profile.known()
    assert stored.items() <= profile.items()


async def test_a_masters_answer_marks_both_degree_milestones(store, dispatcher, tracker, domain):
    await ValidateOnboardingForm().run(
        dispatcher, form_tracker(tracker, "education", "an MHA"), domain
    )
    assert store.completed("learner-1") == {"degree", "graduate_degree"}


@pytest.mark.parametrize(
    ("slot", "answer", "refused_table"),
    [
        ("target_role", "Clinical Program Manager", "learners"),
        ("education", "a bachelor's in nursing", "learners"),
        ("education", "an MHA", "learner_milestones"),  # the profile and milestones: all or none
        ("current_role", "research coordinator", "learners"),
        ("current_role", "research coordinator", "learner_milestones"),
        ("years_experience", "4 years", "learners"),
        ("preferred_setting", "pharma", "learners"),
    ],
)
async def test_an_answer_that_cannot_be_saved_says_so_and_is_asked_again(
    slot, answer, refused_table, learner_db_url, store, dispatcher, tracker, domain
):
    refuse_writes(learner_db_url, "INSERT", refused_table)
    events = await ValidateOnboardingForm().run(
        dispatcher, form_tracker(tracker, slot, answer), domain
    )
    assert slot_events(events)[slot] is None
    assert responses_sent(dispatcher) == [NOT_SAVED]
    assert store.record("learner-1") is None


async def test_an_answer_it_cannot_use_is_asked_again(store, dispatcher, tracker, domain):
    events = await ValidateOnboardingForm().run(
        dispatcher, form_tracker(tracker, "years_experience", "quite a while"), domain
    )
    assert slot_events(events)["years_experience"] is None
    assert "A number of years" in reply_text(dispatcher)
    assert store.record("learner-1") is None


async def test_skip_moves_on_without_storing(store, dispatcher, tracker, domain):
    events = await ValidateOnboardingForm().run(
        dispatcher, form_tracker(tracker, "education", "skip", intent="skip"), domain
    )
    assert slot_events(events)["education"] == "skipped"
    assert store.record("learner-1") is None


async def test_a_question_in_the_middle_is_not_taken_as_an_answer(dispatcher, tracker, domain):
    message = form_tracker(
        tracker, "current_role", "what certifications should I get?", "ask_certifications"
    )
    events = await ValidateOnboardingForm().run(dispatcher, message, domain)
    assert "current_role" not in slot_events(events)


async def test_setting_buttons_come_from_the_knowledge_base(kb, dispatcher, tracker):
    await ActionAskPreferredSetting().run(dispatcher, tracker(""), {})
    payloads = [button["payload"] for button in reply_buttons(dispatcher)]
    assert payloads == ["no preference"] + [item.name for item in kb.topic("work_settings").items]


@pytest.mark.parametrize("slot", DOMAIN["forms"]["onboarding_form"]["required_slots"])
def test_the_form_has_a_question_for_each_of_its_slots(slot):
    assert f"utter_ask_{slot}" in DOMAIN["responses"]


async def test_finishing_onboarding_gives_next_steps_for_what_was_said(store, dispatcher, tracker):
    from actions.onboarding import ActionOnboardingDone

    store.mark_done("learner-1", ["degree"])
    await ActionOnboardingDone().run(dispatcher, tracker(""), {})
    text = reply_text(dispatcher)
    assert text.startswith("Thanks, that's your profile set up.")
    assert "1. Consider a master's degree" in text
