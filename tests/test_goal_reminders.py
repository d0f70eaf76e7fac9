"""Slack's goal reminders (addons/goal_reminders.py) against a real learner database: due goals of
Slack learners who take reminders, each sent once per due date however many Rasa replicas look
at once, and none after "no reminders". On SQLite, and on PostgreSQL when TEST_POSTGRES_URL is
set. (tests/integration/test_slack.py sends them through the real server to the Slack stand-in.)"""

import asyncio
from datetime import date

import pytest

from actions.goal_store import GoalStore
from actions.learner_store import ProgressStore, migrate
from addons.goal_reminders import GoalReminders
from tests.test_learner_store import learner_url  # noqa: F401 (the fixture: each database kind)

CHECK_IN = {
    "text": "You planned to {goal} by {due}. How did it go?",
    "buttons": [{"title": "Done", "payload": "/goal_done"}],
}


@pytest.fixture
def url(learner_url, monkeypatch):  # noqa: F811
    migrate(learner_url)
    monkeypatch.setenv("COACH_TODAY", "2026-12-01")
    return learner_url


class Outbox:
    """Collects what the Slack channel would queue: (user, text, buttons)."""

    def __init__(self) -> None:
        self.sent = []

    async def send(self, user, text, buttons) -> None:
        await asyncio.sleep(0)  # as the real outbox, it yields to the event loop
        self.sent.append((user, text, buttons))


def replica(url, interval_seconds: float = 300) -> GoalReminders:
    return GoalReminders(url, outbox=None, interval_seconds=interval_seconds)


async def test_two_replicas_send_each_due_goal_once(url):
    goals = GoalStore(url)
    mha = goals.add("slack:UANA", "finish my MHA", date(2026, 12, 1))
    goals.add("slack:UANA", "join ACRP", date(2027, 1, 15))  # not due yet
    goals.add("web:0123", "pass the CCRP", date(2026, 11, 20))  # no Slack: asked in-session
    outbox = Outbox()
    await asyncio.gather(
        replica(url).send_due(CHECK_IN, outbox.send), replica(url).send_due(CHECK_IN, outbox.send)
    )
    assert outbox.sent == [
        (
            "UANA",
            "You planned to finish your MHA by Tuesday 1 December 2026. How did it go?",
            [{"title": "Done", "payload": f'/goal_done{{"goal": {mha.id}}}'}],
        ),
    ]  # the button names its goal: the learner may have several
    await replica(url).send_due(CHECK_IN, outbox.send)  # the next round: nothing new
    assert len(outbox.sent) == 1
    assert goals.claim_check_in("slack:UANA", date(2026, 12, 1)) is None  # not asked twice


async def test_no_reminders_means_no_direct_message(url):
    GoalStore(url).add("slack:UBEN", "join ACRP", date(2026, 11, 30))
    ProgressStore(url).set_goal_reminders("slack:UBEN", False)
    outbox = Outbox()
    await replica(url).send_due(CHECK_IN, outbox.send)
    assert outbox.sent == []
    ProgressStore(url).set_goal_reminders("slack:UBEN", True)
    await replica(url).send_due(CHECK_IN, outbox.send)
    assert [user for user, _, _ in outbox.sent] == ["UBEN"]


async def test_a_reminder_that_cannot_be_queued_is_sent_next_round(url):
    GoalStore(url).add("slack:UCAI", "join ACRP", date(2026, 12, 1))

    async def refused(*_):
        raise OSError("the outbox's database is locked")

    assert await replica(url).send_due(CHECK_IN, refused) == []
    outbox = Outbox()
    await replica(url).send_due(CHECK_IN, outbox.send)
    assert [user for user, _, _ in outbox.sent] == ["UCAI"]


async def test_a_backlog_goes_out_at_one_reminder_per_second_of_the_interval(url):
    goals = GoalStore(url)
    for n in range(5):
        goals.add(f"slack:U{n}", "join ACRP", date(2026, 11, 20 + n))
    outbox, every_two_seconds = Outbox(), replica(url, interval_seconds=2)
    sent = [len(await every_two_seconds.send_due(CHECK_IN, outbox.send)) for _ in range(4)]
    assert sent == [2, 2, 1, 0]
    assert [user for user, *_ in outbox.sent] == ["U0", "U1", "U2", "U3", "U4"]  # oldest first
    assert replica(url, interval_seconds=3600).per_round == 100
