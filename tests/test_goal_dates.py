"""A goal's date from the learner's own words, against a fixed today (Monday 30 November 2026):
a deadline is the end of the period named, what cannot be read or has passed is asked about."""

from datetime import date

import pytest

from actions.goal_dates import find_due_date, without_date
from actions.goals import goal_title
from common.goals import spoken

TODAY = date(2026, 11, 30)  # a Monday

DEADLINES = [
    ("by June", date(2027, 6, 30)),
    ("by June 1", date(2027, 6, 1)),
    ("by 1 June", date(2027, 6, 1)),
    ("by the 1st of June", date(2027, 6, 1)),
    ("by June 1st, 2027", date(2027, 6, 1)),
    ("before March", date(2027, 3, 31)),
    ("by March 2027", date(2027, 3, 31)),
    ("by the end of March", date(2027, 3, 31)),
    ("by December", date(2026, 12, 31)),
    ("in 3 weeks", date(2026, 12, 21)),
    ("within three weeks", date(2026, 12, 21)),
    ("in a few weeks", date(2026, 12, 21)),
    ("3 weeks from now", date(2026, 12, 21)),
    ("in 10 days", date(2026, 12, 10)),
    ("in two months", date(2027, 1, 30)),
    ("in six months time", date(2027, 5, 30)),
    ("in a year", date(2027, 11, 30)),
    ("next Friday", date(2026, 12, 4)),
    ("by Friday", date(2026, 12, 4)),
    ("this Wednesday", date(2026, 12, 2)),
    ("next Monday", date(2026, 12, 7)),
    ("tomorrow", date(2026, 12, 1)),
    ("today", date(2026, 11, 30)),
    ("this week", date(2026, 12, 6)),
    ("next week", date(2026, 12, 13)),
    ("this month", date(2026, 11, 30)),
    ("next month", date(2026, 12, 31)),
    ("by the end of the month", date(2026, 11, 30)),
    ("end of the year", date(2026, 12, 31)),
    ("by year end", date(2026, 12, 31)),
    ("this year", date(2026, 12, 31)),
    ("next year", date(2027, 12, 31)),
    ("by the end of next year", date(2027, 12, 31)),
    ("by 2028", date(2028, 12, 31)),
    ("by 2027-02-01", date(2027, 2, 1)),
    ("by 15/01/2027", date(2027, 1, 15)),
    ("on the 5th of January", date(2027, 1, 5)),
    ("Jan 5th", date(2027, 1, 5)),
]


@pytest.mark.parametrize("phrase, expected", DEADLINES)
def test_a_deadline_in_the_learners_words_is_read_as_a_date(phrase, expected):
    assert find_due_date(f"I want to pass the CCRP {phrase}", TODAY).on == expected


@pytest.mark.parametrize("phrase", ["by yesterday", "last week", "by 1 March 2026", "by 2025"])
def test_a_date_that_has_passed_is_not_taken(phrase):
    due = find_due_date(f"join ACRP {phrase}", TODAY)
    assert (due.on, due.passed) == (None, True)


@pytest.mark.parametrize("words", ["someday", "soon", "by Christmas", "in the summer", "asap"])
def test_a_vague_time_is_unclear_not_guessed(words):
    due = find_due_date(f"I'd like to join ACRP {words}", TODAY)
    assert due.on is None and due.unclear and due.phrase


@pytest.mark.parametrize(
    "text", ["I may join ACRP", "I want to march in the parade", "set a goal", "I can do it"]
)
def test_words_that_only_look_like_dates_are_not_dates(text):
    assert find_due_date(text, TODAY).phrase == ""


@pytest.mark.parametrize(
    "text, title",
    [
        ("I want to pass the CCRP by June", "pass the CCRP"),
        ("I'll apply to five jobs this month", "apply to five jobs"),
        ("my goal is to finish my MHA by the end of the year!", "finish my MHA"),
        ("set a goal to join ACRP in 3 weeks", "join ACRP"),
        ("I'm going to update my LinkedIn profile next Friday.", "update my LinkedIn profile"),
        ("goal: pass the CHOM exam by March", "pass the CHOM exam"),
        ("set a goal", ""),
        ("help me set a new goal please", ""),
        ("lead a project at work", "lead a project at work"),
        ("I'm planning to join ACRP next month", "join ACRP"),
        ("I'd like to finish GCP training by next week", "finish GCP training"),
        ("we're going to apply to ten jobs in 2 weeks", "apply to ten jobs"),
        ("I hope to get my MPH by 2028", "get my MPH"),
        ("Interview practice by Friday", "Interview practice"),
    ],
)
def test_the_goal_is_what_remains_without_intention_words_and_date(text, title):
    assert goal_title(text) == title


def test_the_date_is_said_back_in_full():
    assert spoken(date(2027, 6, 1)) == "Tuesday 1 June 2027"
    due = find_due_date("pass the CCRP by June 1", TODAY)
    assert without_date("pass the CCRP by June 1", due) == "pass the CCRP"
