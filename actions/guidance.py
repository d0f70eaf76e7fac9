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
            offer_topics(dispatcher, opening)
            return []
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


def likely_topics(tracker: Tracker, min_confidence: float = 0.25) -> list[str]:
    """The two topics NLU hesitated between, when it did ("what do I need?")."""
    ranked = [
        r["name"].removeprefix("ask_")
        for r in tracker.latest_message.get("intent_ranking") or []
        if (r.get("name") or "").startswith("ask_") and r.get("confidence", 0) >= min_confidence
    ]
    return ranked[:2] if len(ranked) >= 2 else []
