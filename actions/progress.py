"""A learner's milestones: reporting, correcting, showing progress and suggesting next steps."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_question
from actions.claims import achieved_part
from actions.conversation import Utterance, items_in, latest_utterance, split_statement_and_question
from actions.goal_dates import find_due_date
from actions.goal_store import default_goal_store
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
from actions.replies import goal_lines, next_steps_list, sources_line
from actions.threads import in_a_thread
from actions.topic_answers import topic_asked
from common.goals import said_back, today

# Said when the learner database refuses a write (e.g. still locked at the write's deadline).
NOT_SAVED = "utter_not_saved"


def suggest_next_steps(dispatcher: CollectingDispatcher, kb: KnowledgeBase, completed: set[str]):
    steps = next_milestones(kb.path(), completed)
    if not steps:
        dispatcher.utter_message(response="utter_path_complete")
        return
    dispatcher.utter_message(
        response="utter_next_steps",
        steps=next_steps_list(steps),
        sources=sources_line(step.source for step in steps),
    )


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

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        path = kb.path()
        path_keys = {step.key for step in path}
        statement, question = split_statement_and_question(latest_utterance(tracker))
        facts = profile_facts(statement, kb)
        milestones = milestones_named(achieved_part(statement), kb, path_keys)
        milestones += [m for m in milestones_from_profile(facts, path) if m not in milestones]

        events: list[dict[str, Any]] = []
        recorded = bool(facts or milestones)
        # Only planned, wished or denied: say so rather than claim a mark or ask which it was.
        not_done_yet = not recorded and bool(milestones_named(statement, kb, path_keys))
        if recorded:
            events += self._record(dispatcher, store, tracker.sender_id, path, facts, milestones)
            complete_goals_reached(dispatcher, tracker.sender_id, milestones)
        elif not_done_yet and find_due_date(statement.text, today()).phrase:
            # A plan with a date ("I'll join ACRP next month") is a goal: goal_form takes it.
            return [FollowupAction("goal_form")]
        elif not_done_yet:
            dispatcher.utter_message(response="utter_not_done_yet")
        answered = (
            answer_question_asked_too(dispatcher, tracker, question, kb) if question.text else []
        )
        if not (recorded or not_done_yet or answered):
            dispatcher.utter_message(response="utter_which_milestone_done")
        return events + answered

    @staticmethod
    def _record(dispatcher, store, sender, path, facts, milestones) -> list[dict[str, Any]]:
        try:
            added = store.save(sender, profile=facts, milestones=milestones)
        except NotSaved:
            dispatcher.utter_message(response=NOT_SAVED)
            return []
        if facts:
            dispatcher.utter_message(
                response="utter_noted", facts="; ".join(describe_profile(facts))
            )
        if added:
            dispatcher.utter_message(response="utter_marked_done", steps=_names(path, added))
        elif milestones:
            dispatcher.utter_message(response="utter_already_done", steps=_names(path, milestones))
        summary = progress(path, store.completed(sender)).summary
        dispatcher.utter_message(response="utter_progress_so_far", summary=summary)
        return profile_slots(facts)


def complete_goals_reached(dispatcher, sender_id: str, milestones: list[str]) -> None:
    """Open goals on the path steps just reported done ("I passed the CCRP") are done too."""
    store = default_goal_store()
    for goal in store.open_goals(sender_id):
        if goal.milestone in milestones:
            try:
                store.complete(sender_id, goal.id)
            except NotSaved:
                continue  # the goal stays open; the learner can say "I did it" later
            dispatcher.utter_message(response="utter_goal_done", goal=said_back(goal.title))


def answer_question_asked_too(dispatcher, tracker, question: Utterance, kb) -> list[dict[str, Any]]:
    """Answer the question part of a statement, on the topic NLU ranks for it, else that of the
    first knowledge-base thing it names."""
    topic = topic_asked(tracker)
    if topic is None:
        named = items_in(question, kb)
        topic = named[0].topic if named else None
    return answer_question(dispatcher, tracker, topic)


class ActionCorrectProgress(Action):
    """ "Actually I don't have the CCRP yet": undo the milestones the message names."""

    def name(self) -> str:
        return "action_correct_progress"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        path = kb.path()
        milestones = milestones_named(latest_utterance(tracker), kb, {s.key for s in path})
        if not milestones:
            dispatcher.utter_message(response="utter_which_milestone_to_undo")
            return []
        try:
            removed = store.mark_not_done(tracker.sender_id, milestones)
        except NotSaved:
            dispatcher.utter_message(response=NOT_SAVED)
            return []
        summary = progress(path, store.completed(tracker.sender_id)).summary
        if removed:
            dispatcher.utter_message(
                response="utter_corrected", steps=_names(path, removed), summary=summary
            )
        else:
            dispatcher.utter_message(
                response="utter_was_not_done", steps=_names(path, milestones), summary=summary
            )
        return []


class ActionShowProgress(Action):
    def name(self) -> str:
        return "action_show_progress"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        path = kb.path()
        state = progress(path, store.completed(tracker.sender_id))
        checklist = [f"[x] {step.title}" for step in state.done]
        checklist += [f"[ ] {step.title}" for step in state.to_do]
        dispatcher.utter_message(
            response="utter_show_progress", summary=state.summary, checklist="\n".join(checklist)
        )
        if not state.done:
            dispatcher.utter_message(response="utter_progress_examples")
        goals = default_goal_store().open_goals(tracker.sender_id)
        if goals:
            dispatcher.utter_message(
                response="utter_goals_beside_progress", goals=goal_lines(goals, today())
            )
        return []


class ActionSuggestNextSteps(Action):
    def name(self) -> str:
        return "action_suggest_next_steps"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb, store = default_knowledge_base(), default_progress_store()
        suggest_next_steps(dispatcher, kb, store.completed(tracker.sender_id))
        return []
