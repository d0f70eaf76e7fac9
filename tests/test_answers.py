"""action_answer_topic answers the question asked: the entry that answers it first (as the Rasa
server's ranking by meaning and the words of the question together find it), phrased as an
answer; comparisons, two questions in one, and what the two guides never say."""

import pytest

from actions.kb_loader import read_knowledge
from actions.topic_answers import ActionAnswerTopic, topic_asked
from scripts.evaluate_answers import entry_texts
from tests.conftest import KNOWLEDGE_DIR
from tests.support import reply_text, responses_sent, slot_events

CONTENT = read_knowledge(KNOWLEDGE_DIR)
TOPICS = [topic["key"] for topic in CONTENT.topics]
ENTRY = entry_texts()  # entry key -> its text
NOT_COVERED = "The two guides I draw on don't"

pytestmark = pytest.mark.usefixtures("kb_url", "learner_db_url")


async def answer(dispatcher, tracker, topic: str, question: str, **message) -> list:
    """What action_answer_topic does for `question`, understood as the topic's intent."""
    learner_said = tracker(question, intent=f"ask_{topic}", **message)
    return await ActionAnswerTopic().run(dispatcher, learner_said, {})


@pytest.mark.parametrize("topic", TOPICS)
async def test_each_topic_is_answered_from_the_knowledge_base_with_its_source(
    topic, kb, dispatcher, tracker
):
    events = await answer(dispatcher, tracker, topic, f"tell me about {kb.topic(topic).title}")
    text = reply_text(dispatcher)
    assert "Source: " in text or "Sources: " in text
    assert slot_events(events)["last_topic"] == topic


@pytest.mark.parametrize(
    ("topic", "question", "ranked_first"),
    [
        ("degrees", "can I get hired without a degree?", "degrees.on_the_job_instead"),
        ("compliance", "which laws protect patients' privacy?", "compliance.privacy_laws"),
        ("personal_brand", "should I be on LinkedIn?", "personal_brand.linkedin"),
        ("experience", "what should my first job be?", "experience.entry_level_start"),
    ],
)
async def test_the_answer_leads_with_the_entry_that_answers_the_question(
    topic, question, ranked_first, dispatcher, tracker
):
    ranking = [(ranked_first, 0.9), (f"summary:{topic}", 0.6)]
    events = await answer(dispatcher, tracker, topic, question, knowledge_ranking=ranking)
    first_line = reply_text(dispatcher).splitlines()[0].lower()
    assert ENTRY[ranked_first].lower() in first_line
    assert slot_events(events)["shown_facts"][0] == ranked_first


@pytest.mark.parametrize(
    ("question", "entry", "lead"),
    [
        ("should I be on LinkedIn?", "personal_brand.linkedin", "Yes: "),
        ("can I get hired without a degree?", "degrees.on_the_job_instead", "It depends: "),
        ("is a bachelor's enough?", "degrees.masters_preferred", "It depends: "),
    ],
)
async def test_a_yes_no_question_is_answered_yes_or_it_depends_then_the_fact(
    question, entry, lead, dispatcher, tracker
):
    topic = entry.split(".")[0]
    await answer(dispatcher, tracker, topic, question, knowledge_ranking=[(entry, 0.9)])
    assert reply_text(dispatcher).startswith(lead)


async def test_a_comparison_sets_the_two_side_by_side(kb, dispatcher, tracker):
    await answer(dispatcher, tracker, "degrees", "MBA or MHA?")
    text = reply_text(dispatcher)
    assert text.startswith("MBA or MHA?")
    for name in ("MBA", "MHA"):
        assert kb.item(name).description in text


async def test_two_questions_in_one_get_two_answers(dispatcher, tracker):
    ranking = [("degrees.bachelors_required", 0.8), ("certifications.ccrp_chom_enhance", 0.78)]
    question = "what degree do I need and which certifications should I get?"
    await answer(dispatcher, tracker, "degrees", question, knowledge_ranking=ranking)
    text = reply_text(dispatcher)
    assert ENTRY["degrees.bachelors_required"] in text
    assert ENTRY["certifications.ccrp_chom_enhance"] in text


@pytest.mark.parametrize(
    ("topic", "question", "kind"),
    [
        ("role_overview", "what's the typical salary for a clinical operations manager?", "money"),
        ("career_path", "how many years does it take?", "duration"),
        ("certifications", "how much does the CCRP exam cost?", "money"),
        ("degrees", "which university has the best MHA program?", "school"),
        ("job_search", "is Pfizer hiring right now?", "employer"),
        ("certifications", "should I get the PMP?", "name"),
    ],
)
async def test_what_the_guides_never_say_is_said_plainly_then_what_comes_closest(
    topic, question, kind, dispatcher, tracker
):
    await answer(dispatcher, tracker, topic, question)
    sent = responses_sent(dispatcher)
    assert sent[0] == f"utter_not_covered_{kind}"
    assert reply_text(dispatcher).startswith(NOT_COVERED)
    assert sent[1:] in ([], ["utter_closest_instead"])  # related, never presented as the answer


@pytest.mark.parametrize("intent", ["ask_more", "ask_about_item", "ask_which_of_those", "greet"])
async def test_an_intent_that_asks_no_topic_gets_no_answer(intent, dispatcher, tracker):
    events = await ActionAnswerTopic().run(dispatcher, tracker("x", intent), {})
    assert events == [] and dispatcher.messages == []


async def test_a_topics_things_are_listed_for_follow_ups(dispatcher, tracker):
    events = await answer(dispatcher, tracker, "certifications", "which certifications exist?")
    assert "1) CCRP, 2) CHOM, 3) healthcare compliance certification" in reply_text(dispatcher)
    assert slot_events(events)["listed_items"] == [
        "CCRP",
        "CHOM",
        "healthcare compliance certification",
    ]


async def test_a_question_on_the_path_shows_the_path_step_by_step(kb, dispatcher, tracker):
    await answer(dispatcher, tracker, "career_path", "what are the steps?")
    text = reply_text(dispatcher)
    for step in kb.path():
        assert f"{step.position}. {step.title}" in text


async def test_a_question_about_the_whole_path_gets_the_path_not_its_first_step(
    kb, dispatcher, tracker
):
    ranking = [("summary:career_path", 0.9), ("step:degree", 0.7)]
    question = "give me the roadmap from start to finish"
    await answer(dispatcher, tracker, "career_path", question, knowledge_ranking=ranking)
    text = reply_text(dispatcher)
    assert text.startswith(kb.topic("career_path").title), text
    assert text.count(kb.path()[0].title) == 1  # not answered with step 1, then the path again


async def test_a_confident_topic_outweighs_words_shared_with_another_topic(dispatcher, tracker):
    # "take on" and "clinical ops managers" share words with the path's "It takes commitment...";
    # NLU is sure the question is about where they work, and so is the ranking by meaning.
    ranking = [("work_settings.where_openings_are", 0.67), ("career_path.commitment", 0.57)]
    question = "which employers take on clinical ops managers?"
    events = await answer(dispatcher, tracker, "work_settings", question, knowledge_ranking=ranking)
    assert slot_events(events)["last_topic"] == "work_settings"
    assert ENTRY["career_path.commitment"] not in reply_text(dispatcher).splitlines()[0]


async def test_a_known_learner_hears_where_the_answer_stands_for_them(store, dispatcher, tracker):
    store.mark_done("learner-1", ["degree"])
    ranking = [("degrees.masters_preferred", 0.9)]
    await answer(dispatcher, tracker, "degrees", "do I need a master's?", knowledge_ranking=ranking)
    assert responses_sent(dispatcher)[-1] == "utter_step_is_next"
    dispatcher.messages.clear()
    store.mark_done("learner-1", ["graduate_degree"])
    await answer(dispatcher, tracker, "degrees", "do I need a master's?", knowledge_ranking=ranking)
    assert responses_sent(dispatcher)[-1] == "utter_step_done_already"


@pytest.mark.parametrize(
    ("ranking", "topic"),
    [
        ([("ask_more", 0.6), ("ask_degrees", 0.3)], "degrees"),
        ([("ask_about_item", 0.5), ("ask_which_of_those", 0.4)], None),
        ([("ask_certifications", 0.1)], None),  # too unsure to count
        ([("tell_about_myself", 0.7), ("ask_career_path", 0.2)], "career_path"),
    ],
)
def test_only_knowledge_base_topics_count_as_asked(ranking, topic, tracker):
    ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    assert topic_asked(tracker("...", intent_ranking=ranked)) == topic
