"""Lexical search over the knowledge base: which passages share a question's words.

A passage is one sourced sentence of the knowledge base: a topic's summary or fact, an item's
description, a step of the career path. Each is searched with its topic's title, its names and
the questions learners ask that it answers (knowledge/questions.yml), by BM25 over word lemmas.
actions/answers.py combines this with the Rasa server's ranking by meaning.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources

import spacy_lookups_data

from actions.knowledge_base import KnowledgeBase, build_version, default_knowledge_base

STOP_WORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from get got had
    has have how i if in into is it its just me more my no not of on or our should so some
    than that the their them then there these they this to too up us was we what when where which
    who why will with would you your yours about any also am all tell want need know like really
    im ive id dont thing things""".split()
)


@cache
def lemmas() -> dict[str, str]:
    """spaCy's English lookup lemmas ("certifications" -> "certification", "managing" ->
    "manage", "led" -> "lead"): the table `spacy.blank("en")`'s lemmatizer uses in lookup mode,
    read from spacy-lookups-data once per process. Read directly, it takes under 0.2 s and 13 MB;
    spaCy itself would take about 2 s and 117 MB in the action server's image, and 7 s and 485 MB
    in the venv, where thinc imports TensorFlow."""
    table = resources.files(spacy_lookups_data) / "data" / "en_lemma_lookup.json.gz"
    return json.loads(gzip.decompress(table.read_bytes()))


def words(text: str) -> list[str]:
    """The lemmas of the words in `text` that are not stop words."""
    lemma = lemmas()
    return [lemma.get(w, w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP_WORDS]


@dataclass(frozen=True)
class Passage:
    text: str
    topic: str  # topic key
    topic_title: str
    source: str  # the source document's title
    label: str = ""  # extra words that identify it (its topic's title, an item's names)
    # What it is in the knowledge base: a fact's id ("degrees.bachelors_required"),
    # "summary:<topic>", "item:<item name>" or "step:<path step key>".
    key: str = ""
    questions: tuple[str, ...] = ()  # questions learners ask that it answers (questions.yml)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


class LexicalPassageSearch:
    """Okapi BM25 over lemmas."""

    def __init__(self, passages: Sequence[Passage], k1: float = 1.2, b: float = 0.75) -> None:
        self.passages = list(passages)
        self.k1, self.b = k1, b
        self.documents = [
            Counter(words(" ".join([p.label, p.text, *p.questions]))) for p in self.passages
        ]
        self.lengths = [sum(d.values()) for d in self.documents]
        self.average_length = sum(self.lengths) / max(1, len(self.lengths))
        frequency = Counter(word for document in self.documents for word in document)
        n = len(self.documents)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in frequency.items()}

    def search(self, question: str, limit: int = 3) -> list[Hit]:
        query = set(words(question))
        hits = []
        for passage, document, length in zip(
            self.passages, self.documents, self.lengths, strict=True
        ):
            score = 0.0
            for word in query & document.keys():
                tf = document[word]
                norm = tf + self.k1 * (1 - self.b + self.b * length / self.average_length)
                score += self.idf[word] * tf * (self.k1 + 1) / norm
            if score > 0:
                hits.append(Hit(passage, score))
        return sorted(hits, key=lambda hit: hit.score, reverse=True)[:limit]


def passages_of(kb: KnowledgeBase) -> list[Passage]:
    """Every sourced sentence of the knowledge base, with the questions it answers."""
    passages = []
    for ref in kb.topics():
        topic = kb.topic(ref.key)
        if topic is None:
            continue
        facts = topic.facts + topic.more
        source = facts[0].source if facts else ""
        passages.append(
            Passage(
                topic.summary, topic.key, topic.title, source, topic.title, f"summary:{ref.key}"
            )
        )
        passages += [
            Passage(fact.text, topic.key, topic.title, fact.source, topic.title, fact.key)
            for fact in facts
        ]
    titles = {ref.key: ref.title for ref in kb.topics()}
    aliases = kb.aliases()
    passages += [
        Passage(
            f"{item.heading}: {item.description}",
            item.topic,
            titles.get(item.topic, ""),
            item.source,
            " ".join([titles.get(item.topic, ""), item.full_name, *aliases.get(item.name, [])]),
            f"item:{item.name}",
        )
        for item in kb.items()
    ]
    passages += [
        Passage(
            f"{step.title}: {step.text}",
            step.topic,
            titles.get(step.topic, ""),
            step.source,
            "career path step",
            f"step:{step.key}",
        )
        for step in kb.path()
    ]
    questions = kb.example_questions()
    return [
        replace(passage, questions=tuple(questions.get(passage.key, ()))) for passage in passages
    ]


# Only the current build's: the version is a stat of the database and its write-ahead log, which
# also changes when SQLite folds the log in, so an unbounded cache kept an index per flicker
# (33 MB per 1,000 messages, `python -m scripts.bench --memory`).
@lru_cache(maxsize=1)
def _search_for(kb: KnowledgeBase, version: object) -> LexicalPassageSearch:
    return LexicalPassageSearch(passages_of(kb))


def default_passage_search() -> LexicalPassageSearch:
    """Built once per knowledge-base build: `make kb` while the server runs is picked up."""
    kb = default_knowledge_base()
    return _search_for(kb, build_version(kb.url))
