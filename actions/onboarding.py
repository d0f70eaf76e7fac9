"""The optional onboarding conversation (onboarding_form): target role, education, current role,
years of experience and preferred setting. Each answer is stored as soon as it is understood, so
stopping or skipping loses nothing; a topic question in the middle is answered (rules in
data/rules/onboarding.yml) and the form carries on."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_intent, latest_text
from actions.knowledge_base import default_knowledge_base
from actions.learner_facts import (
    TARGET_ROLES,
    milestones_from_profile,
    parse_education,
    parse_years,
)
from actions.learner_store import NotSaved, default_progress_store
from actions.progress import NOT_SAVED, suggest_next_steps
from actions.threads import in_a_thread

SKIPPED = "skipped"
_NO_PREFERENCE = re.compile(r"\b(any|anywhere|no preference|not sure|don't know|either|both)\b")
_UNDECIDED = re.compile(r"\b(not sure|don't know|undecided|either|both)\b")
_JOB_PREFIX = re.compile(r"^(i'?m|i am|i work as|currently|right now i'?m)\s+(an?\s+)?", re.I)


def answering(tracker: Tracker, slot: str) -> str | None:
    """The text answering `slot`, or None when the message is not an answer to it: another slot
    is being asked, or it is a question for the assistant (the form then pauses to answer it)."""
    if tracker.get_slot("requested_slot") != slot:
        return None
    intent = latest_intent(tracker)
    text = latest_text(tracker).strip()
    if intent == "skip":
        return SKIPPED
    if intent == "stop":
        return None
    is_question = intent.startswith("ask_") or intent in ("help", "bot_challenge", "out_of_scope")
    if is_question and (text.endswith("?") or len(text.split()) > 5):
        return None
    return text


class ValidateOnboardingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_onboarding_form"

    @in_a_thread
    def run(self, dispatcher, tracker, domain) -> list[dict[str, Any]]:
        # rasa_sdk's run calls the extract_ and validate_ methods below, which read the knowledge
        # base and store each answer: all of it runs in the thread, on an event loop of its own.
        return asyncio.run(super().run(dispatcher, tracker, domain))

    # Extraction: every slot is answered in the learner's own words.
    async def extract_target_role(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _slot_if_answered(tracker, "target_role")

    async def extract_education(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _slot_if_answered(tracker, "education")

    async def extract_current_role(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _slot_if_answered(tracker, "current_role")

    async def extract_years_experience(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _slot_if_answered(tracker, "years_experience")

    async def extract_preferred_setting(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _slot_if_answered(tracker, "preferred_setting")

    # Validation: normalise, store at once, or ask again.
    def validate_target_role(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == SKIPPED:
            return {"target_role": SKIPPED}
        roles = [i.name for i in _items(value) if i.name in TARGET_ROLES]
        if roles:
            return _store(dispatcher, tracker, "target_role", roles[0])
        if _UNDECIDED.search(value.lower()):
            return {"target_role": "undecided"}
        dispatcher.utter_message(response="utter_which_target_role")
        return {"target_role": None}

    def validate_education(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == SKIPPED:
            return {"education": SKIPPED}
        facts = parse_education(value, _items(value))
        if not facts:
            dispatcher.utter_message(response="utter_education_examples")
            return {"education": None}
        milestones = milestones_from_profile(facts)
        return _store(dispatcher, tracker, "education", value, facts, milestones)

    def validate_current_role(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == SKIPPED:
            return {"current_role": SKIPPED}
        role = _JOB_PREFIX.sub("", value).strip(" .!")[:100]
        if not role:
            return {"current_role": None}
        known = [i for i in _items(value) if i.kind == "role" and i.name not in TARGET_ROLES]
        milestones = []
        if known:
            role = known[0].name
            milestones = [known[0].milestone] if known[0].milestone else []
        path = default_knowledge_base().path()
        milestones += milestones_from_profile({"current_role": role}, path)
        return _store(dispatcher, tracker, "current_role", role, milestones=milestones)

    def validate_years_experience(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == SKIPPED:
            return {"years_experience": SKIPPED}
        years = parse_years(str(value))
        if years is None:
            dispatcher.utter_message(response="utter_years_examples")
            return {"years_experience": None}
        return _store(dispatcher, tracker, "years_experience", years)

    def validate_preferred_setting(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == SKIPPED:
            return {"preferred_setting": SKIPPED}
        settings = [i.name for i in _items(value) if i.kind == "setting"]
        if settings:
            return _store(dispatcher, tracker, "preferred_setting", settings[0])
        if _NO_PREFERENCE.search(value.lower()):
            return {"preferred_setting": "no preference"}
        dispatcher.utter_message(response="utter_pick_a_setting")
        return {"preferred_setting": None}


def _slot_if_answered(tracker: Tracker, slot: str) -> dict[str, Any]:
    answer = answering(tracker, slot)
    return {slot: answer} if answer is not None else {}


def _items(text: str):
    return default_knowledge_base().items_in_text(text)


def _store(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slot: str,
    value: Any,
    profile: dict | None = None,
    milestones: Iterable[str] = (),
) -> dict[str, Any]:
    """Store an understood answer at once: as the profile field named like the slot, unless
    `profile` gives the fields. If the learner database refuses the write, say so, as the other
    actions do, and leave the slot empty so that the form asks again."""
    profile = {slot: value} if profile is None else profile
    try:
        default_progress_store().save(tracker.sender_id, profile=profile, milestones=milestones)
    except NotSaved:
        dispatcher.utter_message(response=NOT_SAVED)
        return {slot: None}
    return {slot: value}


class ActionAskPreferredSetting(Action):
    """Asks for the preferred setting, with the knowledge base's settings as buttons."""

    def name(self) -> str:
        return "action_ask_preferred_setting"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = default_knowledge_base().topic("work_settings").items
        buttons = [{"title": item.full_name, "payload": item.name} for item in settings]
        dispatcher.utter_message(response="utter_ask_preferred_setting", buttons=buttons)
        return []


class ActionOnboardingDone(Action):
    def name(self) -> str:
        return "action_onboarding_done"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        completed = default_progress_store().completed(tracker.sender_id)
        dispatcher.utter_message(response="utter_profile_set_up")
        suggest_next_steps(dispatcher, default_knowledge_base(), completed)
        return []
