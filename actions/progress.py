"""A learner's milestones: reporting, correcting, showing progress and suggesting next steps."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.claims import achieved_part
from actions.conversation import Utterance, items_in, latest_utterance, split_statement_and_question
from actions.knowledge_base import KnowledgeBase, PathStepInfo, default_knowledge_base
from actions.learner_facts import (
    describe_profile,
    education_text,
    milestones_from_profile,
    milestones_named,
    profile_facts,
)
from actions.learner_store import NotSaved, default_progress_store
from actions.recommender import next_milestones, progress
from actions.topic_answers import answer_topic, topic_asked

EXAMPLES = '"I passed the CCRP", "I joined ACRP", "I finished my MHA" or "I lead a small team"'
# When the learner database refuses a write (e.g. locked for longer than its busy timeout).
NOT_SAVED = "Sorry, I couldn't save that just now, so nothing was changed. Please try again."
# When everything a message names is a plan, a wish or not done ("I'm planning to join ACRP").
NOT_DONE_YET = "That's not done yet, so I haven't marked it. Tell me once you've done it!"


def progress_line(path: list[PathStepInfo], completed: set[str]) -> str:
    return f"Progress: {progress(path, completed).summary}."


def next_steps_text(kb: KnowledgeBase, completed: set[str]) -> str:
    path = kb.path()
    steps = next_milestones(path, completed)
    if not steps:
        return (
            "You have every milestone on the path. Keep learning and keep your network warm: "
            "ask me about staying current or the job search any time."
        )
    titles = {ref.key: ref.title.lower() for ref in kb.topics()}
    lines = ["Your next steps:"]
    lines += [
        f"{n}. {step.title}: {step.text} (ask me about {titles[step.topic]})"
        for n, step in enumerate(steps, start=1)
    ]
    lines.append(f"Source: {steps[0].source}")
    return "\n".join(lines)


def profile_slots(profile: dict) -> list[dict[str, Any]]:
    """Keep the form's slots in step with what is stored, so onboarding skips known answers."""
    events = []
    if profile.get("target_role"):
        events.append(SlotSet("target_role", profile["target_role"]))
    if education_text(profile):
        events.append(SlotSet("education", education_text(profile)))
    if profile.get("current_role"):
        events.append(SlotSet("current_role", profile["current_role"]))
    if profile.get("years_experience") is not None:
        events.append(SlotSet("years_experience", profile["years_experience"]))
    if profile.get("preferred_setting"):
        events.append(SlotSet("preferred_setting", profile["preferred_setting"]))
    return events


def _names(path: list[PathStepInfo], keys: list[str]) -> str:
    titles = {step.key: step.title for step in path}
    return "; ".join(titles[key] for key in keys if key in titles)


class ActionRecordProgress(Action):
    """Statements about oneself and reported milestones, stored as they are said. Only what is said
    as done is recorded: not plans, wishes or denials ("I'm planning to join ACRP"). A question in
    the same message ("I'm a nurse, which certification should I get?") is answered too, and
    nothing is recorded from the question itself ("is health sciences a good pick?")."""

    def name(self) -> str:
        return "action_record_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        path = kb.path()
        path_keys = {step.key for step in path}
        statement, question = split_statement_and_question(latest_utterance(tracker))
        facts = profile_facts(statement, kb)
        milestones = milestones_named(achieved_part(statement), kb, path_keys)
        milestones += [m for m in milestones_from_profile(facts) if m not in milestones]

        events: list[dict[str, Any]] = []
        recorded = bool(facts or milestones)
        # Only planned, wished or denied: say so rather than claim a mark or ask which it was.
        not_done_yet = not recorded and bool(milestones_named(statement, kb, path_keys))
        if recorded:
            events += self._record(dispatcher, store, tracker.sender_id, path, facts, milestones)
        elif not_done_yet:
            dispatcher.utter_message(text=NOT_DONE_YET)
        answered = answer_question(dispatcher, tracker, question, kb) if question.text else []
        if not (recorded or not_done_yet or answered):
            dispatcher.utter_message(
                text="Good to hear! Which milestone was that? For example " + EXAMPLES + "."
            )
        return events + answered

    @staticmethod
    def _record(dispatcher, store, sender, path, facts, milestones) -> list[dict[str, Any]]:
        try:
            added = store.save(sender, profile=facts, milestones=milestones)
        except NotSaved:
            dispatcher.utter_message(text=NOT_SAVED)
            return []
        lines = []
        if facts:
            lines.append("Noted: " + "; ".join(describe_profile(facts)) + ".")
        if added:
            lines.append(f"Marked done: {_names(path, added)}.")
        elif milestones:
            lines.append(f"Already on your list: {_names(path, milestones)}.")
        lines.append(progress_line(path, store.completed(sender)))
        lines.append('Say "what should I do next?" for your next steps.')
        dispatcher.utter_message(text="\n".join(lines))
        return profile_slots(facts)


def answer_question(dispatcher, tracker, question: Utterance, kb) -> list[dict[str, Any]]:
    """Answer the question part of a statement: the topic NLU ranks for it, else the first
    knowledge-base thing it names."""
    topic = topic_asked(tracker)
    if topic is None:
        named = items_in(question, kb)
        topic = named[0].topic if named else None
    return answer_topic(dispatcher, tracker, topic) if topic else []


class ActionCorrectProgress(Action):
    """ "Actually I don't have the CCRP yet": undo the milestones the message names."""

    def name(self) -> str:
        return "action_correct_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        path = kb.path()
        milestones = milestones_named(latest_utterance(tracker), kb, {s.key for s in path})
        if not milestones:
            dispatcher.utter_message(
                text="Which milestone should I take off your list? For example "
                '"I don\'t have the CCRP yet".'
            )
            return []
        try:
            removed = store.mark_not_done(tracker.sender_id, milestones)
        except NotSaved:
            dispatcher.utter_message(text=NOT_SAVED)
            return []
        completed = store.completed(tracker.sender_id)
        if removed:
            text = f"Corrected: {_names(path, removed)} is no longer marked done."
        else:
            text = f"{_names(path, milestones)} was not marked done, so nothing changed."
        dispatcher.utter_message(text=f"{text}\n{progress_line(path, completed)}")
        return []


class ActionShowProgress(Action):
    def name(self) -> str:
        return "action_show_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        path = kb.path()
        state = progress(path, store.completed(tracker.sender_id))
        lines = [f"Your progress: {state.summary}."]
        lines += [f"[x] {step.title}" for step in state.done]
        lines += [f"[ ] {step.title}" for step in state.to_do]
        if not state.done:
            lines.append(f"Tell me what you have done, for example {EXAMPLES}.")
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionSuggestNextSteps(Action):
    def name(self) -> str:
        return "action_suggest_next_steps"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        dispatcher.utter_message(text=next_steps_text(kb, store.completed(tracker.sender_id)))
        return []
