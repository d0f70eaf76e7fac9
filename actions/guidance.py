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
from actions.threads import in_a_thread
from actions.topic_answers import topic_of_intent

# BM25 score from which the closest passage is offered as the answer: the lowest at which 85% of
# the passages offered for the held-out questions are on the question's topic, measured by
# scripts/evaluate_passage_search.py. Below it, a clarifying question serves the learner better.
PASSAGE_MIN_SCORE = 7.9


def offer_topics(dispatcher: CollectingDispatcher, response: str) -> None:
    """A response that ends by listing the topics ({topics}), with a button for each."""
    topics = default_knowledge_base().topics()
    dispatcher.utter_message(
        response=response,
        topics=replies.topic_titles(topics),
        buttons=replies.topic_buttons(topics),
    )


class ActionShowHelp(Action):
    def name(self) -> str:
        return "action_show_help"

    @in_a_thread
    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        offer_topics(dispatcher, "utter_help")
        return []


class ActionClarify(Action):
    """For out-of-scope messages and anything the assistant could not place: the closest
    knowledge-base passage when one matches well, else a clarifying question."""

    def name(self) -> str:
        return "action_clarify"

    @in_a_thread
    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "out_of_scope":
            offer_topics(dispatcher, "utter_out_of_scope")
            return []
        hit = closest_passage(tracker.latest_message.get("text") or "")
        if hit is not None:
            dispatcher.utter_message(
                response="utter_closest_passage",
                topic=hit.passage.topic_title.lower(),
                passage=hit.passage.text,
                sources=replies.sources_line([hit.passage.source]),
            )
            return [SlotSet(LAST_TOPIC, hit.passage.topic), SlotSet(LISTED_ITEMS, [])]
        likely = likely_topics(tracker)
        if likely:
            titles = {ref.key: ref for ref in default_knowledge_base().topics()}
            options = [titles[key] for key in likely]
            dispatcher.utter_message(
                response="utter_do_you_mean",
                options=" or ".join(ref.title.lower() for ref in options),
                buttons=replies.topic_buttons(options),
            )
            return []
        offer_topics(dispatcher, "utter_not_understood")
        return []


def closest_passage(text: str) -> Hit | None:
    hits = default_passage_search().search(text, limit=1)
    return hits[0] if hits and hits[0].score >= PASSAGE_MIN_SCORE else None


def likely_topics(tracker: Tracker, min_confidence: float = 0.25) -> list[str]:
    """The two topics NLU hesitated between, when it did ("what do I need?")."""
    ranked = [
        topic_of_intent(r.get("name"))
        for r in tracker.latest_message.get("intent_ranking") or []
        if r.get("confidence", 0) >= min_confidence
    ]
    topics = [topic for topic in ranked if topic]
    return topics[:2] if len(topics) >= 2 else []
