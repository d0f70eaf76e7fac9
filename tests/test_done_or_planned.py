"""A learner's record holds only what they say they HAVE done. Plans, wishes, questions,
conditions and negations are not achievements, whatever the wording (action_record_progress)."""

import pytest

from actions.progress import ActionRecordProgress, ActionShowProgress
from tests.support import progress_summary, reply_text

# Every test here runs on a fresh knowledge base and an empty learner database.
pytestmark = pytest.mark.usefixtures("kb_url", "learner_db_url")

MASTERS = {"degree", "graduate_degree"}  # a master's also counts the bachelor's
NETWORK = {"professional_organisation"}
CERTIFIED = {"certification"}


def milestone_said(text: str, phrase: str, milestone: str) -> list[dict]:
    """The `milestone` entity NLU gives for a step that is not a named thing, at its place."""
    start = text.index(phrase)
    return [{"entity": "milestone", "value": milestone, "start": start, "end": start + len(phrase)}]


def row(text: str, recorded: set[str], phrase: str = "", milestone: str = ""):
    entities = milestone_said(text, phrase, milestone) if phrase else []
    return pytest.param(text, entities, recorded, id=text)


WORDINGS = [
    # Plans, wishes and intentions.
    row("I'm planning to join ACRP next month", set()),
    row("I hope to get my MBA someday", set()),
    row("I want to pass the CCRP exam by June 1", set()),
    row("I'm thinking about an MPH", set()),
    row("I'd like to get certified", set(), "get certified", "certification"),
    row("I would like to do an MHA", set()),
    row("I will join ACRP", set()),
    row("I'm going to take the CCRP", set()),
    row("I'm gonna sign up for ACHE soon", set()),
    row("next year I'll start my MHA", set()),
    row("maybe I'll do an MBA", set()),
    row("I might get the CHOM", set()),
    row("I wanna join ACHE", set()),
    row("I intend to take the CHOM", set()),
    row("my aim is to get the CCRP", set()),
    row("I'm considering the MHA", set()),
    row("eventually an MPH", set()),
    row("I'm hoping to lead a team one day", set(), "lead a team", "leadership"),
    row("I could join ACHE", set()),
    row("I need the CCRP for most manager jobs", set()),
    row("I'm studying for the CCRP", set()),
    row("I want an MHA and an MBA", set()),
    row("I'm considering ACHE or ACRP", set()),
    # Questions and conditions.
    row("should I join ACRP?", set()),
    row("should I join ACRP", set()),
    row("is the CCRP worth it", set()),
    row("do I need an MHA", set()),
    row("if I get the CCRP I can apply for research coordinator jobs", set()),
    row("I'll join ACRP if my employer pays", set()),
    # Negations.
    row("I don't have the CCRP yet", set()),
    row("I haven't joined ACRP", set()),
    row(
        "I haven't joined any organisation",
        set(),
        "joined any organisation",
        "professional_organisation",
    ),
    row("I never finished my degree", set(), "finished my degree", "degree"),
    row("not certified yet", set(), "certified", "certification"),
    row("I'm not a member of ACRP", set()),
    row("I didn't pass the CHOM", set()),
    row("I failed the CCRP", set()),
    row("I have no MBA", set()),
    row("I'm yet to join ACHE", set()),
    row("I'm no longer a team lead", set()),
    # Past achievements.
    row("I passed the CCRP", CERTIFIED),
    row("I've joined ACRP", NETWORK),
    row("finished my MHA last year", MASTERS),
    row("I got the CHOM last month", CERTIFIED),
    row("I completed my MPH in May", MASTERS),
    row("In May I joined ACRP", NETWORK),
    row("I became certified last week", CERTIFIED, "became certified", "certification"),
    row("I was promoted to assistant manager", {"leadership"}),
    # Present achievements.
    row("I'm a member of ACRP", NETWORK),
    row("I hold an MHA", MASTERS),
    row("I have a BSN", {"degree"}),
    row("I already have the CCRP and the CHOM", CERTIFIED),
    row("I've been leading a small team", {"leadership"}, "leading a small team", "leadership"),
    row("I'm now an assistant manager", {"leadership"}),
    # Both in one message: only the part said as done counts.
    row("I have a BSN and I want to get an MHA next year", {"degree"}),
    row("I passed the CCRP but I haven't joined ACRP", CERTIFIED),
    row("I don't have the CCRP yet but I'm a member of ACRP", NETWORK),
    row("I'm planning to join ACRP, I passed the CCRP in March", CERTIFIED),
    row("I've joined ACRP, no certification yet", NETWORK),
    row("I'm a research coordinator who wants an MHA", {"clinical_experience"}),
    row("I hold an MBA and I'm thinking about the CCRP", MASTERS),
    row("I'm a team lead and I'd like to get the CHOM", {"leadership"}),
    row("I'm not certified but I'm a member of ACHE", NETWORK),
    # "already" says its clause is an achievement of its own, not more of the plan ("just" would
    # not: "just the CCRP" can be wanted too).
    row("I'm planning to join ACRP and already have a BSN", {"degree"}),
    row("I want an MHA and just the CCRP", set()),
]


@pytest.mark.parametrize(("message", "entities", "recorded"), WORDINGS)
async def test_only_what_is_said_as_done_is_recorded(
    message, entities, recorded, store, dispatcher, tracker
):
    await ActionRecordProgress().run(dispatcher, tracker(message, entities=entities), {})
    assert store.completed("learner-1") == recorded


@pytest.mark.parametrize(
    ("message", "stated", "not_stated"),
    [
        # The target role is an intention by nature; the rest must be where the learner is now.
        (
            "I want to become a clinical program manager",
            {"target_role": "Clinical Program Manager"},
            (),
        ),
        (
            "I have a BSN and I want to get an MHA next year",
            {"education_level": "bachelor", "education_field": "nursing"},
            (),
        ),
        ("I'm going to get my BSN", {}, ("education_level", "education_field")),
        ("I don't have a BSN", {}, ("education_level", "education_field")),
        ("I have no degree yet", {"education_level": "none"}, ()),
        ("I want to become a research coordinator", {}, ("current_role",)),
        ("I'm not a research coordinator anymore", {}, ("current_role",)),
        ("I'd like 5 years in a hospital first", {}, ("years_experience",)),
        (
            "I've been a research coordinator for 2 years",
            {"current_role": "clinical research coordinator", "years_experience": 2},
            (),
        ),
    ],
)
async def test_profile_facts_are_where_the_learner_stands_now(
    message, stated, not_stated, store, dispatcher, tracker
):
    await ActionRecordProgress().run(dispatcher, tracker(message), {})
    record = store.record("learner-1")
    profile = record.profile.known() if record else {}
    assert stated.items() <= profile.items()
    assert not set(not_stated) & set(profile)


@pytest.mark.parametrize(
    "message",
    ["I'm planning to join ACRP", "I hope to pass the CCRP exam", "I haven't joined ACRP"],
)
async def test_a_plan_is_acknowledged_without_claiming_a_mark(message, store, dispatcher, tracker):
    await ActionRecordProgress().run(dispatcher, tracker(message), {})
    assert "not done yet, so I haven't marked it" in reply_text(dispatcher)
    assert store.record("learner-1") is None


@pytest.mark.parametrize(
    "message", ["I'm planning to join ACRP next month", "I want to pass the CCRP exam by June 1"]
)
async def test_a_plan_with_a_date_becomes_a_goal_not_a_mark(message, store, dispatcher, tracker):
    events = await ActionRecordProgress().run(dispatcher, tracker(message), {})
    assert [event["name"] for event in events] == ["goal_form"]  # tests/test_goals.py goes on
    assert store.record("learner-1") is None


async def test_a_mixed_message_marks_only_what_is_done(store, dispatcher, tracker):
    message = tracker("I have a BSN and I want to get an MHA next year")
    await ActionRecordProgress().run(dispatcher, message, {})
    text = reply_text(dispatcher)
    assert "Marked done: Earn a bachelor's degree in a related field." in text
    assert "master" not in text.lower()


async def test_plans_leave_the_checklist_empty(dispatcher, tracker):
    for plan in ("I'm planning to join ACRP next month", "I hope to get my MBA someday"):
        await ActionRecordProgress().run(dispatcher, tracker(plan), {})
    dispatcher.messages.clear()
    await ActionShowProgress().run(dispatcher, tracker("show my progress"), {})
    assert reply_text(dispatcher).startswith(f"Your progress: {progress_summary(0)}.")
