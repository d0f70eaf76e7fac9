"""Topic questions: every ask_<topic key> intent is answered by action_answer_topic.

When the question names exactly one thing the topic covers ("is the CCRP worth it?"), the answer
is about that thing; otherwise it is the topic's overview.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.conversation import LAST_TOPIC, LISTED_ITEMS, items_named
from actions.knowledge_base import default_knowledge_base
from actions.threads import in_a_thread

logger = logging.getLogger(__name__)

TOPIC_INTENT_PREFIX = "ask_"


def topic_of_intent(intent: str | None) -> str | None:
    """The knowledge-base topic an intent asks about (ask_degrees -> degrees), or None: ask_more,
    ask_about_item and ask_which_of_those are follow-ups, not topics."""
    topic = (intent or "").removeprefix(TOPIC_INTENT_PREFIX)
    if topic == intent or not topic:
        return None
    return topic if topic in {ref.key for ref in default_knowledge_base().topics()} else None


class ActionAnswerTopic(Action):
    def name(self) -> str:
        return "action_answer_topic"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = topic_of_intent(intent)
        if topic is None:
            logger.warning("action_answer_topic ran for %r, which asks no topic.", intent)
            return []
        return answer_topic(dispatcher, tracker, topic)


def answer_topic(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic_key: str
) -> list[dict[str, Any]]:
    """Answer a topic question; about one thing when the message names exactly one it covers.
    A key the knowledge base does not have gets no answer (and no slot changes)."""
    kb = default_knowledge_base()
    topic = kb.topic(topic_key)
    if topic is None:
        logger.warning("No knowledge-base topic %r to answer.", topic_key)
        return []
    covered = {item.name for item in topic.items}
    named = [
        item for item in items_named(tracker, kb) if item.topic == topic_key or item.name in covered
    ]
    if len(named) == 1:
        dispatcher.utter_message(text=replies.item_answer(named[0], topic))
    else:
        path = kb.path() if topic_key == "career_path" else ()
        dispatcher.utter_message(text=replies.topic_answer(topic, path))
        if topic.items:
            items = replies.numbered(item.name for item in topic.items)
            dispatcher.utter_message(response="utter_ask_about_listed", items=items)
    return [
        SlotSet(LAST_TOPIC, topic_key),
        SlotSet(LISTED_ITEMS, [item.name for item in topic.items]),
    ]


def topic_asked(tracker: Tracker, min_confidence: float = 0.2) -> str | None:
    """The topic a message also asks about, from NLU's ranking of the ask_<topic> intents."""
    for ranked in tracker.latest_message.get("intent_ranking") or []:
        topic = topic_of_intent(ranked.get("name"))
        if topic and ranked.get("confidence", 0) >= min_confidence:
            return topic
    return None
