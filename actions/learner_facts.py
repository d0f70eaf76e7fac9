"""Reading what learners say about themselves: the milestones a message reports and the profile
facts it states ("I'm a nurse with a BSN", "2 years as a research coordinator")."""

from __future__ import annotations

import re
from collections.abc import Sequence

from actions.claims import achieved_part
from actions.conversation import Utterance, items_in
from actions.knowledge_base import ItemInfo, KnowledgeBase, PathStepInfo

TARGET_ROLES = ("Clinical Operations Manager", "Clinical Program Manager")

_NUMBER_WORDS = {
    "no": 0, "zero": 0, "none": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "fifteen": 15, "twenty": 20, "half": 0.5,
}  # fmt: skip
_YEARS = re.compile(r"\b(\d+(?:\.\d+)?|[a-z]+)\s*\+?\s*(?:years?|yrs?)\b")
_NO_DEGREE = re.compile(r"\b(no degree|without a degree|high school|ged|no college|none)\b")
_DOCTORATE = re.compile(r"\b(phd|doctorate|doctoral|dnp|md)\b")
# Abbreviations only as whole words: "banana" or "basic" is not a BA.
_BACHELOR = re.compile(r"\b(bachelor|undergrad)|\b(bsc|bsn|ba|bs)\b")


def entity_values(utterance: Utterance, entity: str) -> list[str]:
    return [
        str(e["value"])
        for e in utterance.entities
        if e.get("entity") == entity and e.get("value") is not None
    ]


def milestones_named(utterance: Utterance, kb: KnowledgeBase, path_keys: set[str]) -> list[str]:
    """Milestones a message reports: through named items ("the CCRP" -> certification) and the
    `milestone` entity for steps that are not a named thing ("leading a team" -> leadership)."""
    found = [item.milestone for item in items_in(utterance, kb) if item.milestone]
    found += [value for value in entity_values(utterance, "milestone") if value in path_keys]
    return list(dict.fromkeys(found))


def parse_years(text: str) -> float | None:
    lowered = text.lower()
    match = _YEARS.search(lowered)
    token = match.group(1) if match else lowered.strip()
    try:
        value = float(token)
    except ValueError:
        value = _NUMBER_WORDS.get(token)
    if value is None or not 0 <= value <= 60:
        return None
    return value


def parse_education(text: str, items: list[ItemInfo]) -> dict:
    """Education level and field from a free answer ("a BSN", "master of public health")."""
    lowered = text.lower()
    degrees = [item for item in items if item.kind == "degree"]
    masters = [item for item in degrees if item.milestone == "graduate_degree"]
    fields = [item for item in degrees if item.name not in ("bachelor's degree", "master's degree")]
    facts: dict = {}
    if _DOCTORATE.search(lowered):
        facts["education_level"] = "doctorate"
    elif masters:
        facts["education_level"] = "master"
    elif degrees or _BACHELOR.search(lowered):
        facts["education_level"] = "bachelor"
    elif _NO_DEGREE.search(lowered):
        facts["education_level"] = "none"
    if fields:
        facts["education_field"] = fields[0].name
    return facts


def profile_facts(statement: Utterance, kb: KnowledgeBase) -> dict:
    """Profile fields a free statement gives, as ProgressStore.update_profile() arguments.
    Education, current role and years come only from what is said as done ("I have a BSN", not
    "I want a BSN"); the target role and preferred setting are wishes by nature."""
    done = achieved_part(statement)
    done_items = items_in(done, kb)
    facts = parse_education(done.text, done_items)
    if "education_level" not in facts and _NO_DEGREE.search(statement.text.lower()):
        # "No degree yet" is where the learner stands, not a plan, though it reads as a denial.
        facts["education_level"] = "none"

    current = [i.name for i in done_items if i.kind == "role" and i.name not in TARGET_ROLES]
    job_titles = entity_values(done, "job_title")
    if current:
        facts["current_role"] = current[0]
    elif job_titles:
        facts["current_role"] = job_titles[0][:100]

    years = [parse_years(f"{value} years") for value in entity_values(done, "years")]
    years = [value for value in years if value is not None] or [parse_years(done.text)]
    if years[0] is not None and _YEARS.search(done.text.lower()):
        facts["years_experience"] = years[0]

    items = items_in(statement, kb)
    targets = [item.name for item in items if item.kind == "role" and item.name in TARGET_ROLES]
    if targets:
        facts["target_role"] = targets[0]
    settings = [item.name for item in items if item.kind == "setting"]
    if settings:
        facts["preferred_setting"] = settings[0]
    return facts


def milestones_from_profile(facts: dict, path: Sequence[PathStepInfo] = ()) -> list[str]:
    """Milestones a stated background completes: an education (a BSN is a degree, an MPH also a
    master's), and a current job that is itself a step's work (a nurse has hands-on clinical
    experience: the step's `roles` in knowledge/path.yml)."""
    level = facts.get("education_level")
    found = []
    if level in ("bachelor", "master", "doctorate"):
        found.append("degree")
    if level in ("master", "doctorate"):
        found.append("graduate_degree")
    role = (facts.get("current_role") or "").lower()
    found += [step.key for step in path if role and role in step.roles]
    return found


def describe_profile(profile: dict) -> list[str]:
    """Readable lines for the profile fields that are known."""
    lines = []
    education = education_text(profile)
    if education:
        lines.append(f"Education: {education}")
    if profile.get("current_role"):
        lines.append(f"Current role: {profile['current_role']}")
    if profile.get("years_experience") is not None:
        years = profile["years_experience"]
        lines.append(f"Experience: {years:g} year{'s' if years != 1 else ''}")
    if profile.get("target_role"):
        lines.append(f"Aiming for: {profile['target_role']}")
    if profile.get("preferred_setting"):
        lines.append(f"Preferred setting: {profile['preferred_setting']}")
    return lines


def education_text(profile: dict) -> str | None:
    """ "bachelor's degree (nursing)", or None when the profile says nothing about education."""
    level, field = profile.get("education_level"), profile.get("education_field")
    if not (level or field):
        return None
    level_text = {
        "none": "no degree yet",
        "bachelor": "bachelor's degree",
        "master": "master's degree",
        "doctorate": "doctorate",
    }.get(level or "", "degree")
    return level_text + (f" ({field})" if field else "")
