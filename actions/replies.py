"""Knowledge-base records assembled into replies that read well in a terminal, a chat widget and
Slack: a heading line, one short paragraph, "- " bullets, and the source document named last.
Fixed sentences around them are responses in domain.yml; this module builds only what comes
from the knowledge base."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from actions.knowledge_base import ItemInfo, PathStepInfo, SourcedText, TopicInfo, TopicRef
from common.goals import said_back, spoken

if TYPE_CHECKING:
    from datetime import date

    from actions.goal_store import GoalRecord
    from actions.passage_search import Passage


def due_text(goal: GoalRecord) -> str:
    return f"by {spoken(goal.due_on)}" if goal.due_on else "with no date set"


def goal_lines(goals: list[GoalRecord], on: date) -> str:
    lines = []
    for n, goal in enumerate(goals, start=1):
        state = ""
        if goal.overdue(on):
            state = " (overdue)"
        elif goal.due_on == on:
            state = " (due today)"
        lines.append(f"{n}. {said_back(goal.title)}, {due_text(goal)}{state}")
    return "\n".join(lines)


def sources_line(sources: Iterable[str]) -> str:
    unique = list(dict.fromkeys(sources))
    label = "Source" if len(unique) == 1 else "Sources"
    return f"{label}: {'; '.join(unique)}"


def _bullets(facts: Sequence[SourcedText]) -> list[str]:
    return [f"- {fact.text}" for fact in facts]


def numbered(names: Iterable[str]) -> str:
    """ "1) CCRP, 2) CHOM": what "the first one" and "number 2" refer to."""
    return ", ".join(f"{n}) {name}" for n, name in enumerate(names, start=1))


def topic_titles(topics: Iterable[TopicRef]) -> str:
    return ", ".join(topic.title.lower() for topic in topics)


def topic_answer(topic: TopicInfo, path: Sequence[PathStepInfo] = ()) -> str:
    lines = [topic.title, topic.summary, *_bullets(topic.facts)]
    lines += [f"{step.position}. {step.title}: {step.text}" for step in path]
    sources = [fact.source for fact in topic.facts] + [step.source for step in path]
    if sources:
        lines.append(sources_line(sources))
    return "\n".join(lines)


def more_answer(topic: TopicInfo, facts: Sequence[SourcedText]) -> str:
    """More of a topic: the facts not given yet (the caller says so when there are none)."""
    lines = [f"More on {topic.title.lower()}:", *_bullets(facts)]
    lines.append(sources_line(fact.source for fact in facts))
    return "\n".join(lines)


def item_answer(item: ItemInfo, topic: TopicInfo | None) -> str:
    lines = [item.heading, item.description]
    sources = [item.source]
    if topic is not None:
        mentioning = [fact for fact in topic.facts + topic.more if _mentions(fact.text, item)]
        mentioning = [fact for fact in mentioning if fact.text not in item.description][:2]
        lines += _bullets(mentioning)
        sources += [fact.source for fact in mentioning]
    lines.append(sources_line(sources))
    return "\n".join(lines)


def _mentions(text: str, item: ItemInfo) -> bool:
    lowered = text.lower()
    return item.name.lower() in lowered or item.full_name.lower() in lowered


def filtered_items_answer(matches: Sequence[ItemInfo], words: str) -> str:
    lines = [f"For {words}:"]
    lines += [f"- {item.heading}: {item.description}" for item in matches]
    lines.append(sources_line(item.source for item in matches))
    return "\n".join(lines)


def lower_first(text: str) -> str:
    """A sentence continued after "Yes: ": its first letter in lower case, unless it starts an
    acronym ("CCRP", "HIPAA")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def answer(lead: str, passages: Sequence[Passage]) -> str:
    """An answer: its first sentence (the best passage, perhaps after "Yes: "), the second
    passage as a bullet when there is one, and their sources."""
    lines = [lead, *[f"- {passage.text}" for passage in passages[1:]]]
    lines.append(sources_line(passage.source for passage in passages))
    return "\n".join(lines)


def comparison(items: Sequence[ItemInfo]) -> str:
    """Two named things side by side, as the guides describe each."""
    lines = [" or ".join(item.name for item in items) + "? Here is how the guides describe each:"]
    lines += [f"- {item.heading}: {item.description}" for item in items]
    lines.append(sources_line(item.source for item in items))
    return "\n".join(lines)


def next_steps_list(steps: Sequence[PathStepInfo]) -> str:
    return "\n".join(f"{n}. {step.title}: {step.text}" for n, step in enumerate(steps, start=1))


def topic_buttons(topics: Sequence[TopicRef]) -> list[dict[str, str]]:
    """Quick replies that ask about a topic; each topic's intent is ask_<topic key>."""
    return [{"title": topic.title, "payload": f"/ask_{topic.key}"} for topic in topics]
