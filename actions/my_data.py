"""The learner's control over their data: start over, delete everything, export.

Destructive requests are confirmed first. Whether a "yes" confirms something is derived from
the conversation itself (the bot's previous action must be the question), so a "yes" later on, or
a typed /affirm, can never erase anything the learner was not just asked about.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, FollowupAction, Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_intent, latest_text
from actions.goal_plans import PLAN_IN_VIEW, keep_or_skip
from actions.goal_store import default_goal_store
from actions.knowledge_base import default_knowledge_base
from actions.learner_facts import describe_profile
from actions.learner_store import NotSaved, default_progress_store
from actions.progress import NOT_SAVED
from actions.threads import in_a_thread

# The confirmation questions are responses (domain.yml), run by the rules in data/rules/my_data.yml.
ASK_RESET = "utter_ask_reset_progress"
ASK_DELETE = "utter_ask_delete_data"
# The Rasa server's tracker store erases a conversation's stored events when it sees this action
# (addons/tracker_store.py), after the learner confirmed "delete my data".
ERASE_CONVERSATION = "action_erase_conversation"


_KEEP = re.compile(r"\W*(?:yes\W+|ok\W+|okay\W+)?(?:please\s+)?keep\b", re.IGNORECASE)


def previous_bot_action(tracker: Tracker) -> str | None:
    """The last action the bot ran before the learner's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "action":
            if event.get("name") != "action_listen":
                return event.get("name")
    return None


class ActionHandleConfirmation(Action):
    """Yes or no: acts only when the bot has just asked to confirm a reset or a deletion, or
    proposed a goal's plan."""

    def name(self) -> str:
        return "action_handle_confirmation"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        asked = previous_bot_action(tracker)
        intent = latest_intent(tracker)
        if asked == "action_save_goal" and tracker.get_slot(PLAN_IN_VIEW):
            # "Keep this plan?" was the question: yes keeps it, no skips it. "Keep it", which
            # answers "start over?" as a no, keeps it here; "no, don't keep it" does not.
            keep = intent == "affirm" or bool(_KEEP.match(latest_text(tracker)))
            return keep_or_skip(dispatcher, tracker, keep=keep)
        if asked not in (ASK_RESET, ASK_DELETE):
            dispatcher.utter_message(response="utter_nothing_to_confirm")
            return []
        if intent != "affirm":
            dispatcher.utter_message(response="utter_nothing_changed")
            return []

        store = default_progress_store()
        try:
            if asked == ASK_RESET:
                removed = store.reset_progress(tracker.sender_id)
            else:
                store.delete_learner(tracker.sender_id)
        except NotSaved:
            dispatcher.utter_message(response=NOT_SAVED)
            return []  # and the conversation is kept: it is erased only with the learner's data
        if asked == ASK_RESET:
            dispatcher.utter_message(response="utter_progress_cleared", count=removed)
            return []
        dispatcher.utter_message(response="utter_data_deleted")
        return [FollowupAction(ERASE_CONVERSATION)]


class ActionEraseConversation(Action):
    """Forgets the conversation's state; the tracker store deletes its stored events."""

    def name(self) -> str:
        return ERASE_CONVERSATION

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [AllSlotsReset(), Restarted()]


class ActionExportMyData(Action):
    def name(self) -> str:
        return "action_export_my_data"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        record = default_progress_store().record(tracker.sender_id)
        if record is None:
            dispatcher.utter_message(response="utter_export_nothing", sender_id=tracker.sender_id)
            return []
        records = [f"- {line}" for line in describe_profile(record.profile.known())]
        records = records or ["- Profile: nothing yet"]
        titles = {step.key: step.title for step in default_knowledge_base().path()}
        for key, done_at in sorted(record.completed.items(), key=lambda kv: kv[1]):
            records.append(f"- Done {done_at:%Y-%m-%d}: {titles.get(key, key)}")
        for goal in default_goal_store().all_goals(tracker.sender_id):
            due = f", due {goal.due_on:%Y-%m-%d}" if goal.due_on else ""
            records.append(
                f"- Goal ({goal.status}{due}, set {goal.created_at:%Y-%m-%d}): {goal.title}"
            )
            records += [f'- Plan step of "{goal.title}": {step.text}' for step in goal.plan]
        reminders = (
            "on" if default_progress_store().takes_goal_reminders(record.sender_id) else "off"
        )
        records.append(f"- Direct messages when a goal falls due: {reminders}")
        records.append(f"- First seen: {record.created_at:%Y-%m-%d}")
        dispatcher.utter_message(
            response="utter_export", sender_id=tracker.sender_id, records="\n".join(records)
        )
        return []
