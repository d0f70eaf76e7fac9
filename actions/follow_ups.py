"""Follow-ups that refer to the previous answer: "tell me more", "what about CHOM?",
"tell me more about the first one", "which of those is for research?"."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.answers import SHOWN_FACTS, meaning_scores, question_part, say_not_covered
from actions.conversation import (
    LAST_TOPIC,
    items_named,
    latest_text,
    latest_utterance,
    listed_items,
    referenced_position,
)
from actions.guidance import offer_topics
from actions.knowledge_base import ItemInfo, default_knowledge_base
from actions.questions import not_covered
from actions.threads import in_a_thread

# Words that carry no filter meaning in "which of those is best for research?".
_FILLER = set(
    """which what of those these them they one ones is are was for the a an best good better most
    more suits suit suited fit fits relevant someone somebody me i my if to in at with about would
    should do does work working useful helps help interested matters matter who""".split()
)


class ActionAnswerFollowUp(Action):
    """A named thing, else a position in the last list, else more on the last topic."""

    def name(self) -> str:
        return "action_answer_follow_up"

    @in_a_thread
    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        kb = default_knowledge_base()
        question = question_part(latest_utterance(tracker))
        gap = not_covered(question, kb)
        if gap is not None:  # "and what does the CHOM cost?"
            answered = say_not_covered(
                dispatcher, question, gap, tracker.get_slot(LAST_TOPIC), meaning_scores(tracker)
            )
            return [SlotSet(LAST_TOPIC, answered.topic)] if answered.topic else []
        named = items_named(tracker, kb)
        if named:
            return self._answer_item(dispatcher, kb, named[0])

        position = referenced_position(latest_text(tracker))
        listed = listed_items(tracker, kb)
        if position is not None and listed:
            if position >= len(listed):
                dispatcher.utter_message(
                    response="utter_only_listed",
                    count=len(listed),
                    items=replies.numbered(item.name for item in listed),
                )
                return []
            return self._answer_item(dispatcher, kb, listed[position])

        last_topic = tracker.get_slot(LAST_TOPIC)
        topic = kb.topic(last_topic) if last_topic else None
        if topic is None:
            offer_topics(dispatcher, "utter_more_on_which_topic")
            return []
        shown = set(tracker.get_slot(SHOWN_FACTS) or [])
        not_yet_said = [fact for fact in topic.facts + topic.more if fact.key not in shown]
        if not_yet_said:
            dispatcher.utter_message(text=replies.more_answer(topic, not_yet_said))
        else:
            dispatcher.utter_message(response="utter_nothing_more", topic=topic.title.lower())
        if topic.related:
            related = replies.topic_titles(topic.related)
            dispatcher.utter_message(response="utter_related_topics", topics=related)
        return [SlotSet(SHOWN_FACTS, sorted(shown | {fact.key for fact in not_yet_said}))]

    @staticmethod
    def _answer_item(dispatcher, kb, item: ItemInfo) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=replies.item_answer(item, kb.topic(item.topic)))
        return [SlotSet(LAST_TOPIC, item.topic)]


class ActionAnswerWhichOfThose(Action):
    """Filters the items of the previous answer by what the learner cares about."""

    def name(self) -> str:
        return "action_answer_which_of_those"

    @in_a_thread
    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        kb = default_knowledge_base()
        listed = listed_items(tracker, kb)
        if not listed:
            offer_topics(dispatcher, "utter_which_list")
            return []
        words = [
            word
            for word in re.findall(r"[a-z&'-]+", latest_text(tracker).lower())
            if word not in _FILLER
        ]
        matches = [item for item in listed if _matches(item, words)]
        wanted = " ".join(words) or "that"
        if matches:
            dispatcher.utter_message(text=replies.filtered_items_answer(matches, wanted))
        else:
            dispatcher.utter_message(
                response="utter_none_of_those_for",
                items=", ".join(item.name for item in listed),
                words=wanted,
            )
        return []


def _matches(item: ItemInfo, words: list[str]) -> bool:
    vocabulary = set(item.tags) | set(re.findall(r"[a-z&'-]+", item.full_name.lower()))
    vocabulary |= {tag_word for tag in item.tags for tag_word in tag.split()}
    stems = {word.rstrip("s") for word in vocabulary}
    return any(word in vocabulary or word.rstrip("s") in stems for word in words)
