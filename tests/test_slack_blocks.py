"""The progress view and goals as Slack blocks, from the text the actions and domain.yml give."""

from datetime import date

import pytest

from actions.goal_store import GoalStore
from actions.goals import ActionListGoals
from actions.progress import ActionShowProgress
from addons.slack_blocks import progress_blocks
from tests.support import rendered

pytestmark = pytest.mark.usefixtures("kb_url")


def texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in blocks]


async def test_the_progress_view_has_a_bar_ticks_and_a_section_per_goal(
    kb, store, learner_db_url, dispatcher, tracker, domain, monkeypatch
):
    monkeypatch.setenv("COACH_TODAY", "2026-11-30")
    done = [step.key for step in kb.path()[:2]]
    store.mark_done("learner-1", done)
    goals = GoalStore(learner_db_url)
    goals.add("learner-1", "pass the CCRP", date(2026, 11, 20))
    goals.add("learner-1", "update my CV", None)
    await ActionShowProgress().run(dispatcher, tracker("show my progress"), domain)
    progress, goal_list = (rendered(m, "slack")["text"] for m in dispatcher.messages[-2:])

    blocks = progress_blocks(progress)
    total = len(kb.path())
    assert [b["type"] for b in blocks] == ["section", "context", "section"]
    assert texts(blocks)[1] == "▰" * len(done) + "▱" * (total - len(done))
    ticks = texts(blocks)[2].split("\n")
    assert len(ticks) == total and sum(t.startswith(":white_check_mark:") for t in ticks) == 2

    assert texts(progress_blocks(goal_list)) == [
        "*Your goals*",
        ":warning: *pass the CCRP*\nby Friday 20 November 2026 (overdue)",
        "*update your CV*\nwith no date set",
    ]


async def test_my_goals_keeps_its_hint_below_the_goals(
    learner_db_url, dispatcher, tracker, domain, monkeypatch
):
    monkeypatch.setenv("COACH_TODAY", "2026-11-30")
    GoalStore(learner_db_url).add("learner-1", "join ACRP", date(2026, 11, 30))
    await ActionListGoals().run(dispatcher, tracker("my goals"), domain)
    blocks = progress_blocks(rendered(dispatcher.messages[0], "slack")["text"])
    assert texts(blocks)[1] == ":alarm_clock: *join ACRP*\nby Monday 30 November 2026 (due today)"
    assert blocks[-1]["type"] == "context" and "I did it" in texts(blocks)[-1]


@pytest.mark.parametrize(
    "text", ["Hello!", "", "Your progress is yours.", "1. a step, by June", "[x] alone"]
)
def test_other_text_stays_text(text):
    assert progress_blocks(text) is None
