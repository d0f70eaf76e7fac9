"""Who names what: the spaCy entity ruler finds knowledge-base names (plurals included), the span
ruler the phrases learners report path steps with, and a learner's own phrase wins over a name
inside it."""

import pytest
import spacy

from addons.knowledge_entities import KnowledgeBaseEntityExtractor, drop_names_inside
from scripts.local_servers import PROJECT_ROOT


@pytest.fixture(scope="module")
def ruler():
    return spacy.load(PROJECT_ROOT / "build" / "spacy_kb")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("do CPMs work weekends", [("CPMs", "role")]),
        ("where do clinical program managers work", [("clinical program managers", "role")]),
        ("what about doctor's offices?", [("doctor's offices", "setting")]),
        ("i only have a BS in biology", [("BS", "degree")]),
        ("is the CCRP worth it", [("CCRP", "certification")]),
        ("should I join ACRP", [("ACRP", "organisation")]),
        ("I completed a HIPAA training", [("HIPAA", "regulation")]),
        ("how do I become one?", []),
    ],
)  # fmt: skip
def test_the_ruler_tags_knowledge_base_names(ruler, text, expected):
    assert [(ent.text, ent.label_) for ent in ruler(text).ents] == expected


def milestones(ruler, text):
    return [
        (text[e["start"] : e["end"]], e["value"])
        for e in KnowledgeBaseEntityExtractor._extract_entities(ruler(text))
        if e["entity"] == "milestone"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Wordings that are not in the training data.
        ("I've been managing a team of five", [("managing a team", "leadership")]),
        ("Led my first big project last month", [("Led my first big project", "leadership")]),
        ("I gave a presentation at a conference", [("gave a presentation", "personal_brand")]),
        ("tailored my CV for manager jobs", [("tailored my CV", "job_search_ready")]),
        ("I practiced interviewing", [("practiced interviewing", "job_search_ready")]),
        ("joined a professional society", [("joined a professional society",
                                            "professional_organisation")]),
        ("signed up for an online course", [("online course", "continuing_education")]),
        ("I'm finally certified!", []),  # "certified" alone is not a step: no guess
        ("Graduated from college in May", [("Graduated from", "degree")]),
        ("untick the certification milestone", [("certification milestone", "certification")]),
        ("I got a job as a nurse", []),
        ("what is a CPM", []),
    ],
)  # fmt: skip
def test_the_span_ruler_names_the_step_a_learner_reports(ruler, text, expected):
    assert milestones(ruler, text) == expected


def test_a_milestone_phrase_gives_way_to_a_knowledge_base_name_it_overlaps(ruler):
    # "pass * exam" would cover CCRP: the certification is recorded through the item instead.
    assert milestones(ruler, "I passed the CCRP exam") == []
    assert milestones(ruler, "I passed the certification exam") == [
        ("passed the certification exam", "certification")
    ]


PHRASE_TYPES = ["job_title", "years"]


def entity(start, end, kind, extractor):
    return {"start": start, "end": end, "entity": kind, "value": "x", "extractor": extractor}


def test_a_name_inside_the_learners_own_phrase_is_dropped():
    # "I work as a lab tech": "lab" is a setting to the ruler, but the job title contains it.
    lab = entity(12, 15, "setting", "SpacyEntityExtractor")
    job_title = entity(12, 20, "job_title", "RegexEntityExtractor")
    assert drop_names_inside([lab, job_title], PHRASE_TYPES) == [job_title]


def test_names_outside_the_learners_phrases_are_kept():
    # "I'm a nurse in a hospital": the setting stands on its own.
    nurse = entity(6, 11, "job_title", "RegexEntityExtractor")
    hospital = entity(17, 25, "setting", "SpacyEntityExtractor")
    assert drop_names_inside([nurse, hospital], PHRASE_TYPES) == [nurse, hospital]


def test_the_knowledge_base_name_wins_when_both_found_the_same_span():
    # "I'm an assistant manager": a role the knowledge base knows, not a free job title.
    role = entity(9, 26, "role", "SpacyEntityExtractor")
    job_title = entity(9, 26, "job_title", "RegexEntityExtractor")
    assert drop_names_inside([role, job_title], PHRASE_TYPES) == [role]
