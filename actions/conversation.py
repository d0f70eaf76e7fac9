"""What actions need to read from the conversation: the items a message names, the list the bot
showed last, and references such as "the first one"."""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.knowledge_base import ItemInfo, KnowledgeBase

# Slots the answer actions keep so follow-ups can refer back.
LAST_TOPIC = "last_topic"
LISTED_ITEMS = "listed_items"

_ORDINALS = {
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


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def items_named(tracker: Tracker, kb: KnowledgeBase) -> list[ItemInfo]:
    """Items the latest message names: NLU entities first, then any alias found in the text
    (which catches names the model missed). Each item once, in order of appearance."""
    found: list[ItemInfo] = []
    for entity in tracker.latest_message.get("entities") or []:
        value = entity.get("value")
        item = kb.resolve(value) if isinstance(value, str) else None
        if item is not None:
            found.append(item)
    found += kb.items_in_text(latest_text(tracker))
    unique = {item.name: item for item in reversed(found)}
    return [unique[name] for name in dict.fromkeys(item.name for item in found)]


def listed_items(tracker: Tracker, kb: KnowledgeBase) -> list[ItemInfo]:
    names = tracker.get_slot(LISTED_ITEMS) or []
    items = [kb.item(name) for name in names if isinstance(name, str)]
    return [item for item in items if item is not None]


def referenced_position(text: str) -> int | None:
    """The list position a message points at ("the second one" -> 1, "the last" -> -1)."""
    lowered = text.lower()
    for word in re.findall(r"[a-z0-9]+", lowered):
        if word in _ORDINALS:
            return _ORDINALS[word]
    match = _NUMBER_REFERENCE.search(lowered)
    return int(match.group(1)) - 1 if match else None
