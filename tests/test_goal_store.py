"""Goals in the learner database: set, complete, postpone, drop, one check-in per due date, and
erased with the learner's data. On SQLite, and on PostgreSQL when TEST_POSTGRES_URL is set."""

import threading
import time
from datetime import date

import pytest
from sqlalchemy import select, text

from actions.goal_store import GoalStore, PlanStep
from actions.learner_store import NotSaved, ProgressStore, migrate
from common.db import engine_for, session_scope, writes_due_by
from common.goals import DONE, DROPPED, OPEN, claim_due_reminders
from common.learner_schema import GoalChange
from tests.support import write_locked
from tests.test_learner_store import learner_url  # noqa: F401 (the fixture: each database kind)

TODAY = date(2026, 11, 30)


@pytest.fixture
def stores(learner_url):  # noqa: F811
    migrate(learner_url)
    return GoalStore(learner_url), ProgressStore(learner_url)


@pytest.fixture
def goals(stores):
    return stores[0]


def history(url: str, goal_id: int) -> list[tuple[str, date | None]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(GoalChange.change, GoalChange.due_on)
            .where(GoalChange.goal_id == goal_id)
            .order_by(GoalChange.id)
        )
        return [tuple(row) for row in rows]


def test_a_goal_is_stored_with_its_date_and_never_marks_its_step(stores):
    goals, progress = stores
    goal = goals.add("ana", "pass the CCRP", date(2027, 6, 1), milestone="certification")
    assert (goal.title, goal.due_on, goal.status) == ("pass the CCRP", date(2027, 6, 1), OPEN)
    assert [g.id for g in goals.open_goals("ana")] == [goal.id]
    assert progress.completed("ana") == set()


def test_open_goals_come_by_due_date_with_undated_ones_last(goals):
    later = goals.add("ana", "join ACRP", date(2027, 3, 1))
    undated = goals.add("ana", "update my CV", None)
    sooner = goals.add("ana", "pass the CCRP", date(2026, 12, 20))
    goals.add("ben", "someone else's goal", date(2026, 12, 1))
    assert [g.id for g in goals.open_goals("ana")] == [sooner.id, later.id, undated.id]


def test_completing_a_goal_on_a_step_marks_the_step_once(stores):
    goals, progress = stores
    goal = goals.add("ana", "pass the CCRP", date(2027, 6, 1), milestone="certification")
    done, step_added = goals.complete("ana", goal.id)
    assert (done.status, step_added) == (DONE, True)
    assert progress.completed("ana") == {"certification"}
    assert goals.open_goals("ana") == []
    assert goals.complete("ana", goal.id) is None  # no longer open

    again = goals.add("ana", "pass the CCRP again", None, milestone="certification")
    assert goals.complete("ana", again.id)[1] is False  # the step was already done


def test_postponing_and_dropping_keep_the_history(goals, learner_url):  # noqa: F811
    goal = goals.add("ana", "join ACRP", date(2026, 12, 31))
    assert goals.postpone("ana", goal.id, date(2027, 2, 28)).due_on == date(2027, 2, 28)
    assert goals.drop("ana", goal.id).status == DROPPED
    assert history(learner_url, goal.id) == [
        ("set", date(2026, 12, 31)),
        ("postponed", date(2027, 2, 28)),
        ("dropped", date(2027, 2, 28)),
    ]
    assert [g.status for g in goals.all_goals("ana")] == [DROPPED]


def test_a_learner_cannot_change_another_learners_goal(goals):
    goal = goals.add("ana", "join ACRP", date(2026, 12, 31))
    assert goals.complete("ben", goal.id) is None
    assert goals.drop("ben", goal.id) is None
    assert goals.postpone("ben", goal.id, date(2027, 1, 1)) is None
    assert goals.open_goals("ana")[0].status == OPEN


def test_a_check_in_comes_once_per_goal_and_due_date(goals):
    goal = goals.add("ana", "join ACRP", date(2026, 12, 1))
    assert goals.claim_check_in("ana", TODAY) is None  # not due yet
    assert goals.claim_check_in("ana", date(2026, 12, 1)).id == goal.id
    assert goals.claim_check_in("ana", date(2026, 12, 2)) is None  # asked already
    goals.postpone("ana", goal.id, date(2026, 12, 15))
    assert goals.claim_check_in("ana", date(2026, 12, 15)).id == goal.id  # the new date's
    assert goals.claim_check_in("ana", date(2026, 12, 16)) is None


def test_two_sessions_starting_at_once_get_one_check_in(goals):
    goals.add("ana", "join ACRP", date(2026, 12, 1))
    claimed = []
    start = threading.Barrier(4)

    def claim():
        start.wait()
        claimed.append(goals.claim_check_in("ana", date(2026, 12, 1)))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([c for c in claimed if c is not None]) == 1


def test_due_goals_across_learners_skip_those_already_checked_in(goals, learner_url):  # noqa: F811
    due = goals.add("slack:UANA", "join ACRP", date(2026, 11, 29))
    goals.add("slack:UBEN", "pass the CCRP", date(2026, 11, 30))
    goals.add("slack:UCAI", "not yet due", date(2026, 12, 5))
    goals.add("slack:UDEE", "no date", None)
    goals.add("web:0123", "another channel's learner", date(2026, 11, 1))
    goals.claim_check_in("slack:UBEN", TODAY)
    claimed = claim_due_reminders(learner_url, TODAY, "slack")
    assert [(goal.sender_id, goal.id) for goal in claimed] == [("slack:UANA", due.id)]
    assert claim_due_reminders(learner_url, TODAY, "slack") == []


def test_start_over_and_delete_my_data_erase_goals_and_their_history(stores, learner_url):  # noqa: F811
    goals, progress = stores
    first = goals.add("ana", "join ACRP", date(2026, 12, 31))
    progress.update_profile("ana", current_role="nurse")
    progress.reset_progress("ana")
    assert goals.all_goals("ana") == [] and history(learner_url, first.id) == []
    assert progress.record("ana").profile.current_role == "nurse"

    second = goals.add("ana", "pass the CCRP", None)
    progress.delete_learner("ana")
    assert goals.all_goals("ana") == [] and history(learner_url, second.id) == []
    assert progress.record("ana") is None


def test_a_goal_written_while_the_database_stays_locked_is_not_saved(goals, learner_url):  # noqa: F811
    with write_locked(learner_url):
        with writes_due_by(time.monotonic() + 0.3), pytest.raises(NotSaved):
            goals.add("ana", "join ACRP", None)
    assert goals.all_goals("ana") == []


def test_a_database_from_before_0006_keeps_which_check_ins_were_asked(learner_url):  # noqa: F811
    """0006 clears a check-in mark left from a goal's earlier date (before, it read as "still to
    come"); a mark for the goal's current date stays."""
    migrate(learner_url, "0005")
    stamp = "2026-11-01 00:00:00"
    with engine_for(learner_url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO learners (sender_id, created_at, updated_at) VALUES ('ana', :at, :at)"
            ),
            {"at": stamp},
        )
        for title, due, asked_for in (("asked", "2026-12-01", "2026-12-01"),
                                      ("moved since", "2026-12-15", "2026-12-01")):  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO learner_goals (sender_id, title, due_on, status,"
                    " checked_in_for, created_at, updated_at)"
                    " VALUES ('ana', :title, :due, 'open', :asked, :at, :at)"
                ),
                {"title": title, "due": due, "asked": asked_for, "at": stamp},
            )
    migrate(learner_url)
    goals = GoalStore(learner_url)
    assert goals.claim_check_in("ana", date(2026, 12, 15)).title == "moved since"
    assert goals.claim_check_in("ana", date(2026, 12, 15)) is None


def test_a_plan_kept_is_stored_with_the_goal_and_its_history(goals):
    goal = goals.add("ana", "pass the CCRP", date(2027, 6, 1), milestone="certification")
    steps = [PlanStep("Certification: the CCRP", "guide.md"), PlanStep("ask a mentor", None)]
    assert goals.set_plan("ana", goal.id, steps).plan == tuple(steps)
    assert goals.open_goals("ana")[0].plan == tuple(steps)
    assert goals.set_plan("bo", goal.id, []) is None  # another learner's goal: untouched
    assert goals.set_plan("ana", goal.id, []).plan == ()
    with session_scope(goals.url) as session:
        changes = session.execute(
            select(GoalChange.change).where(GoalChange.goal_id == goal.id).order_by(GoalChange.id)
        ).scalars()
        assert list(changes) == ["set", "planned", "plan skipped"]
