"""action_answer_<topic>: every topic is answered from the knowledge base, with its source."""

import pytest

from actions import topic_answers
from actions.kb_loader import read_knowledge
from tests.conftest import KNOWLEDGE_DIR
from tests.support import reply_text, slot_events

TOPIC_ACTIONS = {
    cls.topic: cls
    for cls in vars(topic_answers).values()
    if isinstance(cls, type) and issubclass(cls, topic_answers.TopicAnswerAction) and cls.topic
}


def test_there_is_one_action_per_knowledge_base_topic():
    topics = {topic["key"] for topic in read_knowledge(KNOWLEDGE_DIR).topics}
    assert set(TOPIC_ACTIONS) == topics


@pytest.mark.parametrize("topic", sorted(TOPIC_ACTIONS))
async def test_each_topic_answer_comes_from_the_knowledge_base(topic, kb, dispatcher, tracker):
    events = await TOPIC_ACTIONS[topic]().run(dispatcher, tracker("tell me"), {})
    text = reply_text(dispatcher)
    info = kb.topic(topic)
    assert text.startswith(info.title)
    for fact in info.facts:
        assert fact.text in text
    assert "Source: " in text or "Sources: " in text
    assert slot_events(events)["last_topic"] == topic


async def test_certifications_list_their_items_for_follow_ups(dispatcher, tracker, kb_url):
    events = await topic_answers.ActionAnswerCertifications().run(
        dispatcher, tracker("which certifications should I get?"), {}
    )
    text = reply_text(dispatcher)
    assert "1) CCRP, 2) CHOM, 3) healthcare compliance certification" in text
    assert slot_events(events)["listed_items"] == [
        "CCRP",
        "CHOM",
        "healthcare compliance certification",
    ]


async def test_career_path_is_a_numbered_list_of_steps(dispatcher, tracker, kb):
    await topic_answers.ActionAnswerCareerPath().run(dispatcher, tracker("the steps?"), {})
    text = reply_text(dispatcher)
    for step in kb.path():
        assert f"{step.position}. {step.title}" in text


@pytest.mark.parametrize(
    ("action", "message", "entities", "heading"),
    [
        (
            topic_answers.ActionAnswerCertifications,
            "is the CCRP worth it?",
            [{"entity": "certification", "value": "CCRP"}],
            "CCRP (Certified Clinical Research Professional)",
        ),
        # No entity from NLU: the name is still found in the text.
        (
            topic_answers.ActionAnswerDegrees,
            "should I do a master of public health",
            [],
            "MPH (Master of Public Health)",
        ),
        (
            topic_answers.ActionAnswerWorkSettings,
            "what would a program manager do in a nursing home?",
            [{"entity": "role", "value": "Clinical Program Manager"}],
            "Long-term care facilities",
        ),
        (
            topic_answers.ActionAnswerCompliance,
            "do I really need to know hippa",
            [],
            "HIPAA (United States patient privacy law)",
        ),
    ],
)
async def test_a_question_naming_one_thing_gets_an_answer_about_it(
    action, message, entities, heading, dispatcher, tracker, kb_url
):
    await action().run(dispatcher, tracker(message, entities=entities), {})
    assert reply_text(dispatcher).startswith(heading)


async def test_a_question_naming_two_things_gets_the_overview(dispatcher, tracker, kb_url):
    await topic_answers.ActionAnswerCertifications().run(
        dispatcher, tracker("CCRP or CHOM, which is better?"), {}
    )
    assert reply_text(dispatcher).startswith("Certifications")


async def test_a_role_named_in_a_degree_question_does_not_hijack_the_answer(
    dispatcher, tracker, kb_url
):
    await topic_answers.ActionAnswerDegrees().run(
        dispatcher, tracker("what degree does a clinical ops manager need?"), {}
    )
    assert reply_text(dispatcher).startswith("Degrees and education")
