"""Turn knowledge-base records into replies that read well in a terminal, a chat widget and Slack:
a heading line, one short paragraph, "- " bullets, and the source document named last."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from actions.knowledge_base import (
    ItemInfo,
    PathStepInfo,
    SourcedText,
    TopicInfo,
    TopicRef,
)

if TYPE_CHECKING:
    from actions.passage_search import Passage


def _sources_line(sources: Iterable[str]) -> str:
    unique = list(dict.fromkeys(sources))
    label = "Source" if len(unique) == 1 else "Sources"
    return f"{label}: {'; '.join(unique)}"


def _bullets(facts: Sequence[SourcedText]) -> list[str]:
    return [f"- {fact.text}" for fact in facts]


def _numbered_items(items: Sequence[ItemInfo]) -> str:
    listed = ", ".join(f"{n}) {item.name}" for n, item in enumerate(items, start=1))
    return f'Ask me about any of these: {listed} (for example "tell me more about the first one").'


def topic_answer(topic: TopicInfo, path: Sequence[PathStepInfo] = ()) -> str:
    lines = [topic.title, topic.summary, *_bullets(topic.facts)]
    lines += [f"{step.position}. {step.title}: {step.text}" for step in path]
    if topic.items:
        lines.append(_numbered_items(topic.items))
    sources = [fact.source for fact in topic.facts] + [step.source for step in path]
    lines.append(_sources_line(sources))
    return "\n".join(lines)


def more_answer(topic: TopicInfo) -> str:
    if not topic.more:
        return "\n".join(
            [
                f"That is everything the guides say about {topic.title.lower()}.",
                related_line(topic),
            ]
        )
    lines = [
        f"More on {topic.title.lower()}:",
        *_bullets(topic.more),
        related_line(topic),
    ]
    lines.append(_sources_line(fact.source for fact in topic.more))
    return "\n".join(lines)


def related_line(topic: TopicInfo) -> str:
    titles = ", ".join(ref.title.lower() for ref in topic.related)
    return f"You might also ask about: {titles}." if titles else ""


def item_answer(item: ItemInfo, topic: TopicInfo | None) -> str:
    lines = [item.heading, item.description]
    sources = [item.source]
    if topic is not None:
        mentioning = [fact for fact in topic.facts + topic.more if _mentions(fact.text, item)]
        mentioning = [fact for fact in mentioning if fact.text not in item.description][:2]
        lines += _bullets(mentioning)
        sources += [fact.source for fact in mentioning]
    lines.append(_sources_line(sources))
    return "\n".join(lines)


def _mentions(text: str, item: ItemInfo) -> bool:
    lowered = text.lower()
    return item.name.lower() in lowered or item.full_name.lower() in lowered


def filtered_items_answer(
    matches: Sequence[ItemInfo], listed: Sequence[ItemInfo], words: str
) -> str:
    if not matches:
        names = ", ".join(item.name for item in listed)
        return (
            f"None of those ({names}) is described in the guides as being for {words}. "
            "Ask me about any one of them for the details."
        )
    lines = [f"For {words}:"]
    lines += [f"- {item.heading}: {item.description}" for item in matches]
    lines.append(_sources_line(item.source for item in matches))
    return "\n".join(lines)


def passage_answer(passage: Passage) -> str:
    """A knowledge-base passage found by search: said to be the closest match, not an answer to
    exactly what was asked, and with its source."""
    return "\n".join(
        [
            f"I think this is what you're after, from {passage.topic_title.lower()}:",
            f"- {passage.text}",
            'Say "tell me more" for more on this, or ask in other words.',
            _sources_line([passage.source]),
        ]
    )


def topic_buttons(topics: Sequence[TopicRef]) -> list[dict[str, str]]:
    """Quick replies that ask about a topic; each topic's intent is ask_<topic key>."""
    return [{"title": topic.title, "payload": f"/ask_{topic.key}"} for topic in topics]
