"""Topic questions: every ask_<topic key> intent is answered by action_answer_topic, with the
facts that answer the question asked (actions/answers.py), on the intent's topic."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_question
from actions.conversation import latest_intent
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
        intent = latest_intent(tracker)
        topic = topic_of_intent(intent)
        if topic is None:
            logger.warning("action_answer_topic ran for %r, which asks no topic.", intent)
            return []
        return answer_question(dispatcher, tracker, topic)


def topic_asked(tracker: Tracker, min_confidence: float = 0.2) -> str | None:
    """The topic a message also asks about, from NLU's ranking of the ask_<topic> intents."""
    for ranked in tracker.latest_message.get("intent_ranking") or []:
        topic = topic_of_intent(ranked.get("name"))
        if topic and ranked.get("confidence", 0) >= min_confidence:
            return topic
    return None
