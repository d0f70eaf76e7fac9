"""What a question asks for: several questions in one, yes/no, a comparison, and what the two
source documents never give."""

import pytest

from actions.questions import (
    compared_items,
    is_yes_no,
    not_covered,
    split_questions,
    unknown_name,
    yes_no_lead,
)


@pytest.mark.parametrize(
    ("message", "questions"),
    [
        (
            "what degree and which certifications do I need?",
            ["what degree", "which certifications do I need?"],
        ),
        (
            "is the CCRP worth it? And should I join ACRP?",
            ["is the CCRP worth it", "should I join ACRP?"],
        ),
        (
            "what do I need to know about HIPAA and GDPR?",  # one question about two things
            ["what do I need to know about HIPAA and GDPR?"],
        ),
        (
            "where do program managers work, and do they travel?",
            ["where do program managers work", "do they travel?"],
        ),
        ("MBA or MHA?", ["MBA or MHA?"]),
    ],
)
def test_a_message_asking_two_things_is_two_questions(message, questions):
    assert split_questions(message) == questions


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("is a bachelor's enough?", True),
        ("should I be on LinkedIn?", True),
        ("Do I need an MHA", True),
        ("can I get hired without a degree?", True),
        ("so is the CCRP worth it", True),
        ("is it the CCRP or the CHOM I need?", False),  # a choice, not yes or no
        ("what degree do I need?", False),
        ("which laws matter?", False),
    ],
)
def test_yes_no_questions(question, yes_no):
    assert is_yes_no(question) is yes_no


@pytest.mark.parametrize(
    ("question", "fact", "lead"),
    [
        (
            "should I be on LinkedIn?",
            "Be active on professional social media such as LinkedIn.",
            "Yes",
        ),
        (
            "can I get hired without a degree?",
            "Some physicians' offices and smaller facilities hire people with on-the-job "
            "experience instead of formal education.",
            "It depends",
        ),
        (
            "is a bachelor's enough?",
            "A bachelor's degree in a related field is typically required.",
            "It depends",
        ),
        (
            "do I need hands-on experience?",
            "Hands-on experience in a clinical environment is essential.",
            "Yes",
        ),
    ],
)
def test_a_yes_no_answer_starts_from_what_the_fact_says(question, fact, lead):
    assert yes_no_lead(question, fact) == lead


def test_a_comparison_names_the_two_things(kb):
    named = kb.items_in_text("MBA or MHA, which is better?")
    assert [item.name for item in compared_items("MBA or MHA, which is better?", named)] == [
        "MBA",
        "MHA",
    ]
    assert compared_items("tell me about the MBA and the MHA", named) == []  # no comparison word


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("what's the typical salary for a clinical operations manager?", "money"),
        ("how much does the CCRP exam cost?", "money"),
        ("how many years does it take to become a program manager?", "duration"),
        ("how long is an MHA?", "duration"),
        ("what's the pass rate for the CHOM?", "numbers"),
        ("is Pfizer hiring right now?", "employer"),
        ("which university has the best MHA program?", "school"),
        ("can I do this job in Canada?", "place"),
        ("can I work remotely as a program manager?", "remote"),
        ("will AI replace clinical operations managers?", "future"),
        ("how do I register for the CCRP exam?", "exam"),
        ("am I too old to switch at 50?", "age"),
        ("should I get the PMP?", "name"),
    ],
)
def test_what_the_guides_never_give_is_recognised(question, kind, kb):
    assert not_covered(question, kb).kind == kind


@pytest.mark.parametrize(
    "question",
    [
        "can I get hired without a degree?",
        "is the CCRP worth it?",
        "should I join the American College of Healthcare Executives?",  # a college in its name
        "does HIPAA apply in the United States?",
        "which companies hire clinical program managers?",  # kinds of employer: the guides say
        "what does a program manager do in a hospital?",
        "I want to become a CPM in the future, what should I study?",  # the learner's plan
        "what should I study at university for this?",  # a subject, not a named school
        "do I need to go back to school?",
        "can certifications replace a degree?",
        "Hi, I'm Maria. Should I get the CCRP?",  # a name the learner gives is their own
    ],
)
def test_questions_the_guides_answer_are_not_refused(question, kb):
    assert not_covered(question, kb) is None


def test_a_name_nlu_recognised_is_not_unknown(kb):
    question = "I'm a Registered Nurse, can I become a program manager?"
    start = question.index("Registered Nurse")
    assert unknown_name(question, kb, [(start, start + len("Registered Nurse"))]) is None
