"""Queries the actions make of the knowledge base."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from actions.knowledge_base import build_version
from common.db import session_scope


def test_topic_has_facts_items_and_related_topics(kb):
    topic = kb.topic("certifications")
    assert topic.title == "Certifications"
    assert [item.name for item in topic.items] == [
        "CCRP",
        "CHOM",
        "healthcare compliance certification",
    ]
    assert {ref.key for ref in topic.related} == {"degrees", "compliance"}
    assert all(fact.source for fact in topic.facts + topic.more)


def test_unknown_topic_is_none(kb):
    assert kb.topic("astronaut_training") is None


@pytest.mark.parametrize(
    ("mention", "name"),
    [
        ("CCRP", "CCRP"),
        ("certified clinical research professional", "CCRP"),
        ("Master of Health Administration", "MHA"),
        ("clinical ops manager", "Clinical Operations Manager"),
        ("Clinical Programme Manager", "Clinical Program Manager"),
        ("hippa", "HIPAA"),
        ("pharma", "pharmaceutical companies"),
        ("nursing home", "long-term care facilities"),
        ("  ACRP ", "ACRP"),
        # Roles and settings in the plural, as learners ask about them.
        ("clinical program managers", "Clinical Program Manager"),
        ("CPMs", "Clinical Program Manager"),
        ("COMs", "Clinical Operations Manager"),
        ("research coordinators", "clinical research coordinator"),
        ("doctor's offices", "doctors' offices"),
        ("BSc", "bachelor's degree"),
    ],
)
def test_resolves_names_and_aliases(kb, mention, name):
    assert kb.resolve(mention).name == name


def test_resolving_an_unknown_name_gives_none(kb):
    assert kb.resolve("Certified Space Pilot") is None


def test_finds_items_in_free_text_in_order_without_overlaps(kb):
    text = "I'm in pharma with a Master of Public Health, is the CCRP or ACHE worth it?"
    assert [item.name for item in kb.items_in_text(text)] == [
        "pharmaceutical companies",
        "MPH",
        "CCRP",
        "ACHE",
    ]


def test_finds_plural_roles_in_free_text(kb):
    text = "do clinical ops managers earn more than CPMs?"
    assert [item.name for item in kb.items_in_text(text)] == [
        "Clinical Operations Manager",
        "Clinical Program Manager",
    ]


def test_plurals_are_not_made_for_certifications_or_laws(kb):
    assert kb.resolve("ccrps") is None
    assert kb.resolve("hipaas") is None


def test_short_aliases_match_whole_words_only(kb):
    # "com" (Clinical Operations Manager) must not match inside "become" or "complete".
    assert kb.items_in_text("how do I become one and complete my training?") == []


def test_path_is_ordered_and_sourced(kb):
    steps = kb.path()
    assert [step.position for step in steps] == list(range(1, len(steps) + 1))
    assert steps[0].topic == "degrees" and steps[-1].topic == "job_search"
    assert all(step.source for step in steps)


def test_answering_many_learners_at_once_never_makes_it_look_rebuilt(kb, kb_url):
    """Reads from the action server's threads leave the build version alone, so what was read
    once per build stays read (a connection closed last used to delete the write-ahead log,
    changing the version and building every cached read and the passage index again)."""
    first = kb.topic("certifications")
    versions = set()

    def answer(_) -> None:
        for _ in range(10):
            with session_scope(kb_url) as session:
                session.execute(text("SELECT count(*) FROM sqlite_master"))
            versions.add(build_version(kb_url))

    with ThreadPoolExecutor(max_workers=4) as threads:
        list(threads.map(answer, range(8)))
    assert len(versions) == 1
    assert kb.topic("certifications") is first
