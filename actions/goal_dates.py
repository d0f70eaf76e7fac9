"""When a goal is due, from the learner's own words: "by June", "in 3 weeks", "next Friday", "end
of the year". dateparser reads the calendar words; what it leaves out or reads differently from
how people set deadlines is read here first:

- a deadline is the end of the period named: "by June" is 30 June, "this month" its last day,
  "end of the year" 31 December, "next week" its Sunday;
- "next Friday" is the coming Friday (dateparser 1.2 does not read it);
- ISO dates (2027-02-01) are year-month-day, whatever the day-first order of other dates.

A reading is always confirmed back to the learner with the concrete date; a phrase that cannot be
read, or a date that has passed, gets a question, never a guess.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import dateparser

_MONTH_NAMES = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTH_NAMES |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTH_NAMES["sept"] = 9
_WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
_WEEKDAYS |= {name.lower(): number for number, name in enumerate(calendar.day_abbr)}

_MONTH = r"(?:" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")"
_NUMBER = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|few)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"

# A date phrase as people end a goal with it. The lead word ("by", "before"...) is part of it so
# that what is left is the goal itself.
_LEAD = r"(?:by|before|until|till|no later than|on|in|within|for|around|at)"
DATE_PHRASE = re.compile(
    rf"(?:\b{_LEAD}\s+)?(?:the\s+)?"
    r"(?:"
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?"
    rf"|\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:year|month|week|{_MONTH})\b"
    r"|\b(?:year|month)\s*end\b"
    rf"|\b(?:this|next|coming)\s+(?:week|month|year|{_WEEKDAY})\b"
    r"|\b(?:today|tonight|tomorrow|yesterday)\b"
    rf"|\blast\s+(?:week|month|year|{_WEEKDAY})\b"
    rf"|\b{_NUMBER}\s+(?:days?|weeks?|months?|years?)\s+ago\b"
    rf"|\b{_NUMBER}\s+(?:days?|weeks?|months?|years?)(?:\s+from\s+now|\s+time)?\b"
    rf"|\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+(?:{_DAY}(?:,?\s+\d{{4}})?|\d{{4}})\b"
    r"|\b20\d{2}\b"
    r")"
    # A month or weekday alone only after a lead word: "by May", not "I may".
    rf"|\b{_LEAD}\s+(?:{_MONTH}|{_WEEKDAY})\b",
    re.IGNORECASE,
)
# Words that say "some time" without a date: the learner is asked for one.
VAGUE_TIME = re.compile(
    rf"(?:\b{_LEAD}\s+)?(?:the\s+)?\b(?:someday|some day|one day|eventually|soon|asap|"
    r"as soon as possible|in the future|later|sometime|at some point|"
    r"summer|winter|spring|autumn|fall|christmas|easter)\b",
    re.IGNORECASE,
)

_SETTINGS = {"PREFER_DATES_FROM": "future", "PREFER_DAY_OF_MONTH": "last", "DATE_ORDER": "DMY"}


@dataclass(frozen=True)
class DueDate:
    """What a phrase says about a deadline: `on` is the date when it could be read and has not
    passed; `phrase` is the words read (empty when none were found)."""

    on: date | None
    phrase: str = ""
    passed: bool = False  # read, but before today

    @property
    def unclear(self) -> bool:
        return self.on is None and not self.passed


def find_due_date(text: str, today: date) -> DueDate:
    """The deadline in a message ("I want to pass the CCRP by June"), if it names one."""
    match = DATE_PHRASE.search(text)
    if match is None:
        return DueDate(None, VAGUE_TIME.search(text).group(0) if VAGUE_TIME.search(text) else "")
    return read_due_date(match.group(0), today)


def read_due_date(phrase: str, today: date) -> DueDate:
    """A phrase that is only a date ("by June", "in 3 weeks"), read against `today`."""
    words = re.sub(rf"^{_LEAD}\s+", "", " ".join(phrase.lower().split()))
    words = re.sub(r"^the\s+", "", words)
    on = _deadline(words, today)
    if on is None:
        return DueDate(None, phrase)
    if on < today:
        return DueDate(None, phrase, passed=True)
    return DueDate(on, phrase)


def _deadline(words: str, today: date) -> date | None:
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", words):
        return _valid_date(*map(int, match.groups()))
    if re.fullmatch(r"(?:end of (?:the |this )?year|year\s*end|this year)", words):
        return date(today.year, 12, 31)
    if words in ("end of next year", "next year"):
        return date(today.year + 1, 12, 31)
    if re.fullmatch(r"(?:end of (?:the |this )?month|month\s*end|this month)", words):
        return _month_end(today.year, today.month)
    if words in ("end of next month", "next month"):
        return _month_end(*_next_month(today))
    if re.fullmatch(r"(?:end of (?:the |this )?week|this week)", words):
        return today + timedelta(days=6 - today.weekday())
    if words in ("end of next week", "next week"):
        return today + timedelta(days=13 - today.weekday())
    if match := re.fullmatch(rf"end of ({_MONTH})", words):
        return _month_end(*_coming_month(today, _MONTH_NAMES[match.group(1).rstrip(".")]))
    if match := re.fullmatch(rf"(?:this|next|coming) ({_WEEKDAY})", words):
        ahead = (_WEEKDAYS[match.group(1)] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    if words == "tonight":
        return today
    if re.fullmatch(r"20\d{2}", words):  # "by 2028": by the end of it
        return date(int(words), 12, 31)
    words = re.sub(r"\ba few\b|\bfew\b", "3", words)
    words = re.sub(
        r"^(\d+|an?|\w+) (days?|weeks?|months?|years?)(?: time| from now)?$", r"in \1 \2", words
    )
    parsed = dateparser.parse(
        words,
        languages=["en"],
        settings={**_SETTINGS, "RELATIVE_BASE": datetime.combine(today, datetime.min.time())},
    )
    return parsed.date() if parsed else None


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(today: date) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def _coming_month(today: date, month: int) -> tuple[int, int]:
    return (today.year if month >= today.month else today.year + 1, month)


def without_date(text: str, due: DueDate) -> str:
    """The message with its date phrase taken out: what the goal is."""
    if not due.phrase:
        return text
    return " ".join(text.replace(due.phrase, " ").split())
