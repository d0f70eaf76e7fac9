"""What actions need to read from the conversation: the items a message names, the list the bot
showed last, and references such as "the first one"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rasa_sdk import Tracker

from actions.knowledge_base import ItemInfo, KnowledgeBase

# Slots the answer actions keep so follow-ups can refer back.
LAST_TOPIC = "last_topic"
LISTED_ITEMS = "listed_items"

# "the second one", "the last": list positions, shared by every reference to a shown list.
ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "sixth": 5,
    "6th": 5,
    "last": -1,
}
_NUMBER_REFERENCE = re.compile(r"(?:number|no\.?|#|option)\s*([1-9])\b")


@dataclass(frozen=True)
class Utterance:
    """A message, or a part of one, with the NLU entities that fall inside it."""

    text: str
    entities: list[dict] = field(default_factory=list)

    def part(self, spans: list[tuple[int, int]]) -> Utterance:
        """The text of `spans` (start, end), joined by spaces, with the entities that start inside
        them; their offsets are moved to where they now are. An entity without offsets (as some
        tests give) counts as at 0."""
        pieces: list[str] = []
        entities: list[dict] = []
        length = 0
        for a, b in spans:
            raw = self.text[a:b]
            piece = raw.strip()
            if not piece:
                continue
            shift = length - (a + len(raw) - len(raw.lstrip()))
            for e in self.entities:
                if a <= (e.get("start") or 0) < b:
                    moved = {k: e[k] + shift for k in ("start", "end") if e.get(k) is not None}
                    entities.append({**e, **moved})
            pieces.append(piece)
            length += len(piece) + 1
        return Utterance(" ".join(pieces), entities)


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    """The intent NLU gave the latest message ("" when it has none)."""
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def latest_utterance(tracker: Tracker) -> Utterance:
    return Utterance(latest_text(tracker), list(tracker.latest_message.get("entities") or []))


def items_named(tracker: Tracker, kb: KnowledgeBase) -> list[ItemInfo]:
    return items_in(latest_utterance(tracker), kb)


def items_in(utterance: Utterance, kb: KnowledgeBase) -> list[ItemInfo]:
    """Items an utterance names: NLU entities first, then any alias found in the text (which
    catches names the model missed). Each item once, in order of appearance."""
    found: list[ItemInfo] = []
    for entity in utterance.entities:
        value = entity.get("value")
        item = kb.resolve(value) if isinstance(value, str) else None
        if item is not None:
            found.append(item)
    found += kb.items_in_text(utterance.text)
    unique = {item.name: item for item in reversed(found)}
    return [unique[name] for name in dict.fromkeys(item.name for item in found)]


_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
# "I'm a nurse with a BSN, what should I do next?": a question after a comma or dash.
_QUESTION_AFTER = re.compile(
    r"(?:,|\s-|;)\s+(?=(?:what|which|how|should|do|does|is|are|can|could|would|where|when|who|"
    r"why|any)\b)",
    re.IGNORECASE,
)


def split_statement_and_question(utterance: Utterance) -> tuple[Utterance, Utterance]:
    """The parts of a message that state something, and the parts that ask something."""
    spans = []
    for sentence in _SENTENCE.finditer(utterance.text):
        start = sentence.start()
        for cut in _QUESTION_AFTER.finditer(sentence.group()):
            spans.append((start, sentence.start() + cut.start()))
            start = sentence.start() + cut.end()
        spans.append((start, sentence.end()))
    asks = [(a, b) for a, b in spans if utterance.text[a:b].strip().endswith("?")]
    states = [(a, b) for a, b in spans if (a, b) not in asks and utterance.text[a:b].strip()]
    return utterance.part(states), utterance.part(asks)


def listed_items(tracker: Tracker, kb: KnowledgeBase) -> list[ItemInfo]:
    names = tracker.get_slot(LISTED_ITEMS) or []
    items = [kb.item(name) for name in names if isinstance(name, str)]
    return [item for item in items if item is not None]


def referenced_position(text: str) -> int | None:
    """The list position a message points at ("the second one" -> 1, "the last" -> -1)."""
    lowered = text.lower()
    for word in re.findall(r"[a-z0-9]+", lowered):
        if word in ORDINALS:
            return ORDINALS[word]
    match = _NUMBER_REFERENCE.search(lowered)
    return int(match.group(1)) - 1 if match else None
