"""action_answer_topic: every topic question (ask_<topic>) is answered from the knowledge base,
with its source."""

import pytest

from actions import topic_answers
from actions.kb_loader import read_knowledge
from tests.conftest import KNOWLEDGE_DIR
from tests.support import reply_text, slot_events

TOPICS = [topic["key"] for topic in read_knowledge(KNOWLEDGE_DIR).topics]


async def answer(dispatcher, tracker, topic: str, message: str, **kwargs) -> list:
    """What action_answer_topic does for `message`, understood as the topic's intent."""
    learner_said = tracker(message, intent=f"ask_{topic}", **kwargs)
    return await topic_answers.ActionAnswerTopic().run(dispatcher, learner_said, {})


@pytest.mark.parametrize("topic", TOPICS)
async def test_each_topic_answer_comes_from_the_knowledge_base(topic, kb, dispatcher, tracker):
    events = await answer(dispatcher, tracker, topic, "tell me")
    text = reply_text(dispatcher)
    info = kb.topic(topic)
    assert text.startswith(info.title)
    for fact in info.facts:
        assert fact.text in text
    assert "Source: " in text or "Sources: " in text
    assert slot_events(events)["last_topic"] == topic


@pytest.mark.parametrize("intent", ["ask_more", "ask_about_item", "ask_which_of_those", "greet"])
async def test_an_intent_that_asks_no_topic_gets_no_answer(intent, dispatcher, tracker, kb_url):
    events = await topic_answers.ActionAnswerTopic().run(dispatcher, tracker("x", intent), {})
    assert events == [] and dispatcher.messages == []


async def test_certifications_list_their_items_for_follow_ups(dispatcher, tracker, kb_url):
    events = await answer(dispatcher, tracker, "certifications", "which certifications do I need?")
    text = reply_text(dispatcher)
    assert "1) CCRP, 2) CHOM, 3) healthcare compliance certification" in text
    assert slot_events(events)["listed_items"] == [
        "CCRP",
        "CHOM",
        "healthcare compliance certification",
    ]


async def test_career_path_is_a_numbered_list_of_steps(dispatcher, tracker, kb):
    await answer(dispatcher, tracker, "career_path", "the steps?")
    text = reply_text(dispatcher)
    for step in kb.path():
        assert f"{step.position}. {step.title}" in text


@pytest.mark.parametrize(
    ("topic", "message", "entities", "heading"),
    [
        (
            "certifications",
            "is the CCRP worth it?",
            [{"entity": "certification", "value": "CCRP"}],
            "CCRP (Certified Clinical Research Professional)",
        ),
        # No entity from NLU: the name is still found in the text.
        (
            "degrees",
            "should I do a master of public health",
            [],
            "MPH (Master of Public Health)",
        ),
        (
            "work_settings",
            "what would a program manager do in a nursing home?",
            [{"entity": "role", "value": "Clinical Program Manager"}],
            "Long-term care facilities",
        ),
        (
            "compliance",
            "do I really need to know hippa",
            [],
            "HIPAA (United States patient privacy law)",
        ),
    ],
)
async def test_a_question_naming_one_thing_gets_an_answer_about_it(
    topic, message, entities, heading, dispatcher, tracker, kb_url
):
    await answer(dispatcher, tracker, topic, message, entities=entities)
    assert reply_text(dispatcher).startswith(heading)


async def test_a_question_naming_two_things_gets_the_overview(dispatcher, tracker, kb_url):
    await answer(dispatcher, tracker, "certifications", "CCRP or CHOM, which is better?")
    assert reply_text(dispatcher).startswith("Certifications")


async def test_a_role_named_in_a_degree_question_does_not_hijack_the_answer(
    dispatcher, tracker, kb_url
):
    await answer(dispatcher, tracker, "degrees", "what degree does a clinical ops manager need?")
    assert reply_text(dispatcher).startswith("Degrees and education")


@pytest.mark.parametrize(
    ("ranking", "topic"),
    [
        ([("ask_more", 0.6), ("ask_degrees", 0.3)], "degrees"),
        ([("ask_about_item", 0.5), ("ask_which_of_those", 0.4)], None),
        ([("ask_certifications", 0.1)], None),  # too unsure to count
        ([("tell_about_myself", 0.7), ("ask_career_path", 0.2)], "career_path"),
    ],
)
def test_only_knowledge_base_topics_count_as_asked(ranking, topic, tracker, kb_url):
    ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    assert topic_answers.topic_asked(tracker("...", intent_ranking=ranked)) == topic


async def test_an_unknown_topic_gets_no_answer_and_no_crash(dispatcher, tracker, kb_url):
    assert topic_answers.answer_topic(dispatcher, tracker("tell me more"), "more") == []
    assert dispatcher.messages == []
