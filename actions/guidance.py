"""Help and clarification: the learner always learns what they can ask, never gets silence."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.knowledge_base import default_knowledge_base

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
    """For out-of-scope messages and anything the assistant could not place."""

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
        else:
            opening = "Sorry, I'm not sure what you mean."
        offer_topics(dispatcher, opening)
        return []
