"""The assistant as a learner meets it: real Rasa server + action server, REST channel."""

import pytest

from common.settings import PROJECT_ROOT
from scripts.evaluate import BARS
from scripts.evaluate_heldout import evaluate, load_questions
from tests.support import new_sender, text_of

pytestmark = pytest.mark.integration

# The bars of `make evaluate`, on every file in tests/heldout/ (12 questions per topic).
HELDOUT_BAR = BARS["heldout_overall"]
HELDOUT_TOPIC_FLOOR = BARS["heldout_per_topic"]


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        ("how do the two jobs differ, in a nutshell?", "The two roles"),
        ("which employers take on clinical ops managers?", "Where they work"),
        ("is there much travelling involved?", "Hours, travel"),
        ("what should I study at university for this?", "Degrees and education"),
        ("which certs would boost my cv?", "Certifications"),
        ("how much hands-on experience will I need?", "Experience and first jobs"),
        ("which soft skills matter most?", "Skills"),
        ("what rules around patient privacy must I follow?", "Regulations and compliance"),
        ("are there associations I could join?", "Networking and professional organisations"),
        ("how can I practise leading a team?", "Leadership and management"),
        ("how do I stay on top of new trends?", "Staying current"),
        ("should I be posting on LinkedIn?", "Personal brand"),
        ("any tips for my resume and interviews?", "Job search"),
        ("give me the roadmap from start to finish", "The path, step by step"),
    ],
)
def test_one_question_per_topic(assistant, question, heading):
    reply = text_of(assistant.say(new_sender(), question))
    assert reply.startswith(heading), reply
    assert "Source" in reply


def test_a_question_about_one_role_is_answered_about_that_role(assistant):
    reply = text_of(assistant.say(new_sender(), "what does a clinical programme manager do?"))
    assert reply.startswith("Clinical Program Manager"), reply
    assert "policies and procedures" in reply


def test_follow_ups_refer_back_to_the_previous_answer(assistant):
    sender = new_sender()
    assistant.say(sender, "what certifications could I get?")
    first = text_of(assistant.say(sender, "tell me more about the first one"))
    assert first.startswith("CCRP (Certified Clinical Research Professional)"), first
    other = text_of(assistant.say(sender, "and what about CHOM?"))
    assert other.startswith("CHOM (Certified Healthcare Operations Management)"), other


def test_which_of_those_filters_the_list_just_given(assistant):
    sender = new_sender()
    assistant.say(sender, "where do clinical program managers work?")
    reply = text_of(assistant.say(sender, "which of those is for research?"))
    assert "Medical research and development facilities" in reply, reply
    assert "Hospitals:" not in reply


@pytest.mark.parametrize("message", ["what's a good recipe for lasagne?", "qwzx blorf plink", "?!"])
def test_messages_it_cannot_place_get_a_clarification(assistant, message):
    messages = assistant.say(new_sender(), message)
    assert "I can tell you about:" in text_of(messages)
    assert messages[0].get("buttons")


def test_heldout_questions_are_answered_correctly(assistant):
    report = evaluate(assistant, load_questions())
    results = PROJECT_ROOT / "results"
    results.mkdir(exist_ok=True)
    summary = report.table() + "\n" + "\n".join(f"  miss: {m}" for m in report.misses)
    (results / "heldout.txt").write_text(summary + "\n")
    assert report.accuracy >= HELDOUT_BAR, summary
    for topic, results in report.per_topic.items():
        assert sum(results) / len(results) >= HELDOUT_TOPIC_FLOOR, f"{topic}\n{summary}"
