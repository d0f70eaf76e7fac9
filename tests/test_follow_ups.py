"""Follow-ups refer back to the previous answer."""

import pytest

from actions.conversation import referenced_position
from actions.follow_ups import ActionAnswerFollowUp, ActionAnswerWhichOfThose
from tests.support import reply_text, slot_events

AFTER_CERTIFICATIONS = {
    "last_topic": "certifications",
    "listed_items": ["CCRP", "CHOM", "healthcare compliance certification"],
}
AFTER_SETTINGS = {
    "last_topic": "work_settings",
    "listed_items": [
        "pharmaceutical companies",
        "medical research and development facilities",
        "testing laboratories",
        "hospitals",
        "doctors' offices",
        "long-term care facilities",
    ],
}


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("tell me more about the first one", 0),
        ("what about the 2nd", 1),
        ("and the third?", 2),
        ("explain the last one", -1),
        ("number 2 please", 1),
        ("tell me more", None),
        ("what about one of them", None),
    ],
)
def test_referenced_position(text, position):
    assert referenced_position(text) == position


async def test_the_first_one_is_the_first_item_listed(dispatcher, tracker, kb_url):
    message = tracker("tell me more about the first one", slots=AFTER_CERTIFICATIONS)
    await ActionAnswerFollowUp().run(dispatcher, message, {})
    assert reply_text(dispatcher).startswith("CCRP (Certified Clinical Research Professional)")


async def test_and_what_about_chom(dispatcher, tracker, kb_url):
    message = tracker(
        "and what about CHOM?",
        entities=[{"entity": "certification", "value": "CHOM"}],
        slots=AFTER_CERTIFICATIONS,
    )
    events = await ActionAnswerFollowUp().run(dispatcher, message, {})
    assert reply_text(dispatcher).startswith("CHOM (Certified Healthcare Operations Management)")
    assert slot_events(events)["last_topic"] == "certifications"


async def test_a_named_thing_from_another_topic_moves_the_conversation(dispatcher, tracker, kb_url):
    message = tracker("what about ACRP?", slots=AFTER_CERTIFICATIONS)
    events = await ActionAnswerFollowUp().run(dispatcher, message, {})
    assert "Association of Clinical Research Professionals" in reply_text(dispatcher)
    assert slot_events(events)["last_topic"] == "networking"


async def test_a_position_past_the_end_says_how_many_were_listed(dispatcher, tracker, kb_url):
    message = tracker("tell me about the fifth one", slots=AFTER_CERTIFICATIONS)
    await ActionAnswerFollowUp().run(dispatcher, message, {})
    assert reply_text(dispatcher).startswith("I only listed 3: 1) CCRP")


async def test_tell_me_more_gives_the_rest_of_the_last_topic(dispatcher, tracker, kb):
    await ActionAnswerFollowUp().run(dispatcher, tracker("go on", slots=AFTER_SETTINGS), {})
    text = reply_text(dispatcher)
    assert text.startswith("More on where they work:")
    for fact in kb.topic("work_settings").more:
        assert fact.text in text


async def test_tell_me_more_goes_on_from_what_the_answer_gave(dispatcher, tracker, kb):
    shown = [fact.key for fact in kb.topic("work_settings").facts[:1]]
    slots = {"last_topic": "work_settings", "listed_items": [], "shown_facts": shown}
    await ActionAnswerFollowUp().run(dispatcher, tracker("go on", slots=slots), {})
    text = reply_text(dispatcher)
    assert kb.topic("work_settings").facts[0].text not in text  # given already
    for fact in kb.topic("work_settings").facts[1:] + kb.topic("work_settings").more:
        assert fact.text in text


async def test_tell_me_more_with_nothing_more_suggests_related_topics(dispatcher, tracker, kb):
    everything = [fact.key for fact in kb.topic("personal_brand").facts]
    slots = {"last_topic": "personal_brand", "listed_items": [], "shown_facts": everything}
    await ActionAnswerFollowUp().run(dispatcher, tracker("more please", slots=slots), {})
    text = reply_text(dispatcher)
    assert "That is everything the guides say about personal brand." in text
    assert "networking and professional organisations" in text


async def test_tell_me_more_without_context_offers_topics(dispatcher, tracker, kb_url):
    await ActionAnswerFollowUp().run(dispatcher, tracker("tell me more"), {})
    assert dispatcher.messages[0]["buttons"]
    assert "About which topic?" in reply_text(dispatcher)


@pytest.mark.parametrize(
    ("slots", "question", "expected", "not_expected"),
    [
        (AFTER_CERTIFICATIONS, "which of those is for research?", ["CCRP"], ["CHOM"]),
        (AFTER_CERTIFICATIONS, "which ones cover privacy laws", ["compliance"], ["CCRP"]),
        (
            AFTER_SETTINGS,
            "which of them involve clinical trials?",
            ["Pharmaceutical companies", "Medical research"],
            ["Hospitals:"],
        ),
    ],
)
async def test_which_of_those_filters_the_last_list(
    slots, question, expected, not_expected, dispatcher, tracker, kb_url
):
    await ActionAnswerWhichOfThose().run(dispatcher, tracker(question, slots=slots), {})
    text = reply_text(dispatcher)
    for name in expected:
        assert name in text
    for name in not_expected:
        assert name not in text


async def test_which_of_those_with_no_match_says_so(dispatcher, tracker, kb_url):
    message = tracker("which of those is for astronauts?", slots=AFTER_CERTIFICATIONS)
    await ActionAnswerWhichOfThose().run(dispatcher, message, {})
    assert reply_text(dispatcher).startswith("None of those (CCRP, CHOM")


async def test_which_of_those_with_nothing_listed_asks_for_a_topic(dispatcher, tracker, kb_url):
    await ActionAnswerWhichOfThose().run(dispatcher, tracker("which of those is best?"), {})
    assert "Ask me about a topic first" in reply_text(dispatcher)


@pytest.mark.parametrize(
    ("text", "statement", "question"),
    [
        ("I passed the CCRP", "I passed the CCRP", ""),
        ("is health sciences a good pick?", "", "is health sciences a good pick?"),
        (
            "I'm a nurse with a BSN, which certification should I get?",
            "I'm a nurse with a BSN",
            "which certification should I get?",
        ),
        (
            "I joined ACRP. What should I do next?",
            "I joined ACRP.",
            "What should I do next?",
        ),
    ],
)
def test_split_statement_and_question(text, statement, question):
    from actions.conversation import Utterance, split_statement_and_question

    entities = [{"entity": "x", "value": "v", "start": 0, "end": 1}]
    stated, asked = split_statement_and_question(Utterance(text, entities))
    assert (stated.text, asked.text) == (statement, question)
    assert bool(stated.entities) == bool(statement)  # the entity at 0 goes with the first part


def test_entities_keep_pointing_at_their_words_in_the_statement():
    from actions.conversation import Utterance, split_statement_and_question

    text = "What should I do next? I passed the CCRP"
    start = text.index("CCRP")
    entity = {"entity": "certification", "value": "CCRP", "start": start, "end": start + 4}
    stated, _ = split_statement_and_question(Utterance(text, [entity]))
    (moved,) = stated.entities
    assert stated.text[moved["start"] : moved["end"]] == "CCRP"
