"""Who names what: the spaCy entity ruler finds knowledge-base names (plurals included), DIET
only the free-text types, and a learner's own phrase wins over a name inside it."""

import pytest
import spacy
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.free_text_entities import drop_names_inside, only_entity_types
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


PHRASE_TYPES = ["job_title", "years", "milestone"]


def entity(start, end, kind, extractor):
    return {"start": start, "end": end, "entity": kind, "value": "x", "extractor": extractor}


def test_a_name_inside_the_learners_own_phrase_is_dropped():
    # "I work as a lab tech": "lab" is a setting to the ruler, but the job title contains it.
    lab = entity(12, 15, "setting", "SpacyEntityExtractor")
    job_title = entity(12, 20, "job_title", "FreeTextEntityExtractor")
    assert drop_names_inside([lab, job_title], PHRASE_TYPES) == [job_title]


def test_names_outside_the_learners_phrases_are_kept():
    # "I'm a nurse in a hospital": the setting stands on its own.
    nurse = entity(6, 11, "job_title", "FreeTextEntityExtractor")
    hospital = entity(17, 25, "setting", "SpacyEntityExtractor")
    assert drop_names_inside([nurse, hospital], PHRASE_TYPES) == [nurse, hospital]


def test_the_knowledge_base_name_wins_when_both_found_the_same_span():
    # "I'm an assistant manager": a role the knowledge base knows, not a free job title.
    role = entity(9, 26, "role", "SpacyEntityExtractor")
    job_title = entity(9, 26, "job_title", "FreeTextEntityExtractor")
    assert drop_names_inside([role, job_title], PHRASE_TYPES) == [role]


def test_diet_is_trained_on_the_free_text_types_only():
    message = Message(
        data={
            "text": "I'm a nurse with a BSN",
            "intent": "inform_background",
            "entities": [
                {"start": 6, "end": 11, "entity": "job_title", "value": "nurse"},
                {"start": 19, "end": 22, "entity": "degree", "value": "nursing"},
            ],
        }
    )
    filtered = only_entity_types(TrainingData([message]), ["job_title", "years", "milestone"])
    (example,) = filtered.training_examples
    assert [e["entity"] for e in example.get("entities")] == ["job_title"]
    assert example.get("intent") == "inform_background"
    assert [e["entity"] for e in message.get("entities")] == ["job_title", "degree"]  # untouched
