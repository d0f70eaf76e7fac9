"""A new conversation session, or a greeting: restore what the learner told us before, say where
they stand, and ask about a goal that has fallen due."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from actions.goals import check_in
from actions.knowledge_base import default_knowledge_base
from actions.learner_store import default_progress_store
from actions.progress import profile_slots
from actions.recommender import progress
from actions.threads import in_a_thread


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        record = default_progress_store().record(tracker.sender_id)
        if record is not None:
            events += profile_slots(record.profile.known())
            events += welcome_back(dispatcher, tracker.sender_id, record.completed)
        events.append(ActionExecuted("action_listen"))
        return events


class ActionGreet(Action):
    """A first-time visitor hears what the coach does; a known learner, where they stand."""

    def name(self) -> str:
        return "action_greet"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        record = default_progress_store().record(tracker.sender_id)
        if record is None:
            dispatcher.utter_message(response="utter_greet")
            return []
        return welcome_back(dispatcher, tracker.sender_id, record.completed)


def welcome_back(dispatcher: CollectingDispatcher, sender_id: str, completed) -> list[dict]:
    """Where a known learner stands, then the check-in of a goal that has fallen due."""
    state = progress(default_knowledge_base().path(), completed)
    if state.to_do:  # the path's order: the same first step next_milestones() gives
        next_step = state.to_do[0].title.lower()
        dispatcher.utter_message(
            response="utter_welcome_back", summary=state.summary, next_step=next_step
        )
    else:
        dispatcher.utter_message(response="utter_welcome_back_path_complete", summary=state.summary)
    return check_in(dispatcher, sender_id)
