"""Goals with dates, and check-ins that come back (a goal's plan: actions/goal_plans.py; which
goal the learner means: actions/goal_focus.py).

"I want to pass the CCRP by June" or "set a goal" opens goal_form (what, and by when); the date is
read from the learner's words (actions/goal_dates.py) and confirmed back as a concrete date. A
goal is an intention: setting one never marks a milestone; completing a goal linked to a path step
marks that step. When a goal falls due, the learner's next session opens with a check-in, once per
goal and due date (ActionSessionStart, actions/session.py).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_intent, latest_text, latest_utterance
from actions.goal_dates import find_due_date, without_date
from actions.goal_focus import GOAL_IN_FOCUS, LISTED_GOALS, goal_meant
from actions.goal_plans import offer_plan, plan_lines
from actions.goal_store import GoalRecord, default_goal_store
from actions.knowledge_base import default_knowledge_base
from actions.learner_facts import milestones_named
from actions.learner_store import NotSaved, default_progress_store
from actions.onboarding import SKIPPED, answering
from actions.progress import NOT_SAVED
from actions.recommender import progress
from actions.replies import due_text, goal_lines
from actions.threads import in_a_thread
from common.goals import said_back, spoken, today

# goal_form's slots, and those that say which goal the learner is talking about.
GOAL_TITLE, GOAL_DUE, GOAL_STEP = "goal_title", "goal_due", "goal_step"
DATE_ASKED = "goal_date_asked"  # a new date was asked for: the next answer gives it
NO_DATE = "none"

# "I want to", "my goal is to", "set a goal to": what comes before the goal itself.
_INTENTION = re.compile(
    r"^\W*(?:"
    r"(?:i|we)\b(?:'m|'re|'d|'ll| am| are| will| would| shall)?\s*(?:really\s+|also\s+)?"
    r"(?:(?:want|wanna|plan|planning|intend|intending|hope|hoping|aim|aiming|need|mean|like|"
    r"love|going|gonna|try|trying|have)\b)?(?:\s+to)?"
    r"|(?:my|the|a|new)\s+goal\s+is\s+(?:to\s+)?"
    r"|(?:please\s+)?(?:set|add|make|create)\s+(?:me\s+)?(?:a\s+|my\s+|new\s+|a new\s+)?goal"
    r"(?:\s+(?:to|for|of|:))?"
    r"|goal\s*:|my goal"
    r")\s*",
    re.IGNORECASE,
)
# What is left of "set a goal" or "I want a new goal": no goal named yet.
_NO_GOAL_NAMED = re.compile(
    r"^\W*(?:(?:please\s+)?(?:help me\s+)?(?:set|add|make|create|have|want|need)?\s*"
    r"(?:me\s+)?(?:a|an|my|new|a new|another)?\s*(?:goals?|target|deadline)?\s*(?:please)?\W*)$",
    re.IGNORECASE,
)
_NO_DATE_ANSWER = re.compile(
    r"^\W*(?:no(?:ne)?|no date|no deadline|skip|not sure|don'?t know|whenever|no rush|"
    r"no particular date|without (?:a )?date)\W*$",
    re.IGNORECASE,
)


def goal_title(text: str) -> str:
    """The goal in the learner's words, without intention words, date or closing punctuation:
    "I want to pass the CCRP by June!" -> "pass the CCRP"."""
    words = without_date(text, find_due_date(text, today()))
    words = _INTENTION.sub("", words).strip(" .!?,;:-")
    return "" if _NO_GOAL_NAMED.match(words) else words


# NLU this sure of set_goal is taken at its word; below it, the message must read as a goal.
_SURE_OF_A_GOAL = 0.7


def said_as_goal(tracker: Tracker, text: str) -> bool:
    """The message that opened goal_form states a goal: in words of intention ("I want to",
    "my goal is"), naming something the guides cover, or NLU is sure of it. Nonsense NLU only
    half-ranked as set_goal ("banana lamp 3.14") gets "What's your goal?" instead of a goal."""
    confidence = (tracker.latest_message.get("intent") or {}).get("confidence") or 0.0
    intention = _INTENTION.match(text)
    if confidence >= _SURE_OF_A_GOAL or (intention and intention.group(0).strip(" .!?,;:-")):
        return True
    kb = default_knowledge_base()
    steps = {step.key for step in kb.path()}
    return bool(milestones_named(latest_utterance(tracker), kb, steps) or kb.items_in_text(text))


class ValidateGoalForm(FormValidationAction):
    """goal_form: what the goal is and by when, both possibly in the message that opened it."""

    def name(self) -> str:
        return "validate_goal_form"

    @in_a_thread
    def run(self, dispatcher, tracker, domain) -> list[dict[str, Any]]:
        return asyncio.run(super().run(dispatcher, tracker, domain))

    async def extract_goal_title(self, dispatcher, tracker, domain) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        if requested is None and not tracker.get_slot(GOAL_TITLE):
            opening = latest_text(tracker)  # the message that opened the form
            title = goal_title(opening) if said_as_goal(tracker, opening) else ""
        elif requested == GOAL_TITLE:
            answer = answering(tracker, GOAL_TITLE)
            title = goal_title(answer) if answer and answer != SKIPPED else ""
        else:
            return {}
        return {GOAL_TITLE: title} if title else {}

    async def extract_goal_due(self, dispatcher, tracker, domain) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        if requested == GOAL_DUE:
            answer = answering(tracker, GOAL_DUE)
            if answer is None:
                return {}  # a question: the form pauses to answer it
            return {
                GOAL_DUE: NO_DATE if answer == SKIPPED or _NO_DATE_ANSWER.match(answer) else answer
            }
        if requested == GOAL_TITLE:
            # "join ACRP in 3 weeks" in answer to "What's your goal?": the date came with it.
            answer = answering(tracker, GOAL_TITLE)
            if answer and answer != SKIPPED and find_due_date(answer, today()).phrase:
                return {GOAL_DUE: answer}
            return {}
        if requested is None and find_due_date(text, today()).phrase:
            return {GOAL_DUE: text}
        return {}

    def validate_goal_title(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if not (isinstance(value, str) and value.strip()):
            return {GOAL_TITLE: None}
        # The path step the goal leads to, from the message that names it (rasa_sdk keeps only
        # the form's own slots from extraction, so it is set here).
        kb = default_knowledge_base()
        steps = milestones_named(latest_utterance(tracker), kb, {s.key for s in kb.path()})
        return {GOAL_TITLE: value, GOAL_STEP: steps[0] if steps else None}

    def validate_goal_due(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == NO_DATE:
            return {GOAL_DUE: NO_DATE}
        due = find_due_date(str(value), today())
        if due.on is not None:
            return {GOAL_DUE: due.on.isoformat()}
        if due.passed:
            dispatcher.utter_message(response="utter_goal_date_passed", phrase=due.phrase)
        else:
            dispatcher.utter_message(response="utter_goal_date_unclear")
        return {GOAL_DUE: None}


class ActionSaveGoal(Action):
    """goal_form is complete: store the goal, confirm it with its date, and propose a plan."""

    def name(self) -> str:
        return "action_save_goal"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        cleared = [SlotSet(GOAL_TITLE, None), SlotSet(GOAL_DUE, None), SlotSet(GOAL_STEP, None)]
        title, due = tracker.get_slot(GOAL_TITLE), tracker.get_slot(GOAL_DUE)
        if not title:
            return cleared
        due_on = date.fromisoformat(due) if due and due != NO_DATE else None
        kb = default_knowledge_base()
        step = tracker.get_slot(GOAL_STEP)
        step = step if step in {s.key for s in kb.path()} else None
        try:
            goal = default_goal_store().add(tracker.sender_id, title, due_on, milestone=step)
        except NotSaved:
            dispatcher.utter_message(response=NOT_SAVED)
            return cleared
        dispatcher.utter_message(
            response="utter_goal_set", goal=said_back(goal.title), due=due_text(goal)
        )
        dispatcher.utter_message(response="utter_goal_how_to_update")
        # Last, so that its buttons are the ones on screen.
        plan = offer_plan(dispatcher, kb, goal, latest_or_title(tracker, goal))
        return cleared + plan + [SlotSet(GOAL_IN_FOCUS, goal.id)]


def latest_or_title(tracker: Tracker, goal: GoalRecord) -> str:
    return f"{goal.title} {latest_text(tracker)}"


class ActionListGoals(Action):
    def name(self) -> str:
        return "action_list_goals"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        goals = default_goal_store().open_goals(tracker.sender_id)
        if not goals:
            dispatcher.utter_message(response="utter_no_goals")
            return [SlotSet(LISTED_GOALS, None)]
        dispatcher.utter_message(response="utter_goals", goals=goal_lines(goals, today()))
        for goal in goals:
            if goal.plan:
                dispatcher.utter_message(
                    response="utter_plan_of_goal",
                    goal=said_back(goal.title),
                    steps=plan_lines(goal.plan),
                )
        focus = [SlotSet(GOAL_IN_FOCUS, goals[0].id)] if len(goals) == 1 else []
        return [SlotSet(LISTED_GOALS, [goal.id for goal in goals]), *focus]


class ActionUpdateGoal(Action):
    """ "I did it", "push it to July", "drop it", "still working on it": on the goal the learner
    means, by its position in the list shown, by its words, or the one in focus."""

    def name(self) -> str:
        return "action_update_goal"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        store = default_goal_store()
        goals = store.open_goals(tracker.sender_id)
        intent = latest_intent(tracker)
        if tracker.get_slot(DATE_ASKED):
            intent = "postpone_goal"  # the answer to "to which date?", whatever NLU made of it
        answered = [SlotSet(DATE_ASKED, False)] if tracker.get_slot(DATE_ASKED) else []
        if not goals:
            dispatcher.utter_message(response="utter_no_goals")
            return answered
        goal = goal_meant(tracker, goals)
        if goal is None:
            dispatcher.utter_message(response="utter_which_goal", goals=goal_lines(goals, today()))
            return answered + [SlotSet(LISTED_GOALS, [g.id for g in goals])]
        try:
            return answered + self._update(dispatcher, tracker, store, goal, intent)
        except NotSaved:
            dispatcher.utter_message(response=NOT_SAVED)
            return answered

    @staticmethod
    def _update(dispatcher, tracker, store, goal: GoalRecord, intent) -> list[dict[str, Any]]:
        said = said_back(goal.title)
        focus = [SlotSet(GOAL_IN_FOCUS, goal.id)]
        if intent == "goal_still_working":
            dispatcher.utter_message(
                response="utter_goal_keep_going", goal=said, due=due_text(goal)
            )
            return focus
        if intent == "drop_goal":
            store.drop(tracker.sender_id, goal.id)
            dispatcher.utter_message(response="utter_goal_dropped", goal=said)
            return [SlotSet(GOAL_IN_FOCUS, None)]
        if intent == "postpone_goal":
            # "push it to July": in a postponement, "to" leads the new date as "by" does.
            due = find_due_date(re.sub(r"\bto\b", "by", latest_text(tracker)), today())
            if due.passed:
                dispatcher.utter_message(response="utter_goal_date_passed", phrase=due.phrase)
                return focus + [SlotSet(DATE_ASKED, True)]
            if due.on is None:
                if tracker.get_slot(DATE_ASKED):  # asked already, and still no date in it
                    dispatcher.utter_message(response="utter_goal_date_unclear")
                dispatcher.utter_message(response="utter_goal_new_date", goal=said)
                return focus + [SlotSet(DATE_ASKED, True)]
            moved = store.postpone(tracker.sender_id, goal.id, due.on)
            dispatcher.utter_message(response="utter_goal_moved", goal=said, due=due_text(moved))
            return focus
        completed = store.complete(tracker.sender_id, goal.id)
        if completed is None:
            return []
        done, step_added = completed
        dispatcher.utter_message(response="utter_goal_done", goal=said)
        if step_added:
            kb = default_knowledge_base()
            completed_steps = default_progress_store().completed(tracker.sender_id)
            title = next(s.title for s in kb.path() if s.key == done.milestone)
            dispatcher.utter_message(
                response="utter_goal_step_marked",
                step=title,
                summary=progress(kb.path(), completed_steps).summary,
            )
        return [SlotSet(GOAL_IN_FOCUS, None)]


def check_in(dispatcher: CollectingDispatcher, sender_id: str) -> list[dict[str, Any]]:
    """Open with "how did it go?" for a goal that has fallen due, once per goal and due date."""
    try:
        goal = default_goal_store().claim_check_in(sender_id, today())
    except NotSaved:
        return []  # asked next session instead: the claim was not stored
    if goal is None:
        return []
    dispatcher.utter_message(
        response="utter_goal_check_in", goal=said_back(goal.title), due=spoken(goal.due_on)
    )
    return [SlotSet(GOAL_IN_FOCUS, goal.id)]


class ActionSetGoalReminders(Action):
    """ "No reminders" / "remind me again": the direct message when a goal falls due (Slack)."""

    def name(self) -> str:
        return "action_set_goal_reminders"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        on = intent == "start_reminders"
        try:
            default_progress_store().set_goal_reminders(tracker.sender_id, on)
        except NotSaved:
            dispatcher.utter_message(response=NOT_SAVED)
            return []
        dispatcher.utter_message(response="utter_reminders_on" if on else "utter_reminders_off")
        return []
