"""Help and clarification always say what the assistant can do, with quick replies."""

import pytest

from actions.guidance import ActionClarify, ActionShowHelp
from tests.support import reply_text


async def test_help_lists_every_topic_with_a_button(dispatcher, tracker, kb):
    await ActionShowHelp().run(dispatcher, tracker("what can you do?", intent="help"), {})
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [f"/ask_{t.key}" for t in kb.topics()]
    assert "degrees and education" in reply_text(dispatcher)


async def test_out_of_scope_says_so_and_offers_topics(dispatcher, tracker, kb_url):
    message = tracker("what's the weather in Paris?", intent="out_of_scope")
    await ActionClarify().run(dispatcher, message, {})
    assert reply_text(dispatcher).startswith("That's outside what I can help with")
    assert dispatcher.messages[0]["buttons"]


async def test_an_unplaced_message_gets_a_clarification_not_silence(dispatcher, tracker, kb_url):
    await ActionClarify().run(dispatcher, tracker("blorp zzz", intent="nlu_fallback"), {})
    assert reply_text(dispatcher).startswith("Sorry, I'm not sure what you mean.")
    assert "I can tell you about:" in reply_text(dispatcher)


async def test_when_nlu_hesitates_between_two_topics_it_asks_which(dispatcher, tracker, kb_url):
    message = tracker("what do I need?", intent="nlu_fallback")
    message.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_degrees", "confidence": 0.38},
        {"name": "ask_experience", "confidence": 0.35},
        {"name": "ask_skills", "confidence": 0.1},
    ]
    await ActionClarify().run(dispatcher, message, {})
    assert reply_text(dispatcher).startswith(
        "Do you mean degrees and education or experience and first jobs?"
    )
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/ask_degrees", "/ask_experience"]


async def test_a_question_the_intents_missed_is_answered_from_the_closest_passage(
    dispatcher, tracker, kb_url
):
    # The Rasa server finds it fairly close by meaning, not close enough to be sure, and it
    # shares no word with the knowledge base.
    message = tracker(
        "hmm, that one?", intent="nlu_fallback", knowledge_ranking=[("item:CCRP", 0.6)]
    )
    events = await ActionClarify().run(dispatcher, message, {})
    reply = reply_text(dispatcher)
    assert reply.startswith("I think this is what you're after, from certifications:")
    assert "Certified Clinical Research Professional" in reply
    assert reply.splitlines()[-1].startswith("Source: ")
    assert {"event": "slot", "name": "last_topic", "value": "certifications"} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events
    ]


@pytest.mark.parametrize(
    "unrelated",
    ["what is the capital of france", "how do I cook pasta", "what do I need?", "blorp zzz"],
)
async def test_no_passage_is_forced_onto_an_unrelated_question(
    dispatcher, tracker, kb_url, unrelated
):
    await ActionClarify().run(dispatcher, tracker(unrelated, intent="nlu_fallback"), {})
    assert not reply_text(dispatcher).startswith("I think this is what you're after")


async def test_a_question_the_intents_missed_but_the_knowledge_base_answers_is_answered(
    dispatcher, tracker, kb
):
    message = tracker(
        "can I land a job with no degree?",
        intent="nlu_fallback",
        knowledge_ranking=[("degrees.on_the_job_instead", 0.92)],
    )
    await ActionClarify().run(dispatcher, message, {})
    assert "on-the-job experience instead of formal education" in reply_text(dispatcher)


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope"])
async def test_a_question_about_what_the_guides_never_say_is_told_so(intent, dispatcher, tracker):
    message = tracker("what's the salary of a clinical ops manager?", intent=intent)
    await ActionClarify().run(dispatcher, message, {})
    assert reply_text(dispatcher).startswith("The two guides I draw on don't give salaries")
