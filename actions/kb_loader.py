"""Build the knowledge base from the YAML files in knowledge/.

    python -m actions.kb_loader          # (re)build if the files changed since the last build
    python -m actions.kb_loader --force  # rebuild regardless

The build replaces only the kb_* tables, in one transaction, so it is safe to re-run and never
touches learner data.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from actions.kb_schema import (
    BuildInfo,
    ExampleQuestion,
    Fact,
    Item,
    ItemAlias,
    KnowledgeBaseModel,
    PathStep,
    RelatedTopic,
    Source,
    Topic,
    TopicItem,
)
from common.db import engine_for, printable, session_scope, without_time_limits
from common.settings import load_settings

logger = logging.getLogger(__name__)

KNOWLEDGE_FILES = ("sources.yml", "topics.yml", "items.yml", "path.yml", "questions.yml")


class KnowledgeError(ValueError):
    """The knowledge files are inconsistent (unknown source, topic or item...)."""


@dataclass
class KnowledgeContent:
    sources: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    items: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    questions: dict[str, list[str]]  # entry key -> questions learners ask that it answers

    def entry_keys(self) -> set[str]:
        """Every entry a question can be answered with: facts by id, summary:<topic>,
        item:<name> and step:<key>."""
        keys = {f"summary:{topic['key']}" for topic in self.topics}
        for topic in self.topics:
            facts = (topic.get("facts") or []) + (topic.get("more") or [])
            keys |= {fact["id"] for fact in facts if fact.get("id")}
        keys |= {f"item:{item['name']}" for item in self.items}
        return keys | {f"step:{step['key']}" for step in self.steps}


def content_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in KNOWLEDGE_FILES:
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()


def read_knowledge(directory: Path) -> KnowledgeContent:
    """Read and cross-check the knowledge files; raise KnowledgeError on any broken reference."""

    def load(name: str, key: str) -> list[dict[str, Any]]:
        return yaml.safe_load((directory / name).read_text(encoding="utf-8"))[key] or []

    content = KnowledgeContent(
        sources=load("sources.yml", "sources"),
        topics=load("topics.yml", "topics"),
        items=load("items.yml", "items"),
        steps=load("path.yml", "steps"),
        questions=yaml.safe_load((directory / "questions.yml").read_text(encoding="utf-8"))[
            "questions"
        ],
    )
    _check_references(content)
    return content


def _check_references(content: KnowledgeContent) -> None:
    sources = {source["key"] for source in content.sources}
    topics = {topic["key"] for topic in content.topics}
    items = {item["name"] for item in content.items}
    problems = []

    def check(where: str, value: str, known: set, what: str) -> None:
        if value not in known:
            problems.append(f"{where}: unknown {what} '{value}'")

    fact_ids: set[str] = set()
    for topic in content.topics:
        where = f"topic {topic['key']}"
        for fact in (topic.get("facts") or []) + (topic.get("more") or []):
            check(where, fact.get("source"), sources, "source")
            fact_id = fact.get("id") or ""
            if not fact_id.startswith(f"{topic['key']}."):
                problems.append(f"{where}: fact id '{fact_id}' must start with '{topic['key']}.'")
            elif fact_id in fact_ids:
                problems.append(f"{where}: fact id '{fact_id}' is used twice")
            fact_ids.add(fact_id)
        for name in topic.get("items") or []:
            check(where, name, items, "item")
        for related in topic.get("related") or []:
            check(where, related, topics, "topic")
    for item in content.items:
        check(f"item {item['name']}", item["topic"], topics, "topic")
        check(f"item {item['name']}", item.get("source"), sources, "source")
    milestones = {step["key"] for step in content.steps}
    for item in content.items:
        if item.get("milestone"):
            check(f"item {item['name']}", item["milestone"], milestones, "milestone")
    for step in content.steps:
        check(f"path step {step['title']}", step["topic"], topics, "topic")
        check(f"path step {step['title']}", step.get("source"), sources, "source")

    unknown_entries = set(content.questions) - content.entry_keys()
    problems += [f"questions.yml: unknown entry '{key}'" for key in sorted(unknown_entries)]

    aliases: dict[str, str] = {}
    for item in content.items:
        for alias in [item["name"], *item.get("aliases", [])]:
            owner = aliases.setdefault(alias.lower(), item["name"])
            if owner != item["name"]:
                problems.append(f"alias '{alias}' names both {owner} and {item['name']}")
    if problems:
        raise KnowledgeError("knowledge files are inconsistent:\n  " + "\n  ".join(problems))


# Kinds whose names learners use in the plural ("do clinical program managers travel?").
PLURAL_KINDS = ("role", "setting")


def names_of_items(items: list[dict]) -> list[tuple[dict, str]]:
    """(item, lower-case name) for every name and alias an item is known by and, for roles and
    settings, their plurals ("cpms", "doctor's offices"). A plural that already names an item
    is left to that item."""
    names: dict[str, dict] = {}
    for item in items:
        for alias in [item["name"], *item.get("aliases", [])]:
            names.setdefault(alias.lower(), item)
    for alias, item in list(names.items()):
        if item["kind"] in PLURAL_KINDS and not alias.endswith("s"):
            names.setdefault(alias + "s", item)
    return [(item, alias) for alias, item in names.items()]


def build_knowledge_base(url: str, directory: Path) -> None:
    """Replace the knowledge-base tables with the content of `directory`, atomically."""
    content = read_knowledge(directory)
    # Drop and recreate the kb_* tables (so content schema changes need no migration) and fill
    # them, all in one transaction: readers see the old content or the new, never a mix.
    with engine_for(url).begin() as connection:
        without_time_limits(connection)  # a rebuild may wait for readers, and take a while
        KnowledgeBaseModel.metadata.drop_all(connection)
        KnowledgeBaseModel.metadata.create_all(connection)
        with Session(bind=connection, future=True) as session:
            for stage in _rows_by_stage(content):
                session.add_all(stage)
                session.flush()  # parents before the children that reference them
            session.add(BuildInfo(id=1, content_hash=content_hash(directory)))
            session.flush()
    logger.info(
        "Knowledge base built: %d topics, %d items, %d path steps.",
        len(content.topics),
        len(content.items),
        len(content.steps),
    )


def _rows_by_stage(content: KnowledgeContent) -> list[list[KnowledgeBaseModel]]:
    sources = [Source(**source) for source in content.sources]
    topics = [
        Topic(
            key=topic["key"],
            title=topic["title"],
            summary=topic["summary"],
            position=position,
        )
        for position, topic in enumerate(content.topics)
    ]
    items = [
        Item(
            name=item["name"],
            full_name=item["full_name"],
            kind=item["kind"],
            topic_key=item["topic"],
            description=item["description"],
            tags="|".join(tag.lower() for tag in item.get("tags", [])),
            milestone=item.get("milestone"),
            source_key=item["source"],
        )
        for item in content.items
    ]
    rows: list[KnowledgeBaseModel] = []
    for topic in content.topics:
        for is_more, field in ((False, "facts"), (True, "more")):
            for position, fact in enumerate(topic.get(field) or []):
                rows.append(
                    Fact(
                        key=fact["id"],
                        topic_key=topic["key"],
                        text=fact["text"],
                        source_key=fact["source"],
                        is_more=is_more,
                        position=position,
                    )
                )
    for item, alias in names_of_items(content.items):
        rows.append(ItemAlias(alias=alias, item_name=item["name"]))
    for entry, questions in content.questions.items():
        rows += [
            ExampleQuestion(entry_key=entry, position=position, question=question)
            for position, question in enumerate(questions)
        ]
    for topic in content.topics:
        for position, name in enumerate(topic.get("items") or []):
            rows.append(TopicItem(topic_key=topic["key"], item_name=name, position=position))
        for position, related in enumerate(topic.get("related") or []):
            rows.append(
                RelatedTopic(topic_key=topic["key"], related_key=related, position=position)
            )
    for position, step in enumerate(content.steps, start=1):
        rows.append(
            PathStep(
                position=position,
                key=step["key"],
                title=step["title"],
                text=step["text"],
                topic_key=step["topic"],
                source_key=step["source"],
                roles="|".join(role.lower() for role in step.get("roles") or []),
            )
        )
    return [sources, topics, items, rows]


def built_hash(url: str) -> str | None:
    """The content hash of the files the knowledge base was last built from (None: not built)."""
    if not inspect(engine_for(url)).has_table(BuildInfo.__tablename__):
        return None
    with session_scope(url) as session:
        return session.execute(select(BuildInfo.content_hash)).scalar_one_or_none()


def is_current(url: str, directory: Path) -> bool:
    """True when the knowledge base exists and was built from the files as they are now."""
    return built_hash(url) == content_hash(directory)


def ensure_knowledge_base(url: str, directory: Path) -> bool:
    """Build the knowledge base if it is missing or stale. Returns True if it built."""
    if is_current(url, directory):
        return False
    build_knowledge_base(url, directory)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = load_settings()
    if args.force:
        build_knowledge_base(settings.knowledge_db_url, settings.knowledge_dir)
    elif not ensure_knowledge_base(settings.knowledge_db_url, settings.knowledge_dir):
        logger.info("Knowledge base is up to date (%s).", printable(settings.knowledge_db_url))


if __name__ == "__main__":
    main()
