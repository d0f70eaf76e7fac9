"""One action per knowledge-base topic: action_answer_<topic> answers ask_<topic>.

When the question names exactly one thing the topic covers ("is the CCRP worth it?"), the answer is
about that thing; otherwise it is the topic's overview.
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

logger = logging.getLogger(__name__)


class TopicAnswerAction(Action):
    topic: str = ""

    def name(self) -> str:
        return f"action_answer_{self.topic}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return answer_topic(dispatcher, tracker, self.topic)


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
    return [
        SlotSet(LAST_TOPIC, topic_key),
        SlotSet(LISTED_ITEMS, [item.name for item in topic.items]),
    ]


def topic_asked(tracker: Tracker, min_confidence: float = 0.2) -> str | None:
    """The topic a message also asks about, from NLU's ranking of the ask_<topic> intents. Only
    knowledge-base topics count: ask_more, ask_about_item and ask_which_of_those are follow-ups."""
    topics = {ref.key for ref in default_knowledge_base().topics()}
    for ranked in tracker.latest_message.get("intent_ranking") or []:
        name = ranked.get("name") or ""
        topic = name.removeprefix("ask_")
        if name != topic and topic in topics and ranked.get("confidence", 0) >= min_confidence:
            return topic
    return None


class ActionAnswerRoleOverview(TopicAnswerAction):
    topic = "role_overview"


class ActionAnswerWorkSettings(TopicAnswerAction):
    topic = "work_settings"


class ActionAnswerScheduleTravel(TopicAnswerAction):
    topic = "schedule_travel"


class ActionAnswerDegrees(TopicAnswerAction):
    topic = "degrees"


class ActionAnswerCertifications(TopicAnswerAction):
    topic = "certifications"


class ActionAnswerExperience(TopicAnswerAction):
    topic = "experience"


class ActionAnswerSkills(TopicAnswerAction):
    topic = "skills"


class ActionAnswerCompliance(TopicAnswerAction):
    topic = "compliance"


class ActionAnswerNetworking(TopicAnswerAction):
    topic = "networking"


class ActionAnswerLeadership(TopicAnswerAction):
    topic = "leadership"


class ActionAnswerStayingCurrent(TopicAnswerAction):
    topic = "staying_current"


class ActionAnswerPersonalBrand(TopicAnswerAction):
    topic = "personal_brand"


class ActionAnswerJobSearch(TopicAnswerAction):
    topic = "job_search"


class ActionAnswerCareerPath(TopicAnswerAction):
    topic = "career_path"
