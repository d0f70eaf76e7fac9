"""Every knowledge-base fact names one of the two source documents, and every named thing the
assistant can mention (certification, degree, organisation, law, role, setting) really appears in
the document it is attributed to: the assistant never invents one."""

import re

import pytest
import yaml

from actions.kb_loader import read_knowledge
from common.settings import PROJECT_ROOT
from tests.conftest import KNOWLEDGE_DIR, SOURCES_DIR

CONTENT = read_knowledge(KNOWLEDGE_DIR)
SOURCES = {source["key"]: source for source in CONTENT.sources}


def source_text(key: str) -> str:
    text = (SOURCES_DIR / SOURCES[key]["file"]).read_text(encoding="utf-8").lower()
    return text.replace("\u2019", "'")


# The project's seed documents, where they live beside a checkout (as in CI); a plain clone
# has only its copies in knowledge/sources/.
SEEDS_DIR = PROJECT_ROOT.parent / "shared" / "seeds"


def test_sources_are_the_documents_in_knowledge_sources():
    files = sorted(source["file"] for source in CONTENT.sources)
    assert files == sorted(path.name for path in SOURCES_DIR.glob("*.txt"))


@pytest.mark.skipif(
    not SEEDS_DIR.is_dir(), reason=f"no seed documents beside the checkout ({SEEDS_DIR})"
)
@pytest.mark.parametrize("source", CONTENT.sources, ids=lambda source: source["key"])
def test_each_source_is_an_unchanged_copy_of_its_seed_document(source):
    copy = (SOURCES_DIR / source["file"]).read_bytes()
    assert copy == (SEEDS_DIR / source["file"]).read_bytes()


def test_every_fact_and_step_names_a_source():
    facts = [
        fact for topic in CONTENT.topics for fact in (topic["facts"] or []) + (topic["more"] or [])
    ]
    assert facts and all(fact["source"] in SOURCES for fact in facts)
    assert all(step["source"] in SOURCES for step in CONTENT.steps)


@pytest.mark.parametrize("item", CONTENT.items, ids=lambda item: item["name"])
def test_every_named_thing_appears_in_its_source(item):
    text = source_text(item["source"])
    names = [item["name"], item["full_name"], *item.get("aliases", [])]
    # Compare on letters only: "doctors' offices" vs "doctor's office", "long-term" etc.
    squeeze = lambda s: re.sub(r"[^a-z]", "", s.lower())  # noqa: E731
    assert any(squeeze(name) in squeeze(text) for name in names), item["name"]


def test_knowledge_files_hold_no_training_data():
    """Rasa reads every YAML under data/ as training data, so content lives in knowledge/."""
    for path in KNOWLEDGE_DIR.glob("*.yml"):
        assert not {"nlu", "stories", "rules"} & set(yaml.safe_load(path.read_text()))
