"""Help and clarification: the learner always learns what they can ask, never gets silence."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.conversation import LAST_TOPIC, LISTED_ITEMS
from actions.knowledge_base import default_knowledge_base
from actions.passage_search import Hit, default_passage_search

# BM25 score from which the closest passage is offered as the answer: the lowest at which 85% of
# the passages offered for the held-out questions are on the question's topic, measured by
# scripts/evaluate_passage_search.py. Below it, a clarifying question serves the learner better.
PASSAGE_MIN_SCORE = 7.9

ROLES = "Clinical Operations Manager and Clinical Program Manager roles"


def offer_topics(dispatcher: CollectingDispatcher, opening: str) -> None:
    topics = default_knowledge_base().topics()
    titles = ", ".join(topic.title.lower() for topic in topics)
    dispatcher.utter_message(
        text=f"{opening}\nI can tell you about: {titles}. Pick one or ask in your own words.",
        buttons=replies.topic_buttons(topics),
    )


class ActionShowHelp(Action):
    def name(self) -> str:
        return "action_show_help"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        offer_topics(dispatcher, f"I coach people heading for {ROLES}.")
        return []


class ActionClarify(Action):
    """For out-of-scope messages and anything the assistant could not place: the closest
    knowledge-base passage when one matches well, else a clarifying question."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "out_of_scope":
            opening = f"That's outside what I can help with: I coach people heading for {ROLES}."
            offer_topics(dispatcher, opening)
            return []
        hit = closest_passage(tracker.latest_message.get("text") or "")
        if hit is not None:
            dispatcher.utter_message(text=replies.passage_answer(hit.passage))
            return [SlotSet(LAST_TOPIC, hit.passage.topic), SlotSet(LISTED_ITEMS, [])]
        likely = likely_topics(tracker)
        if likely:
            titles = {ref.key: ref for ref in default_knowledge_base().topics()}
            options = [titles[key] for key in likely if key in titles]
            dispatcher.utter_message(
                text="Do you mean "
                + " or ".join(ref.title.lower() for ref in options)
                + "? Pick one, or ask in other words.",
                buttons=replies.topic_buttons(options),
            )
            return []
        offer_topics(dispatcher, "Sorry, I'm not sure what you mean.")
        return []


def closest_passage(text: str) -> Hit | None:
    hits = default_passage_search().search(text, limit=1)
    return hits[0] if hits and hits[0].score >= PASSAGE_MIN_SCORE else None


def likely_topics(tracker: Tracker, min_confidence: float = 0.25) -> list[str]:
    """The two topics NLU hesitated between, when it did ("what do I need?")."""
    ranked = [
        r["name"].removeprefix("ask_")
        for r in tracker.latest_message.get("intent_ranking") or []
        if (r.get("name") or "").startswith("ask_") and r.get("confidence", 0) >= min_confidence
    ]
    return ranked[:2] if len(ranked) >= 2 else []
