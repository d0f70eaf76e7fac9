"""Learner memory end to end: real servers, REST channel, restarts, deletion."""

import json
import sqlite3

import pytest

from common.learner_ids import learner_id
from scripts.local_servers import running_assistant
from tests.support import (
    new_sender,
    progress_summary,
    step_title,
    stored_milestones,
    text_of,
)

pytestmark = pytest.mark.integration


def test_progress_and_goals_survive_restarts_stay_private_and_can_be_deleted(tmp_path):
    ana, ben, cai = new_sender("ana"), new_sender("ben"), new_sender("cai")

    # The goals' clock (COACH_TODAY) reads Monday 30 November 2026 before the restart.
    with running_assistant(work_dir=tmp_path, env={"COACH_TODAY": "2026-11-30"}) as assistant:
        set_goal = text_of(assistant.say(cai, "I want to join ACRP by tomorrow"))
        assert "Goal set: join ACRP, by Tuesday 1 December 2026." in set_goal, set_goal
        assert "A plan for it, from the guides:" in set_goal, set_goal
        assert "Marked done" not in set_goal  # an intention, not a milestone
        kept = text_of(assistant.say(cai, "yes"))  # "Shall I keep this plan with your goal?"
        assert kept.startswith("Your plan for join ACRP:\n1. "), kept

        background = text_of(assistant.say(ana, "I'm a nurse with a BSN"))
        assert "Education: bachelor's degree (nursing)" in background, background
        assistant.say(ana, "I passed the CCRP")
        assistant.say(ana, "I just joined ACRP")
        done = stored_milestones(tmp_path, ana)
        assert {"degree", "certification", "professional_organisation"} <= done
        before = text_of(assistant.say(ana, "show my progress"))
        assert before.startswith(f"Your progress: {progress_summary(len(done))}."), before

    # Both servers stopped and started again on the same databases, a day later.
    with running_assistant(work_dir=tmp_path, env={"COACH_TODAY": "2026-12-01"}) as assistant:
        assert text_of(assistant.say(ana, "show my progress")) == before

        check_in = text_of(assistant.say(cai, "/session_start"))
        assert "You planned to join ACRP by Tuesday 1 December 2026. How did it go?" in check_in
        assert "You planned" not in text_of(assistant.say(cai, "/session_start"))  # once
        assert "Plan for join ACRP:\n1. " in text_of(assistant.say(cai, "my goals"))
        goal_done = text_of(assistant.say(cai, "/goal_done"))
        assert "Well done: join ACRP is done!" in goal_done, goal_done
        assert step_title("professional_organisation") in goal_done, goal_done
        assert stored_milestones(tmp_path, cai) == {"professional_organisation"}

        next_steps = text_of(assistant.say(ana, "what should I do next?"))
        assert next_steps.startswith("Your next steps:"), next_steps
        assert step_title("graduate_degree") in next_steps
        for already_done in ("degree", "certification", "professional_organisation"):
            assert step_title(already_done) not in next_steps

        welcome = text_of(assistant.say(ana, "/session_start"))
        assert welcome.startswith(f"Welcome back! You have {progress_summary(len(done))}."), welcome

        nothing_yet = f"Your progress: {progress_summary(0)}."
        assert text_of(assistant.say(ben, "show my progress")).startswith(nothing_yet)

        question = text_of(assistant.say(ana, "please delete my data"))
        assert "Are you sure?" in question, question
        assert "deleted" in text_of(assistant.say(ana, "yes"))
        assert text_of(assistant.say(ana, "show my progress")).startswith(nothing_yet)
        export = text_of(assistant.say(ana, "export my data"))
        assert "No profile and no progress." in export, export

    # Nothing Ana said before the deletion is stored anywhere.
    with sqlite3.connect(tmp_path / "conversations.db") as db:
        query = "SELECT data FROM events WHERE sender_id = ?"
        rows = db.execute(query, (learner_id("rest", ana),)).fetchall()
    said = [json.loads(data).get("text") for (data,) in rows]
    said = [text for text in said if text]
    assert "show my progress" in said  # what she said after the deletion is kept
    for before_deletion in ("I'm a nurse with a BSN", "I passed the CCRP", "I just joined ACRP"):
        assert before_deletion not in said
    with sqlite3.connect(tmp_path / "learners.db") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM learners WHERE sender_id = ?", (learner_id("rest", ana),)
        ).fetchone()
    assert count == 0
