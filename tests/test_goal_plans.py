"""A goal's plan through the real actions: proposed from the knowledge base when a goal on a path
step is set, then kept, changed or skipped; only what the learner keeps is stored."""

from datetime import date

import pytest

from actions.goal_plans import (
    PLAN_CHANGES,
    PLAN_IN_VIEW,
    ActionChangePlan,
    ActionKeepOrSkipPlan,
    ActionSavePlan,
    ValidatePlanForm,
    changed_plan,
    proposed_plan,
)
from actions.goal_store import GoalRecord, GoalStore, PlanStep
from actions.goals import ActionListGoals
from actions.my_data import ActionExportMyData, ActionHandleConfirmation
from tests.support import reply_buttons, reply_text, responses_sent, slot_events
from tests.test_goals import set_goal

pytestmark = pytest.mark.usefixtures("kb_url", "learner_db_url")

A, B, C = (PlanStep(text, "guide.md") for text in ("join ACRP", "take GCP training", "apply"))
OWN = PlanStep("ask my manager about a trial week", None)


@pytest.mark.parametrize(
    ("answer", "plan"),
    [
        ("1 and 3", [A, C]),
        ("keep the first and third", [A, C]),
        ("2", [B]),
        ("keep 2 and 3.", [B, C]),
        ("the first and the last", [A, C]),
        ("the fourth", [A, B, C]),  # names no step shown: nothing is lost
        ("1, 2", [A, B]),
        ("all", [A, B, C]),
        ("keep them all", [A, B, C]),
        ("none", []),
        ("nothing", []),
        ("7", [A, B, C]),  # names no step shown: nothing is lost
        ("ask my manager about a trial week", [A, B, C, OWN]),
        ("1; ask my manager about a trial week", [A, OWN]),
        ("1 and 3; ask my manager about a trial week", [A, C, OWN]),
        ("none; ask my manager about a trial week", [OWN]),
        (
            "2\nask my manager about a trial week\nread ICH GCP",
            [B, OWN, PlanStep("read ICH GCP", None)],
        ),
        ("all; ask my manager about a trial week;", [A, B, C, OWN]),
    ],
)
def test_changes_in_the_learners_words(answer, plan):
    assert changed_plan(answer, [A, B, C]) == plan


def test_a_plan_proposes_three_different_actions_from_the_guides(kb):
    goal = GoalRecord(1, "join ACRP", "professional_organisation", None, "open", None)
    step = next(s for s in kb.path() if s.key == goal.milestone)
    acrp = kb.resolve("ACRP")
    conferences = next(f for f in kb.topic("networking").facts if "conferences" in f.text)
    # Not also "Join a professional organisation such as ... ACRP", which the ACRP item says.
    assert [action.text for action in proposed_plan(kb, goal, "join ACRP next month")] == [
        f"{step.title}: {step.text}",
        f"{acrp.heading}: {acrp.description}",
        conferences.text,
    ]


@pytest.fixture
def goals(learner_db_url) -> GoalStore:
    return GoalStore(learner_db_url)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("COACH_TODAY", "2026-11-30")


async def proposed(tracker, dispatcher, domain) -> dict:
    """A goal on the certification step, set in one message: the slots after action_save_goal."""
    slots = await set_goal("I want to pass the CCRP by June", tracker, dispatcher, domain)
    dispatcher.messages.clear()
    return slots


def after_the_proposal(tracker, text: str, intent: str, slots: dict):
    """The learner's answer right after action_save_goal proposed the plan."""
    return tracker(
        text,
        intent=intent,
        slots=slots,
        events=[
            {"event": "action", "name": "action_save_goal"},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text},
        ],
    )


async def test_a_proposed_plan_is_not_stored_until_kept(goals, tracker, dispatcher, domain):
    await set_goal("I want to pass the CCRP by June", tracker, dispatcher, domain)
    [goal] = goals.open_goals("learner-1")
    assert goal.plan == ()
    assert [b["payload"] for b in reply_buttons(dispatcher)] == [
        "/keep_plan",
        "/change_plan",
        "/skip_plan",
    ]


async def test_keep_this_plan_stores_the_steps_proposed(goals, tracker, dispatcher, domain):
    slots = await proposed(tracker, dispatcher, domain)
    shown = slots[PLAN_IN_VIEW]["steps"]
    events = await ActionKeepOrSkipPlan().run(
        dispatcher, tracker("/keep_plan", intent="keep_plan", slots=slots), domain
    )
    [goal] = goals.open_goals("learner-1")
    assert [[step.text, step.source] for step in goal.plan] == shown
    assert responses_sent(dispatcher) == ["utter_plan_kept"]
    assert slot_events(events)[PLAN_IN_VIEW] is None


@pytest.mark.parametrize(
    ("text", "intent", "kept"),
    [
        ("yes", "affirm", True),
        ("keep it", "deny", True),
        ("no thanks", "deny", False),
        ("no, don't keep it", "deny", False),
    ],
)
async def test_yes_or_no_right_after_the_proposal(
    text, intent, kept, goals, tracker, dispatcher, domain
):
    slots = await proposed(tracker, dispatcher, domain)
    answer = after_the_proposal(tracker, text, intent, slots)
    await ActionHandleConfirmation().run(dispatcher, answer, domain)
    [goal] = goals.open_goals("learner-1")
    assert bool(goal.plan) is kept
    assert responses_sent(dispatcher) == ["utter_plan_kept" if kept else "utter_plan_skipped"]


async def test_skip_it_stores_no_plan(goals, tracker, dispatcher, domain):
    slots = await proposed(tracker, dispatcher, domain)
    await ActionKeepOrSkipPlan().run(
        dispatcher, tracker("skip the plan", intent="skip_plan", slots=slots), domain
    )
    [goal] = goals.open_goals("learner-1")
    assert goal.plan == ()
    assert "no plan for pass the CCRP" in reply_text(dispatcher)


async def change(tracker, dispatcher, domain, slots: dict, answer: str) -> dict:
    """ "Change the plan", then plan_form's one question answered, then action_save_plan."""
    events = await ActionChangePlan().run(
        dispatcher, tracker("change the plan", intent="change_plan", slots=slots), domain
    )
    slots = {**slots, **slot_events(events), "requested_slot": PLAN_CHANGES}
    events = await ValidatePlanForm().run(
        dispatcher, tracker(answer, intent="inform", slots=slots), domain
    )
    slots = {**slots, **slot_events(events)}
    events = await ActionSavePlan().run(dispatcher, tracker(answer, slots=slots), domain)
    return {**slots, **slot_events(events)}


async def test_change_it_keeps_the_steps_chosen_and_the_learners_own(
    goals, tracker, dispatcher, domain
):
    slots = await proposed(tracker, dispatcher, domain)
    first = slots[PLAN_IN_VIEW]["steps"][0][0]
    slots = await change(tracker, dispatcher, domain, slots, "1; ask my manager about a trial week")
    [goal] = goals.open_goals("learner-1")
    assert [(step.text, step.source is None) for step in goal.plan] == [
        (first, False),
        ("ask my manager about a trial week", True),
    ]
    said = reply_text(dispatcher)
    assert "The plan for pass the CCRP:\n1. " in said  # shown numbered before the question
    assert "2. ask my manager about a trial week (your own)" in said
    assert slots[PLAN_IN_VIEW] is None and slots[PLAN_CHANGES] is None


async def test_a_kept_plan_is_changed_later_and_shown_with_my_goals(
    goals, tracker, dispatcher, domain
):
    goal = goals.add("learner-1", "update my CV", date(2026, 12, 20))  # on no path step
    await change(tracker, dispatcher, domain, {}, "add my GCP training; ask two referees")
    assert "No plan for update your CV yet" in reply_text(dispatcher)
    dispatcher.messages.clear()
    await change(tracker, dispatcher, domain, {}, "2")
    [goal] = goals.open_goals("learner-1")
    assert [step.text for step in goal.plan] == ["ask two referees"]

    dispatcher.messages.clear()
    await ActionListGoals().run(dispatcher, tracker("my goals", intent="list_goals"), domain)
    assert responses_sent(dispatcher) == ["utter_goals", "utter_plan_of_goal"]
    assert "1. ask two referees (your own)" in reply_text(dispatcher)


async def test_a_plan_is_part_of_the_learners_data(goals, tracker, dispatcher, domain):
    goal = goals.add("learner-1", "join ACRP", None, milestone="professional_organisation")
    goals.set_plan("learner-1", goal.id, [OWN])
    await ActionExportMyData().run(dispatcher, tracker("export my data"), domain)
    assert '- Plan step of "join ACRP": ask my manager about a trial week' in reply_text(dispatcher)


async def test_nothing_to_keep_says_how_to_get_a_plan(goals, tracker, dispatcher, domain):
    await ActionKeepOrSkipPlan().run(dispatcher, tracker("keep the plan", "keep_plan"), domain)
    assert responses_sent(dispatcher) == ["utter_no_plan_in_view"]


async def test_a_plan_for_a_goal_dropped_since_is_not_kept(goals, tracker, dispatcher, domain):
    slots = await proposed(tracker, dispatcher, domain)
    other = goals.add("learner-1", "join ACRP", None, milestone="professional_organisation")
    goals.drop("learner-1", slots[PLAN_IN_VIEW]["goal"])
    await ActionKeepOrSkipPlan().run(
        dispatcher, tracker("/keep_plan", intent="keep_plan", slots=slots), domain
    )
    assert responses_sent(dispatcher) == ["utter_no_plan_in_view"]
    assert [goal.plan for goal in goals.all_goals("learner-1")] == [(), ()]  # nor the other's
    assert other.plan == ()


async def test_change_the_plan_with_no_goals_opens_nothing(goals, tracker, dispatcher, domain):
    events = await ActionChangePlan().run(
        dispatcher, tracker("change the plan", intent="change_plan"), domain
    )
    assert responses_sent(dispatcher) == ["utter_no_goals"]
    assert slot_events(events)[PLAN_IN_VIEW] is None  # so plan_form ends at once
    form = tracker("change the plan", slots={PLAN_IN_VIEW: None})
    assert await ValidatePlanForm().required_slots([PLAN_CHANGES], dispatcher, form, domain) == []
