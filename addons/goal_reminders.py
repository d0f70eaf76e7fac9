"""Slack direct messages on the day a goal falls due: the check-in, sent first.

Rasa's own reminders (ReminderScheduled) live in the memory of one process: lost on a restart and
not shared between replicas. Here the schedule is the learner database itself: every
GOAL_REMINDER_SECONDS each Rasa server with Slack on claims the due goals of Slack learners who
take reminders (common/goals.py: a conditional UPDATE, so one replica wins each goal, once per
due date) and queues the check-in in the Slack outbox, which posts it once (addons/slack_outbox.py).
The claim is the check-in itself: the learner's next session does not ask again. "No reminders"
turns a learner's messages off (actions/goals.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import OperationalError

from addons.slack_outbox import SlackOutbox
from common.db import DeadlinePassed
from common.goals import (
    DueGoal,
    about_goal,
    claim_due_reminders,
    release_reminder,
    said_back,
    spoken,
    today,
)
from common.learner_ids import SLACK

logger = logging.getLogger(__name__)

CHECK_IN = "utter_goal_check_in"  # the same words and buttons as a session's check-in
# A round claims at most one reminder per second of its interval, and 100 at most: a backlog
# (a morning's due goals, a database moved in) goes out at a pace that leaves learners' messages
# their p50 (scripts/bench_goals.py --servers), and well inside Slack's rate limits.
SENT_PER_SECOND, MOST_PER_ROUND = 1.0, 100


def reminders_per_round(interval_seconds: float) -> int:
    return max(1, min(MOST_PER_ROUND, int(interval_seconds * SENT_PER_SECOND)))


class GoalReminders:
    def __init__(self, learner_db_url: str, outbox: SlackOutbox, interval_seconds: float) -> None:
        self.learner_db_url = learner_db_url
        self.outbox = outbox
        self.interval_seconds = interval_seconds
        self.per_round = reminders_per_round(interval_seconds)
        self._task: asyncio.Task | None = None

    def start(self, check_in: dict[str, Any], send_with_buttons) -> None:
        """Sends due reminders from now on, on the running event loop. `check_in` is the domain's
        utter_goal_check_in (text and buttons); `send_with_buttons(user, text, buttons)` queues a
        message as the Slack channel renders it."""
        self._task = asyncio.create_task(self._run(check_in, send_with_buttons))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self, check_in: dict[str, Any], send_with_buttons) -> None:
        while True:
            try:
                await self.send_due(check_in, send_with_buttons)
            except (OperationalError, DeadlinePassed) as busy:  # locked or unreachable for now
                logger.warning("Goals' reminders wait for the next round: %s", busy)
            except Exception:
                logger.exception("Could not send the goals' reminders.")
            await asyncio.sleep(self.interval_seconds)

    async def send_due(self, check_in: dict[str, Any], send_with_buttons) -> list[DueGoal]:
        due = await asyncio.to_thread(
            claim_due_reminders, self.learner_db_url, today(), SLACK, self.per_round
        )
        sent = []
        for goal in due:
            text = check_in["text"].format(goal=said_back(goal.title), due=spoken(goal.due_on))
            user = goal.sender_id.partition(":")[2]
            try:
                buttons = [
                    {**button, "payload": about_goal(button["payload"], goal.id)}
                    for button in check_in.get("buttons") or []
                ]
                await send_with_buttons(user, text, buttons)
            except Exception:
                logger.exception("Could not queue the reminder of goal %s; asking later.", goal.id)
                await asyncio.to_thread(release_reminder, self.learner_db_url, goal)
                continue
            sent.append(goal)
        return sent
