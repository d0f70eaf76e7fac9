"""A goal's plan: for a goal on a path step, two or three actions from the knowledge base, which
the learner keeps, changes or skips. Only what they keep is stored with the goal; until then the
proposal waits in the `plan_in_view` slot. "Change the plan" shows it numbered and plan_form takes
the changes in the learner's words: "1 and 3; ask my manager about a trial week"."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ORDINALS, latest_intent
from actions.goal_focus import GOAL_IN_FOCUS, LISTED_GOALS, goal_meant
from actions.goal_store import GoalRecord, GoalStore, PlanStep, default_goal_store
from actions.knowledge_base import KnowledgeBase, default_knowledge_base
from actions.learner_store import NotSaved
from actions.onboarding import SKIPPED, answering
from actions.progress import NOT_SAVED
from actions.replies import goal_lines, sources_line
from actions.threads import in_a_thread
from common.goals import said_back, today

PLAN_IN_VIEW = "plan_in_view"  # {"goal": id, "steps": [[text, source], ...]}: proposed or shown
PLAN_CHANGES = "plan_changes"  # plan_form's one slot: the learner's changes, in their words


def proposed_plan(kb: KnowledgeBase, goal: GoalRecord, words: str) -> list[PlanStep]:
    """Two or three concrete actions for a goal on a path step, all from the knowledge base: the
    step itself, what the guides say of the things the goal names, then the step's topic."""
    step = next((s for s in kb.path() if s.key == goal.milestone), None)
    if step is None:
        return []
    actions = [PlanStep(f"{step.title}: {step.text}", step.source)]
    for item in kb.items_in_text(words):
        if item.milestone == step.key:
            actions.append(PlanStep(f"{item.heading}: {item.description}", item.source))
    topic = kb.topic(step.topic)
    for fact in topic.facts if topic else []:
        actions.append(PlanStep(fact.text, fact.source))
    plan: list[PlanStep] = []
    for action in actions:
        if not any(_restates(action.text, kept.text) for kept in plan):
            plan.append(action)
    return plan[:3]


def _content_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", text.lower()))


def _restates(text: str, other: str) -> bool:
    """The guides say some things twice (a step, an item, a topic's fact): half the words of the
    shorter one in the other is the same action, not a new one."""
    words, others = _content_words(text), _content_words(other)
    return len(words & others) >= 0.5 * min(len(words), len(others))


def plan_lines(steps: list[PlanStep] | tuple[PlanStep, ...]) -> str:
    return "\n".join(
        f"{n}. {step.text}{'' if step.source else ' (your own)'}"
        for n, step in enumerate(steps, start=1)
    )


def plan_sources(steps) -> str:
    sources = [step.source for step in steps if step.source]
    return sources_line(sources) if sources else ""


def in_view(goal: GoalRecord, steps) -> SlotSet:
    return SlotSet(PLAN_IN_VIEW, {"goal": goal.id, "steps": [[s.text, s.source] for s in steps]})


def _plan_in_view(tracker: Tracker) -> tuple[int, list[PlanStep]] | None:
    value = tracker.get_slot(PLAN_IN_VIEW)
    if not isinstance(value, dict) or "goal" not in value:
        return None
    return value["goal"], [PlanStep(text, source) for text, source in value.get("steps") or []]


def offer_plan(
    dispatcher: CollectingDispatcher, kb: KnowledgeBase, goal: GoalRecord, words: str
) -> list[dict[str, Any]]:
    """Propose a plan for a goal just set (keep / change / skip buttons); nothing is stored yet."""
    steps = proposed_plan(kb, goal, words)
    if not steps:
        return []
    dispatcher.utter_message(
        response="utter_goal_plan", steps=plan_lines(steps), sources=plan_sources(steps)
    )
    return [in_view(goal, steps)]


def _plan_meant(
    tracker: Tracker, store: GoalStore, kb: KnowledgeBase
) -> tuple[GoalRecord | None, list[PlanStep], list[GoalRecord]]:
    """The plan the learner is talking about: the one on screen, else the goal they mean (its
    kept plan, or the knowledge base's proposal for it); with their open goals."""
    goals = store.open_goals(tracker.sender_id)
    shown = _plan_in_view(tracker)
    if shown is not None:
        goal = next((g for g in goals if g.id == shown[0]), None)
        if goal is not None:
            return goal, shown[1], goals
    goal = goal_meant(tracker, goals)
    if goal is None:
        with_plans = [g for g in goals if g.plan]
        goal = with_plans[0] if len(with_plans) == 1 else None
    if goal is None:
        return None, [], goals
    return goal, list(goal.plan) or proposed_plan(kb, goal, goal.title), goals


def keep_or_skip(dispatcher: CollectingDispatcher, tracker: Tracker, keep: bool):
    store, kb = default_goal_store(), default_knowledge_base()
    goal, steps, goals = _plan_meant(tracker, store, kb)
    shown = _plan_in_view(tracker)
    if shown is not None and (goal is None or goal.id != shown[0]):
        goal = None  # the plan on screen is for a goal done or dropped since, not for another
    if goal is None or not steps:
        dispatcher.utter_message(response="utter_no_plan_in_view")
        return [SlotSet(PLAN_IN_VIEW, None)]
    return store_plan(dispatcher, tracker, store, goal, steps if keep else [])


def store_plan(dispatcher, tracker, store: GoalStore, goal: GoalRecord, steps: list[PlanStep]):
    try:
        planned = store.set_plan(tracker.sender_id, goal.id, steps)
    except NotSaved:
        dispatcher.utter_message(response=NOT_SAVED)
        return []
    if planned is None:  # done or dropped since
        dispatcher.utter_message(response="utter_no_plan_in_view")
    elif planned.plan:
        dispatcher.utter_message(
            response="utter_plan_kept",
            goal=said_back(planned.title),
            steps=plan_lines(planned.plan),
            sources=plan_sources(planned.plan),
        )
    else:
        dispatcher.utter_message(response="utter_plan_skipped", goal=said_back(planned.title))
    return [SlotSet(PLAN_IN_VIEW, None), SlotSet(GOAL_IN_FOCUS, goal.id)]


class ActionKeepOrSkipPlan(Action):
    """ "Keep this plan" / "skip it" (or yes / no right after the proposal, actions/my_data.py)."""

    def name(self) -> str:
        return "action_keep_or_skip_plan"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        return keep_or_skip(dispatcher, tracker, keep=intent != "skip_plan")


class ActionChangePlan(Action):
    """ "Change the plan": show it numbered; plan_form then asks what to keep and add."""

    def name(self) -> str:
        return "action_change_plan"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        goal, steps, goals = _plan_meant(tracker, default_goal_store(), default_knowledge_base())
        if not goals:
            dispatcher.utter_message(response="utter_no_goals")
            return [SlotSet(PLAN_IN_VIEW, None)]
        if goal is None:
            dispatcher.utter_message(response="utter_which_goal", goals=goal_lines(goals, today()))
            return [SlotSet(PLAN_IN_VIEW, None), SlotSet(LISTED_GOALS, [g.id for g in goals])]
        if steps:
            dispatcher.utter_message(
                response="utter_plan_to_change", goal=said_back(goal.title), steps=plan_lines(steps)
            )
        else:
            dispatcher.utter_message(response="utter_plan_empty", goal=said_back(goal.title))
        return [in_view(goal, steps), SlotSet(GOAL_IN_FOCUS, goal.id)]


# "1 and 3", "keep the first and third", "all", "none": which of the shown steps stay.
_ALL = re.compile(r"^(?:keep\s+)?(?:all|all of them|them all|everything|both|all three|yes)$")
_NONE = re.compile(r"^(?:none|none of them|nothing|no|skip|skip it|skip them)$")
_FILLER = {"keep", "only", "just", "step", "steps", "number", "numbers", "and", "the", "&", "+"}


def _chosen(part: str, shown: int) -> list[int] | None:
    text = part.lower().strip()
    if _ALL.match(text):
        return list(range(shown))
    if _NONE.match(text):
        return []
    words = [w for w in re.findall(r"[a-z0-9&+]+", text) if w not in _FILLER]
    if not words:
        return None
    positions = []
    for word in words:
        if word.isdigit():
            positions.append(int(word) - 1)
        elif word in ORDINALS:
            position = ORDINALS[word]
            positions.append(position + shown if position < 0 else position)  # "the last"
        else:
            return None  # other words: a step of the learner's own
    valid = [p for p in dict.fromkeys(positions) if 0 <= p < shown]
    return valid or list(range(shown))  # numbers that name no step shown: keep them all


def changed_plan(answer: str, shown: list[PlanStep]) -> list[PlanStep]:
    """The plan after the learner's changes: the shown steps they keep (all, when they name none),
    then their own steps, separated by ";" or new lines."""
    kept: list[int] | None = None
    own: list[PlanStep] = []
    for part in (p.strip(" .,!") for p in re.split(r"[;\n]+", answer)):
        if not part:
            continue
        chosen = _chosen(part, len(shown)) if kept is None else None
        if chosen is not None:
            kept = chosen
        else:
            own.append(PlanStep(part[:500], None))
    keep = range(len(shown)) if kept is None else kept
    return [shown[i] for i in keep] + own


class ValidatePlanForm(FormValidationAction):
    def name(self) -> str:
        return "validate_plan_form"

    @in_a_thread
    def run(self, dispatcher, tracker, domain) -> list[dict[str, Any]]:
        return asyncio.run(super().run(dispatcher, tracker, domain))

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        # No goal to plan for (action_change_plan said so): the form ends at once.
        return domain_slots if _plan_in_view(tracker) is not None else []

    async def extract_plan_changes(self, dispatcher, tracker, domain) -> dict[str, Any]:
        answer = answering(tracker, PLAN_CHANGES)
        intent = latest_intent(tracker)
        if answer == SKIPPED or (answer and intent == "deny"):
            return {PLAN_CHANGES: "none"}
        if answer and intent == "affirm":
            return {PLAN_CHANGES: "all"}
        return {PLAN_CHANGES: answer} if answer else {}


class ActionSavePlan(Action):
    """plan_form is complete: keep the plan as the learner changed it."""

    def name(self) -> str:
        return "action_save_plan"

    @in_a_thread
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        cleared = [SlotSet(PLAN_CHANGES, None), SlotSet(PLAN_IN_VIEW, None)]
        shown, answer = _plan_in_view(tracker), tracker.get_slot(PLAN_CHANGES)
        if shown is None or not answer:
            return cleared
        store = default_goal_store()
        goal = next((g for g in store.open_goals(tracker.sender_id) if g.id == shown[0]), None)
        if goal is None:
            dispatcher.utter_message(response="utter_no_plan_in_view")
            return cleared
        steps = changed_plan(answer, shown[1])
        return cleared + store_plan(dispatcher, tracker, store, goal, steps)
