"""Building the knowledge base from knowledge/*.yml."""

import shutil

import pytest
import yaml
from sqlalchemy import func, select

from actions.kb_loader import (
    KnowledgeError,
    build_knowledge_base,
    ensure_knowledge_base,
    is_current,
    read_knowledge,
)
from actions.kb_schema import Fact, Item, ItemAlias, PathStep, Topic
from actions.knowledge_base import KnowledgeBase
from common.db import session_scope
from tests.conftest import KNOWLEDGE_DIR


def count(url, column) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count(column))).scalar_one()


def test_builds_every_topic_item_and_step(tmp_path):
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    build_knowledge_base(url, KNOWLEDGE_DIR)
    content = read_knowledge(KNOWLEDGE_DIR)
    assert count(url, Topic.key) == len(content.topics)
    assert count(url, Item.name) == len(content.items)
    assert count(url, PathStep.position) == len(content.steps)
    assert count(url, ItemAlias.alias) > count(url, Item.name)


def test_rebuilding_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    build_knowledge_base(url, KNOWLEDGE_DIR)
    first = (count(url, Fact.id), count(url, ItemAlias.alias))
    build_knowledge_base(url, KNOWLEDGE_DIR)
    assert (count(url, Fact.id), count(url, ItemAlias.alias)) == first


def test_ensure_builds_only_when_missing_or_changed(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, knowledge)
    url = f"sqlite:///{tmp_path / 'kb.db'}"

    assert ensure_knowledge_base(url, knowledge) is True
    assert ensure_knowledge_base(url, knowledge) is False

    topics = knowledge / "topics.yml"
    topics.write_text(topics.read_text().replace("The two roles", "Both roles"))
    assert not is_current(url, knowledge)
    assert ensure_knowledge_base(url, knowledge) is True
    with session_scope(url) as session:
        assert session.get(Topic, "role_overview").title == "Both roles"


def test_a_broken_reference_is_reported_and_the_old_content_kept(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, knowledge)
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    build_knowledge_base(url, knowledge)

    items = yaml.safe_load((knowledge / "items.yml").read_text())
    items["items"][0]["source"] = "a_blog_post"
    (knowledge / "items.yml").write_text(yaml.safe_dump(items))

    with pytest.raises(KnowledgeError, match="unknown source 'a_blog_post'"):
        build_knowledge_base(url, knowledge)
    assert count(url, Topic.key) == len(read_knowledge(KNOWLEDGE_DIR).topics)


def test_an_alias_naming_two_items_is_rejected(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, knowledge)
    items = yaml.safe_load((knowledge / "items.yml").read_text())
    items["items"][1]["aliases"].append("CCRP")
    (knowledge / "items.yml").write_text(yaml.safe_dump(items))
    with pytest.raises(KnowledgeError, match="alias 'CCRP' names both"):
        read_knowledge(knowledge)


@pytest.mark.parametrize(
    ("new_id", "problem"),
    [
        ("role_overview.com_oversees_operations", "is used twice"),  # the first fact's id
        ("degrees.some_fact", "must start with 'role_overview.'"),
        (None, "must start with"),
    ],
)
def test_each_fact_has_an_id_of_its_own_under_its_topic(tmp_path, new_id, problem):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, knowledge)
    topics = yaml.safe_load((knowledge / "topics.yml").read_text())
    second = topics["topics"][0]["facts"][1]
    second.pop("id")
    if new_id:
        second["id"] = new_id
    (knowledge / "topics.yml").write_text(yaml.safe_dump(topics))
    with pytest.raises(KnowledgeError, match=problem):
        read_knowledge(knowledge)


def test_a_rebuild_while_the_server_runs_is_read_at_the_next_message(tmp_path):
    """The knowledge base keeps what it read until a rebuild (`make kb` beside a running
    action server): the next read sees the new content."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, knowledge)
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    ensure_knowledge_base(url, knowledge)
    kb = KnowledgeBase(url)
    assert kb.topic("role_overview").title == "The two roles"
    assert "nutshell" not in kb.vocabulary()

    topics = knowledge / "topics.yml"
    topics.write_text(topics.read_text().replace("The two roles", "The two roles in a nutshell"))
    ensure_knowledge_base(url, knowledge)
    assert kb.topic("role_overview").title == "The two roles in a nutshell"
    assert "nutshell" in kb.vocabulary()
