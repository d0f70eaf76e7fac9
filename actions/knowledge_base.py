"""Read-only queries over the knowledge base. Every call opens its own short session and returns
plain dataclasses, so nothing handed to an action is tied to a database session. The reads every
answer makes (topics, the vocabulary, item names) are kept until the knowledge base is rebuilt
(`per_build`): they cost 25 ms of each answer's 35 ms otherwise (scripts/bench_answering.py)."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import make_url

from actions.kb_loader import built_hash, ensure_knowledge_base
from actions.kb_schema import (
    ExampleQuestion,
    Fact,
    Item,
    ItemAlias,
    PathStep,
    RelatedTopic,
    Source,
    Topic,
    TopicItem,
)
from common.db import session_scope
from common.settings import load_settings


@dataclass(frozen=True)
class SourcedText:
    text: str
    source: str  # the source document's title
    key: str = ""  # the fact's id in knowledge/topics.yml


@dataclass(frozen=True)
class ItemInfo:
    name: str
    full_name: str
    kind: str
    topic: str
    description: str
    tags: Sequence[str]
    source: str
    milestone: str | None = None

    @property
    def heading(self) -> str:
        if self.name.lower() in self.full_name.lower():  # "HIPAA (United States ...)"
            return self.full_name
        return f"{self.name} ({self.full_name})"


@dataclass(frozen=True)
class TopicInfo:
    key: str
    title: str
    summary: str
    facts: list[SourcedText]
    more: list[SourcedText]
    items: list[ItemInfo]
    related: list[TopicRef] = field(default_factory=list)


@dataclass(frozen=True)
class TopicRef:
    key: str
    title: str


@dataclass(frozen=True)
class PathStepInfo:
    position: int
    key: str
    title: str
    text: str
    topic: str
    source: str
    roles: Sequence[str] = ()  # current jobs (lower case) that complete the step by themselves


Read = TypeVar("Read", bound=Callable[..., Any])


def build_version(url: str) -> object:
    """Changes whenever the knowledge base is rebuilt: for a SQLite file, the modification times
    of the file and its write-ahead log (a stat, microseconds); else the build's content hash."""
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database and database != ":memory:":
        return tuple(_modified(f"{database}{suffix}") for suffix in ("", "-wal"))
    return built_hash(url)


def _modified(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def per_build(read: Read) -> Read:
    """Keep what a read returned (for the same arguments) until the knowledge base is rebuilt,
    so that `make kb` while the server runs is picked up at the next message. Callers get the
    kept value: they must not change it (none does; answers build new lists)."""

    @functools.wraps(read)
    def kept(self: KnowledgeBase, *args: Any) -> Any:
        version = build_version(self.url)
        key = (read.__name__, args)
        known = self._kept.get(key)
        if known is not None and known[0] == version:
            return known[1]
        value = read(self, *args)
        self._kept[key] = (version, value)
        return value

    return kept  # type: ignore[return-value]


class KnowledgeBase:
    def __init__(self, url: str) -> None:
        self.url = url
        self._kept: dict[tuple, tuple[object, Any]] = {}

    @per_build
    def topics(self) -> list[TopicRef]:
        with session_scope(self.url) as session:
            rows = session.execute(select(Topic.key, Topic.title).order_by(Topic.position))
            return [TopicRef(key, title) for key, title in rows]

    @per_build
    def topic(self, key: str) -> TopicInfo | None:
        with session_scope(self.url) as session:
            topic = session.get(Topic, key)
            if topic is None:
                return None
            fact_rows = session.execute(
                select(Fact.text, Fact.is_more, Source.title, Fact.key)
                .join(Source, Fact.source_key == Source.key)
                .where(Fact.topic_key == key)
                .order_by(Fact.is_more, Fact.position)
            ).all()
            item_names = session.execute(
                select(TopicItem.item_name)
                .where(TopicItem.topic_key == key)
                .order_by(TopicItem.position)
            ).scalars()
            related = session.execute(
                select(Topic.key, Topic.title)
                .join(RelatedTopic, RelatedTopic.related_key == Topic.key)
                .where(RelatedTopic.topic_key == key)
                .order_by(RelatedTopic.position)
            ).all()
            return TopicInfo(
                key=topic.key,
                title=topic.title,
                summary=topic.summary,
                facts=[
                    SourcedText(text, src, key) for text, more, src, key in fact_rows if not more
                ],
                more=[SourcedText(text, src, key) for text, more, src, key in fact_rows if more],
                items=self._items(session, list(item_names)),
                related=[TopicRef(k, t) for k, t in related],
            )

    @per_build
    def items(self) -> list[ItemInfo]:
        """Every named thing, by name."""
        with session_scope(self.url) as session:
            names = session.execute(select(Item.name).order_by(Item.name)).scalars().all()
            return self._items(session, names)

    def item(self, name: str) -> ItemInfo | None:
        with session_scope(self.url) as session:
            found = self._items(session, [name])
            return found[0] if found else None

    def resolve(self, mention: str) -> ItemInfo | None:
        """The item a name or alias refers to, whatever its case; None if it names nothing."""
        with session_scope(self.url) as session:
            name = session.execute(
                select(ItemAlias.item_name).where(ItemAlias.alias == mention.strip().lower())
            ).scalar_one_or_none()
            return self._items(session, [name])[0] if name else None

    def items_in_text(self, text: str) -> list[ItemInfo]:
        """Items named anywhere in `text` (whole words, longest alias first, no overlaps)."""
        lowered = text.lower()
        taken: list[range] = []
        found: list[tuple] = []
        for pattern, name in self._alias_patterns():
            for match in pattern.finditer(lowered):
                span = range(match.start(), match.end())
                if any(span.start < other.stop and other.start < span.stop for other in taken):
                    continue
                taken.append(span)
                found.append((match.start(), name))
        names = list(dict.fromkeys(name for _, name in sorted(found)))
        by_name = {item.name: item for item in self.items()}
        return [by_name[name] for name in names if name in by_name]

    @per_build
    def _alias_patterns(self) -> list[tuple[re.Pattern, str]]:
        """Each alias as a whole-word pattern, with its item's name: longest first."""
        with session_scope(self.url) as session:
            aliases = session.execute(select(ItemAlias.alias, ItemAlias.item_name)).all()
        return [
            (re.compile(rf"(?<!\w){re.escape(alias)}(?!\w)"), name)
            for alias, name in sorted(aliases, key=lambda row: -len(row[0]))
        ]

    def example_questions(self) -> dict[str, list[str]]:
        """Entry key -> the questions learners ask that the entry answers."""
        with session_scope(self.url) as session:
            rows = session.execute(
                select(ExampleQuestion.entry_key, ExampleQuestion.question).order_by(
                    ExampleQuestion.entry_key, ExampleQuestion.position
                )
            ).all()
        questions: dict[str, list[str]] = {}
        for key, question in rows:
            questions.setdefault(key, []).append(question)
        return questions

    def aliases(self) -> dict[str, list[str]]:
        """Item name -> the other ways learners write it."""
        with session_scope(self.url) as session:
            rows = session.execute(select(ItemAlias.item_name, ItemAlias.alias)).all()
        aliases: dict[str, list[str]] = {}
        for name, alias in rows:
            aliases.setdefault(name, []).append(alias)
        return aliases

    @per_build
    def vocabulary(self) -> frozenset[str]:
        """Every word the knowledge base uses (lower case): its topics, facts, items with their
        aliases, and path steps. A name outside it is one the guides never mention."""
        with session_scope(self.url) as session:
            texts = [
                *session.execute(select(Topic.title)).scalars(),
                *session.execute(select(Topic.summary)).scalars(),
                *session.execute(select(Fact.text)).scalars(),
                *session.execute(select(Item.full_name)).scalars(),
                *session.execute(select(Item.description)).scalars(),
                *session.execute(select(ItemAlias.alias)).scalars(),
                *session.execute(select(PathStep.title)).scalars(),
                *session.execute(select(PathStep.text)).scalars(),
            ]
        return frozenset(re.findall(r"[a-z']+", " ".join(texts).lower().replace("’", "'")))

    @per_build
    def path(self) -> list[PathStepInfo]:
        with session_scope(self.url) as session:
            rows = session.execute(
                select(PathStep, Source.title)
                .join(Source, PathStep.source_key == Source.key)
                .order_by(PathStep.position)
            ).all()
            return [
                PathStepInfo(
                    step.position,
                    step.key,
                    step.title,
                    step.text,
                    step.topic_key,
                    source,
                    tuple(role for role in step.roles.split("|") if role),
                )
                for step, source in rows
            ]

    @staticmethod
    def _items(session, names: Iterable[str]) -> list[ItemInfo]:
        names = list(names)
        if not names:
            return []
        rows = session.execute(
            select(Item, Source.title)
            .join(Source, Item.source_key == Source.key)
            .where(Item.name.in_(names))
        ).all()
        by_name = {
            item.name: ItemInfo(
                name=item.name,
                full_name=item.full_name,
                kind=item.kind,
                topic=item.topic_key,
                description=item.description,
                tags=tuple(tag for tag in item.tags.split("|") if tag),
                source=source,
                milestone=item.milestone,
            )
            for item, source in rows
        }
        return [by_name[name] for name in names if name in by_name]


def default_knowledge_base() -> KnowledgeBase:
    """The configured knowledge base, built first if it is missing or older than its files."""
    settings = load_settings()
    return _knowledge_base_at(settings.knowledge_db_url, str(settings.knowledge_dir))


@cache
def _knowledge_base_at(url: str, directory: str) -> KnowledgeBase:
    with _building:  # actions run in threads (actions/threads.py): one build, not one each
        ensure_knowledge_base(url, Path(directory))
    return KnowledgeBase(url)


_building = threading.Lock()
