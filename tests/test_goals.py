"""Goals through the real actions: set (in one message or asked for), listed, done, postponed,
dropped, and the check-in that opens the next session once a goal falls due."""

from datetime import date

import pytest

from actions.goal_store import GoalStore
from actions.goals import (
    DATE_ASKED,
    GOAL_DUE,
    GOAL_IN_FOCUS,
    GOAL_TITLE,
    LISTED_GOALS,
    ActionListGoals,
    ActionSaveGoal,
    ActionSetGoalReminders,
    ActionUpdateGoal,
    ValidateGoalForm,
)
from actions.my_data import ActionExportMyData
from actions.progress import ActionRecordProgress, ActionShowProgress
from actions.session import ActionGreet, ActionSessionStart
from tests.support import progress_summary, reply_buttons, reply_text, responses_sent, slot_events

pytestmark = pytest.mark.usefixtures("kb_url", "learner_db_url")

TODAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The goals' clock, moved by COACH_TODAY as a running server's is."""

    def set_today(day: date) -> None:
        monkeypatch.setenv("COACH_TODAY", day.isoformat())

    set_today(TODAY)
    return set_today


@pytest.fixture
def goals(learner_db_url) -> GoalStore:
    return GoalStore(learner_db_url)


async def set_goal(message, tracker, dispatcher, domain, answers=()):
    """goal_form as Rasa runs it: the opening message, then each answer to the slot still
    missing, then action_save_goal. Returns the slots set along the way."""
    slots = {}
    events = await ValidateGoalForm().run(dispatcher, tracker(message, intent="set_goal"), domain)
    slots.update(slot_events(events))
    for answer in answers:
        missing = GOAL_TITLE if not slots.get(GOAL_TITLE) else GOAL_DUE
        asked = tracker(answer, intent="inform", slots={**slots, "requested_slot": missing})
        slots.update(slot_events(await ValidateGoalForm().run(dispatcher, asked, domain)))
    if slots.get(GOAL_TITLE) and slots.get(GOAL_DUE):
        events = await ActionSaveGoal().run(dispatcher, tracker(message, slots=slots), domain)
        slots.update(slot_events(events))
    return slots


async def test_a_goal_with_its_date_in_one_message_is_set_and_confirmed(
    goals, store, dispatcher, tracker, domain
):
    slots = await set_goal("I want to pass the CCRP by June 1", tracker, dispatcher, domain)
    [goal] = goals.open_goals("learner-1")
    assert (goal.title, goal.due_on, goal.milestone) == (
        "pass the CCRP",
        date(2027, 6, 1),
        "certification",
    )
    assert "Goal set: pass the CCRP, by Tuesday 1 June 2027." in reply_text(dispatcher)
    assert slots[GOAL_IN_FOCUS] == goal.id and slots[GOAL_TITLE] is None
    assert store.completed("learner-1") == set()  # an intention, not a milestone


async def test_a_goal_on_a_path_step_gets_a_plan_from_the_knowledge_base(
    kb, dispatcher, tracker, domain
):
    await set_goal("I want to pass the CCRP by June", tracker, dispatcher, domain)
    assert responses_sent(dispatcher) == [
        "utter_goal_set",
        "utter_goal_how_to_update",
        "utter_goal_plan",  # last: its keep / change / skip buttons stay on screen
    ]
    plan = dispatcher.messages[2]
    certification = next(step for step in kb.path() if step.key == "certification")
    ccrp = kb.resolve("CCRP")
    assert certification.title in plan["steps"] and ccrp.description in plan["steps"]
    assert plan["steps"].count("\n") in (1, 2)  # two or three actions
    assert plan["sources"].startswith("Source")


async def test_set_a_goal_asks_what_and_when(goals, dispatcher, tracker, domain):
    await set_goal("set a goal", tracker, dispatcher, domain, answers=["join ACRP", "in 3 weeks"])
    [goal] = goals.open_goals("learner-1")
    assert (goal.title, goal.due_on) == ("join ACRP", date(2026, 12, 21))
    assert goal.milestone == "professional_organisation"


async def test_a_date_in_the_answer_to_what_is_not_asked_for_again(
    goals, dispatcher, tracker, domain
):
    await set_goal("set a goal", tracker, dispatcher, domain, answers=["join ACRP in 3 weeks"])
    [goal] = goals.open_goals("learner-1")
    assert (goal.title, goal.due_on) == ("join ACRP", date(2026, 12, 21))


@pytest.mark.parametrize(
    ("message", "confidence", "title"),
    [
        ("banana lamp 3.14", 0.5, None),  # nonsense NLU half-ranked as set_goal: asked, not set
        ("zxq blorp frumious", 0.45, None),
        ("pass the CCRP by June", 0.5, "pass the CCRP"),  # names something the guides cover
        ("I'll apply to five jobs", 0.5, "apply to five jobs"),  # words of intention
        ("apply to five jobs this month", 0.9, "apply to five jobs"),  # NLU is sure
    ],
)
async def test_a_goal_is_taken_from_a_message_that_reads_as_one(
    message, confidence, title, goals, dispatcher, tracker, domain
):
    opening = tracker(message, intent="set_goal")
    opening.latest_message["intent"]["confidence"] = confidence
    slots = slot_events(await ValidateGoalForm().run(dispatcher, opening, domain))
    assert slots.get(GOAL_TITLE) == title
    assert goals.open_goals("learner-1") == []


async def test_a_goal_can_have_no_date(goals, dispatcher, tracker, domain):
    await set_goal("I'll update my CV", tracker, dispatcher, domain, answers=["no date"])
    [goal] = goals.open_goals("learner-1")
    assert goal.due_on is None
    assert "Goal set: update your CV, with no date set." in reply_text(dispatcher)


@pytest.mark.parametrize(
    "answer, response",
    [("someday", "utter_goal_date_unclear"), ("by last week", "utter_goal_date_passed")],
)
async def test_an_unclear_or_past_date_is_asked_again(
    answer, response, goals, dispatcher, tracker, domain
):
    slots = await set_goal("set a goal to join ACRP", tracker, dispatcher, domain, [answer])
    assert response in responses_sent(dispatcher)
    assert slots.get(GOAL_DUE) is None
    assert goals.open_goals("learner-1") == []


async def test_a_dated_plan_said_as_a_statement_opens_the_goal_form(
    store, dispatcher, tracker, domain
):
    events = await ActionRecordProgress().run(
        dispatcher, tracker("I'm planning to join ACRP next month"), domain
    )
    assert [(e["event"], e["name"]) for e in events] == [("followup", "goal_form")]
    assert store.completed("learner-1") == set()


async def test_my_goals_lists_open_goals_with_dates_and_what_is_overdue(
    goals, clock, dispatcher, tracker, domain
):
    goals.add("learner-1", "join ACRP", date(2026, 12, 1))
    goals.add("learner-1", "pass the CCRP", date(2027, 6, 1))
    clock(date(2026, 12, 5))
    events = await ActionListGoals().run(dispatcher, tracker("my goals"), domain)
    text = reply_text(dispatcher)
    assert "1. join ACRP, by Tuesday 1 December 2026 (overdue)" in text
    assert "2. pass the CCRP, by Tuesday 1 June 2027" in text
    assert len(slot_events(events)[LISTED_GOALS]) == 2


async def test_no_goals_says_how_to_set_one(dispatcher, tracker, domain):
    await ActionListGoals().run(dispatcher, tracker("my goals"), domain)
    assert responses_sent(dispatcher) == ["utter_no_goals"]


async def test_done_marks_the_goal_and_its_step(goals, store, dispatcher, tracker, domain):
    goal = goals.add("learner-1", "pass the CCRP", date(2027, 6, 1), "certification")
    await ActionUpdateGoal().run(dispatcher, tracker("I did it", intent="goal_done"), domain)
    assert goals.open_goals("learner-1") == []
    assert store.completed("learner-1") == {"certification"}
    assert f"Well done: {goal.title} is done!" in reply_text(dispatcher)
    assert progress_summary(1) in reply_text(dispatcher)


async def test_postpone_moves_the_goal_meant_by_its_position(goals, dispatcher, tracker, domain):
    first = goals.add("learner-1", "join ACRP", date(2026, 12, 31))
    second = goals.add("learner-1", "pass the CCRP", date(2027, 6, 1))
    listed = {LISTED_GOALS: [first.id, second.id]}
    message = tracker("push the second one to July", intent="postpone_goal", slots=listed)
    await ActionUpdateGoal().run(dispatcher, message, domain)
    moved = {g.id: g.due_on for g in goals.open_goals("learner-1")}
    assert moved == {first.id: date(2026, 12, 31), second.id: date(2027, 7, 31)}
    assert "Moved: pass the CCRP, now by Saturday 31 July 2027." in reply_text(dispatcher)


async def test_postpone_without_a_date_asks_for_one(goals, dispatcher, tracker, domain):
    goals.add("learner-1", "join ACRP", date(2026, 12, 31))
    await ActionUpdateGoal().run(dispatcher, tracker("new date", intent="postpone_goal"), domain)
    assert responses_sent(dispatcher) == ["utter_goal_new_date"]


async def test_drop_the_goal_named_by_its_words(goals, dispatcher, tracker, domain):
    goals.add("learner-1", "join ACRP", date(2026, 12, 31))
    goals.add("learner-1", "pass the CCRP", date(2027, 6, 1))
    await ActionUpdateGoal().run(
        dispatcher, tracker("drop the CCRP goal", intent="drop_goal"), domain
    )
    assert [g.title for g in goals.open_goals("learner-1")] == ["join ACRP"]


async def test_with_several_goals_and_none_meant_it_asks_which(goals, dispatcher, tracker, domain):
    goals.add("learner-1", "join ACRP", date(2026, 12, 31))
    goals.add("learner-1", "pass the CCRP", date(2027, 6, 1))
    await ActionUpdateGoal().run(dispatcher, tracker("I did it", intent="goal_done"), domain)
    assert responses_sent(dispatcher) == ["utter_which_goal"]
    assert len(goals.open_goals("learner-1")) == 2


async def test_a_reminders_button_acts_on_the_goal_it_is_about(goals, dispatcher, tracker, domain):
    goals.add("learner-1", "join ACRP", date(2026, 12, 31))
    ccrp = goals.add("learner-1", "pass the CCRP", date(2027, 6, 1))
    clicked = tracker(
        f'/goal_done{{"goal": {ccrp.id}}}',
        intent="goal_done",
        entities=[{"entity": "goal", "value": ccrp.id}],
    )
    await ActionUpdateGoal().run(dispatcher, clicked, domain)
    assert [g.title for g in goals.open_goals("learner-1")] == ["join ACRP"]


async def test_a_milestone_reported_done_completes_the_goal_on_it(
    goals, dispatcher, tracker, domain
):
    goals.add("learner-1", "pass the CCRP", date(2027, 6, 1), "certification")
    reported = tracker("I passed the CCRP", entities=[{"entity": "certification", "value": "CCRP"}])
    await ActionRecordProgress().run(dispatcher, reported, domain)
    assert goals.open_goals("learner-1") == []
    assert "Well done: pass the CCRP is done!" in reply_text(dispatcher)


async def test_the_next_session_after_a_goal_falls_due_opens_with_a_check_in_once(
    goals, clock, dispatcher, tracker, domain
):
    goal = goals.add("learner-1", "pass the CCRP", date(2026, 12, 1), "certification")
    clock(date(2026, 12, 2))
    events = await ActionSessionStart().run(dispatcher, tracker(""), domain)
    assert responses_sent(dispatcher)[-1] == "utter_goal_check_in"
    assert "You planned to pass the CCRP by Tuesday 1 December 2026." in reply_text(dispatcher)
    titles = [button["title"] for button in reply_buttons(dispatcher)]
    assert titles == ["Done", "Still working on it", "New date", "Drop it"]
    assert slot_events(events)[GOAL_IN_FOCUS] == goal.id

    again = type(dispatcher)()
    await ActionSessionStart().run(again, tracker(""), domain)
    assert "utter_goal_check_in" not in responses_sent(again)


@pytest.mark.parametrize(
    "intent, text, still_open, response",
    [
        ("goal_done", "/goal_done", False, "utter_goal_done"),
        ("goal_still_working", "/goal_still_working", True, "utter_goal_keep_going"),
        ("postpone_goal", "/postpone_goal", True, "utter_goal_new_date"),
        ("postpone_goal", "push it to March", True, "utter_goal_moved"),
        ("drop_goal", "/drop_goal", False, "utter_goal_dropped"),
    ],
)
async def test_a_check_in_answered_each_way(
    intent, text, still_open, response, goals, dispatcher, tracker, domain
):
    goal = goals.add("learner-1", "join ACRP", date(2026, 11, 30))
    goals.add("learner-1", "pass the CCRP", date(2027, 6, 1))
    answer = tracker(text, intent=intent, slots={GOAL_IN_FOCUS: goal.id})
    await ActionUpdateGoal().run(dispatcher, answer, domain)
    assert responses_sent(dispatcher)[0] == response
    assert (goal.id in {g.id for g in goals.open_goals("learner-1")}) is still_open


async def test_a_returning_learner_saying_hello_hears_where_they_stand(
    store, goals, dispatcher, tracker, domain
):
    store.mark_done("learner-1", ["degree"])
    goals.add("learner-1", "join ACRP", TODAY)
    await ActionGreet().run(dispatcher, tracker("hello again", intent="greet"), domain)
    assert responses_sent(dispatcher) == ["utter_welcome_back", "utter_goal_check_in"]


async def test_a_first_time_visitor_saying_hello_hears_the_introduction(
    dispatcher, tracker, domain
):
    await ActionGreet().run(dispatcher, tracker("hello", intent="greet"), domain)
    assert responses_sent(dispatcher) == ["utter_greet"]


async def test_goals_are_beside_the_checklist_and_in_the_export(
    goals, store, dispatcher, tracker, domain
):
    goals.add("learner-1", "join ACRP", date(2026, 12, 31))
    await ActionShowProgress().run(dispatcher, tracker("show my progress"), domain)
    assert "Your goals:\n1. join ACRP, by Thursday 31 December 2026" in reply_text(dispatcher)

    export = type(dispatcher)()
    await ActionExportMyData().run(export, tracker("export my data"), domain)
    assert "- Goal (open, due 2026-12-31, set " in reply_text(export)
    assert "): join ACRP" in reply_text(export)
    assert "- Direct messages when a goal falls due: on" in reply_text(export)


async def test_the_answer_to_which_date_moves_the_goal_whatever_its_intent(
    goals, dispatcher, tracker, domain
):
    goal = goals.add("learner-1", "join ACRP", date(2026, 11, 30))
    asked = await ActionUpdateGoal().run(
        dispatcher, tracker("/postpone_goal", intent="postpone_goal"), domain
    )
    assert slot_events(asked)[DATE_ASKED] is True
    answer = tracker("in two weeks", intent="inform", slots={DATE_ASKED: True})
    events = await ActionUpdateGoal().run(dispatcher, answer, domain)
    assert slot_events(events)[DATE_ASKED] is False
    assert goals.open_goals("learner-1")[0].due_on == date(2026, 12, 14)
    assert goal.id == goals.open_goals("learner-1")[0].id


async def test_no_reminders_is_kept_and_shown_in_the_export(store, dispatcher, tracker, domain):
    await ActionSetGoalReminders().run(
        dispatcher, tracker("no reminders", intent="stop_reminders"), domain
    )
    assert responses_sent(dispatcher) == ["utter_reminders_off"]
    assert store.takes_goal_reminders("learner-1") is False
    export = type(dispatcher)()
    await ActionExportMyData().run(export, tracker("export my data"), domain)
    assert "- Direct messages when a goal falls due: off" in reply_text(export)
