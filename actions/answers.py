"""Answer the question the learner asked: the knowledge-base entries that answer it first, phrased
as an answer (yes/no questions start with "Yes" or "It depends", comparisons set the two things
side by side, two questions get two answers); then a short pointer to the rest of the topic.
When a question asks for what the two source documents never give (salaries, durations, named
employers...), the learner is told so plainly, then offered the closest thing they do say, as
related information rather than as the answer.

Entries (facts, topic summaries, named things, path steps) are ranked by two measures of how
close the question comes to each entry's example questions (knowledge/questions.yml) and text:
- by meaning: the Rasa server's sentence vector of the message against every entry's example
  questions, passed in the parse data (`knowledge_ranking`, addons/knowledge_ranking.py);
- by words: BM25 over each entry's text, names and example questions (passage_search.py).
The weights below were chosen leave-one-out on the example questions themselves (each one
taken out must find its own entry), not on the held-out questions that measure the answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.conversation import (
    LAST_TOPIC,
    LISTED_ITEMS,
    Utterance,
    items_in,
    latest_utterance,
    split_statement_and_question,
)
from actions.knowledge_base import ItemInfo, KnowledgeBase, PathStepInfo, default_knowledge_base
from actions.learner_store import LearnerRecord, default_progress_store
from actions.passage_search import Passage, default_passage_search
from actions.questions import (
    RELATED_TOPIC,
    NotCovered,
    compared_items,
    is_yes_no,
    not_covered,
    split_questions,
    yes_no_lead,
)
from actions.recommender import next_milestones, progress
from common.knowledge_ranking import KNOWLEDGE_RANKING

CAREER_PATH = "career_path"  # its answer is the path itself, step by step
SHOWN_FACTS = "shown_facts"  # slot: the passages the last answer gave, so "tell me more" goes on

# score = cosine by meaning + LEXICAL_WEIGHT * BM25 / (BM25 + LEXICAL_HALF) + preferences: a
# passage sharing LEXICAL_HALF BM25 points with the question gets half the lexical weight.
LEXICAL_WEIGHT = 0.8
LEXICAL_HALF = 8.0
# For the topic NLU predicted, times its confidence: a confident topic is right far more often
# than an entry of another topic that only shares words with the question.
TOPIC_PREFERENCE = 0.2
NAMED_PREFERENCE = 0.1  # for an entry about a thing the question names
SECOND_ENTRY_MARGIN = 0.25  # a second entry is given when it scores within this of the first
# A topic's summary sums the topic up; where a fact of it answers as well, the fact is the answer.
SUMMARY_PENALTY = 0.05
# Below this nothing answers better than the topic's overview (about a 0.5 cosine with no word
# in common).
MIN_ANSWER_SCORE = 0.5


@dataclass(frozen=True)
class Answered:
    topic: str | None
    shown: list[str]  # the keys of the knowledge-base entries the answer gave


def answer_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic_hint: str | None
) -> list[dict[str, Any]]:
    """Answer the question(s) in the learner's latest message; returns the slot events that let
    follow-ups refer back."""
    kb = default_knowledge_base()
    asked = question_part(latest_utterance(tracker))
    meaning = meaning_scores(tracker)
    record = default_progress_store().record(tracker.sender_id)
    parts = split_questions(asked)
    # NLU's topic is the message's: it belongs to the first question; the others find their own.
    hints = [topic_hint] + [None] * (len(parts) - 1)
    confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 1.0)
    answered = [
        answer_one(dispatcher, kb, part, hint, meaning, about_the_learner(part, record), confidence)
        for part, hint in zip(parts, hints, strict=True)
    ]
    if record is not None:
        say_where_the_learner_stands(dispatcher, kb, record, answered)
    last = next((a for a in reversed(answered) if a.topic), None)
    if last is None:
        return []
    topic = kb.topic(last.topic)
    return [
        SlotSet(LAST_TOPIC, last.topic),
        SlotSet(LISTED_ITEMS, [item.name for item in topic.items] if topic else []),
        SlotSet(SHOWN_FACTS, [key for a in answered for key in a.shown]),
    ]


def question_part(utterance: Utterance) -> str:
    """The question a message asks: its sentences that end with "?" when there are any
    ("Hi, I'm Maria. Should I get the CCRP?"), else all of it."""
    _, question = split_statement_and_question(utterance)
    return question.text or utterance.text


def meaning_scores(tracker: Tracker) -> dict[str, float]:
    """Entry key -> cosine of the message with the entry's closest example question, for the
    entries the Rasa server ranked highest (the others count as 0)."""
    ranking = tracker.latest_message.get(KNOWLEDGE_RANKING) or []
    return {entry["entry"]: float(entry["score"]) for entry in ranking if "entry" in entry}


def about_the_learner(question: str, record: LearnerRecord | None) -> str:
    """What the learner told about themselves, when a question asks about them ("which
    certification fits my background?", "someone like me"): searched for with the question."""
    if record is None or not _ABOUT_ME.search(question):
        return ""
    profile = record.profile
    said = [profile.current_role, profile.education_field, profile.target_role]
    if profile.education_level == "none":
        said.append("without a degree")
    return " ".join(part for part in said if part)


_ABOUT_ME = re.compile(r"\b(?:my|me|like me|for me)\b", re.IGNORECASE)


def answer_one(
    dispatcher: CollectingDispatcher,
    kb: KnowledgeBase,
    question: str,
    topic_hint: str | None,
    meaning: dict[str, float],
    background: str = "",
    topic_confidence: float = 1.0,
) -> Answered:
    gap = not_covered(question, kb)
    if gap is not None:
        return say_not_covered(dispatcher, question, gap, topic_hint, meaning)
    named = items_in(Utterance(question), kb)
    compared = compared_items(question, named)
    if compared:
        dispatcher.utter_message(text=replies.comparison(compared))
        return Answered(compared[0].topic, [f"item:{item.name}" for item in compared])
    passages = answering_entries(
        f"{question} {background}", topic_hint, meaning, named, topic_confidence
    )
    if not passages:
        return overview(dispatcher, kb, topic_hint)
    if passages[0].key == f"summary:{CAREER_PATH}":  # the whole way there: the path itself
        return overview(dispatcher, kb, CAREER_PATH)
    text = passages[0].text
    if is_yes_no(question):
        continued = text if passages[0].key.startswith("item:") else replies.lower_first(text)
        text = f"{yes_no_lead(question, text)}: {continued}"
    dispatcher.utter_message(text=replies.answer(text, passages))
    offer_more(dispatcher, kb, topic_hint if topic_hint == CAREER_PATH else passages[0].topic)
    return Answered(passages[0].topic, [passage.key for passage in passages])


def answering_entries(
    question: str,
    topic_hint: str | None,
    meaning: dict[str, float],
    named: Sequence[ItemInfo] = (),
    topic_confidence: float = 1.0,
    min_score: float = MIN_ANSWER_SCORE,
) -> list[Passage]:
    """The one or two entries that best answer `question`, if the best scores `min_score`."""
    search = default_passage_search()
    lexical = {hit.passage.key: hit.score for hit in search.search(question, limit=40)}
    named_keys = {f"item:{item.name}" for item in named}
    named_words = [item.name.lower() for item in named]

    def score(passage: Passage) -> float:
        total = meaning.get(passage.key, 0.0)
        words = lexical.get(passage.key, 0.0)
        total += LEXICAL_WEIGHT * words / (words + LEXICAL_HALF)
        if passage.topic == topic_hint:
            total += TOPIC_PREFERENCE * topic_confidence
        if passage.key in named_keys or any(w in passage.text.lower() for w in named_words):
            total += NAMED_PREFERENCE
        if passage.key.startswith("summary:"):
            total -= SUMMARY_PENALTY
        return total

    candidates = search.passages
    if topic_hint == CAREER_PATH:  # the path's steps and what the guide says of it as a whole
        on_the_path = ("step:", f"{CAREER_PATH}.", f"summary:{CAREER_PATH}")
        candidates = [p for p in candidates if p.key.startswith(on_the_path)]
    ranked = sorted(candidates, key=score, reverse=True)
    if not ranked or score(ranked[0]) < min_score:
        return []
    best = ranked[0]
    second = [
        passage
        for passage in ranked[1:3]
        if passage.text != best.text and score(passage) >= score(best) - SECOND_ENTRY_MARGIN
    ]
    return [best, *second[:1]]


def overview(
    dispatcher: CollectingDispatcher, kb: KnowledgeBase, topic_key: str | None
) -> Answered:
    """No entry answers the question better than the topic as a whole: its overview."""
    topic = kb.topic(topic_key) if topic_key else None
    if topic is None:
        return Answered(None, [])
    path = kb.path() if topic_key == CAREER_PATH else ()
    dispatcher.utter_message(text=replies.topic_answer(topic, path))
    if topic.items:
        items = replies.numbered(item.name for item in topic.items)
        dispatcher.utter_message(response="utter_ask_about_listed", items=items)
    return Answered(topic.key, [f"summary:{topic.key}", *(fact.key for fact in topic.facts)])


def offer_more(dispatcher: CollectingDispatcher, kb: KnowledgeBase, topic_key: str) -> None:
    """After the answer, the shorter overview: the whole path for a question about it; else a
    pointer to the rest of the topic, with the things it lists for "the first one"."""
    topic = kb.topic(topic_key)
    if topic is None:
        return
    if topic_key == CAREER_PATH:
        dispatcher.utter_message(text=replies.topic_answer(topic, kb.path()))
        return
    dispatcher.utter_message(response="utter_more_on_topic", topic=topic.title.lower())
    if topic.items:
        items = replies.numbered(item.name for item in topic.items)
        dispatcher.utter_message(response="utter_ask_about_listed", items=items)


def say_not_covered(
    dispatcher: CollectingDispatcher,
    question: str,
    gap: NotCovered,
    topic_hint: str | None,
    meaning: dict[str, float],
) -> Answered:
    """Say plainly that the guides don't give what was asked, then what they do say that comes
    closest, as related information."""
    dispatcher.utter_message(response=f"utter_not_covered_{gap.kind}", name=gap.name)
    hint = topic_hint or RELATED_TOPIC.get(gap.kind)
    related = answering_entries(question, hint, meaning)[:1]
    if not related:
        return Answered(None, [])
    closest = related[0]
    say_passage(dispatcher, "utter_closest_instead", closest)
    return Answered(closest.topic, [closest.key])


def say_passage(dispatcher: CollectingDispatcher, response: str, passage: Passage) -> None:
    """A knowledge-base passage in one of the domain's framings of it ("What they do say that
    comes closest, on <topic>: ..."), with its source."""
    dispatcher.utter_message(
        response=response,
        topic=passage.topic_title.lower(),
        passage=passage.text,
        sources=replies.sources_line([passage.source]),
    )


def say_where_the_learner_stands(
    dispatcher: CollectingDispatcher,
    kb: KnowledgeBase,
    record: LearnerRecord,
    answered: list[Answered],
) -> None:
    """For a learner the assistant knows, how the answer's step of the path stands for them:
    already on their list, or their next step."""
    shown = [key for answer in answered for key in answer.shown]
    if not shown:
        return
    path = kb.path()
    steps = steps_answered(kb, path, shown[0])
    if not steps:
        return
    done = progress(path, record.completed).done
    done_keys = {step.key for step in done}
    titles = {step.key: step.title for step in path}
    if all(step in done_keys for step in steps):
        dispatcher.utter_message(
            response="utter_step_done_already", step="; ".join(titles[key] for key in steps)
        )
        return
    upcoming = next_milestones(path, record.completed, limit=1)
    if upcoming and upcoming[0].key in steps:
        dispatcher.utter_message(response="utter_step_is_next", step=upcoming[0].title)


def steps_answered(kb: KnowledgeBase, path: Sequence[PathStepInfo], entry: str) -> list[str]:
    """The path steps an answering entry is about: the step itself, the step a named thing
    completes, or the steps of the fact's topic."""
    if entry.startswith("step:"):
        return [entry.removeprefix("step:")]
    if entry.startswith("item:"):
        item = kb.item(entry.removeprefix("item:"))
        return [item.milestone] if item and item.milestone else []
    topic = entry.removeprefix("summary:").split(".")[0]
    return [step.key for step in path if step.topic == topic]
