"""What goals cost: the scheduler's query for due goals, and the check-in a session start claims,
over 100,000 goals of 20,000 learners, with its indexes and without them (the
baseline, measured in the same run on a copy of the same database).

With --servers, also what the Slack reminders cost a learner's message: the real servers on a
copy of that database, with reminders looked for every second, once with every due goal already
checked in on (the query runs, nothing is sent) and once with all of them still to send (each
round claims what its pace allows and messages the local stand-in of Slack), beside the same
servers whose reminders do not run while measured (the baseline).

    python -m scripts.bench_goals               # about a minute; prints the figures
    python -m scripts.bench_goals --servers     # about 10 minutes more
    python -m scripts.bench_goals --publish     # and writes them to docs/measurements.md
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text, update

from actions.goal_store import GoalStore
from actions.learner_store import migrate
from addons.goal_reminders import reminders_per_round
from common.db import engine_for
from common.goals import OPEN, claim_due_reminders, not_checked_in
from common.learner_schema import Goal, Learner
from scripts.bench import OUR_CONVERSATION, BotResult
from scripts.bench import measure as measure_messages
from scripts.local_servers import running_assistant
from scripts.measurements_page import publish
from tests.integration.slack_stand_in import SlackWebApi

LEARNERS, GOALS_EACH = 20_000, 5
TODAY = date(2026, 11, 30)


def seed(url: str) -> None:
    """20,000 learners with 5 goals each: due over the year around today, some without a date,
    a quarter of them done or dropped."""
    migrate(url)
    rng = random.Random(20)
    now = datetime(2026, 11, 1)
    learners = [{"sender_id": f"slack:U{n:06d}", "created_at": now, "updated_at": now} for n in
                range(LEARNERS)]  # fmt: skip
    goals = []
    for learner in learners:
        for _ in range(GOALS_EACH):
            due = TODAY + timedelta(days=rng.randint(-180, 180)) if rng.random() < 0.9 else None
            status = OPEN if rng.random() < 0.75 else rng.choice(["done", "dropped"])
            goals.append(
                {
                    "sender_id": learner["sender_id"],
                    "title": "pass the CCRP",
                    "due_on": due,
                    "status": status,
                    "checked_in_for": due if due and rng.random() < 0.5 and due <= TODAY else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    with engine_for(url).begin() as connection:
        connection.execute(insert(Learner), learners)
        connection.execute(insert(Goal), goals)


def timed(call, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def measure(url: str) -> dict[str, float]:
    store = GoalStore(url)
    every_due = (
        select(func.count())
        .select_from(Goal)
        .where(Goal.status == OPEN, Goal.due_on <= TODAY, not_checked_in())
    )
    with engine_for(url).connect() as connection:
        due_ms, due = timed(lambda: connection.execute(every_due).scalar_one(), 5)
    # One round of the Slack scheduler: claims (and so moves past) the next 100 due goals.
    batch_ms, _ = timed(lambda: claim_due_reminders(url, TODAY, "slack"), 5)
    learners = [f"slack:U{n:06d}" for n in random.Random(1).sample(range(LEARNERS), 200)]
    claims = iter(learners)
    claim_ms, _ = timed(lambda: store.claim_check_in(next(claims), TODAY), len(learners))
    return {"due": due_ms, "due_count": due, "batch": batch_ms, "claim": claim_ms}


# The servers' runs, named by what the reminders do while measured.
NOTHING_DUE, BACKLOG, BASELINE = "every second, nothing due", "every second, a backlog", "baseline"


def all_checked_in(url: str) -> None:
    """The steady state: every goal due by today has had its check-in (the reminders' query
    still looks over all 100,000 every round, and finds nothing to send)."""
    with engine_for(url).begin() as connection:
        connection.execute(
            update(Goal).where(Goal.due_on <= TODAY).values(checked_in_for=Goal.due_on)
        )


def messages_beside_the_reminders(seeded: Path, work: Path) -> dict[str, tuple[BotResult, int]]:
    """Each run's message figures and the direct messages Slack's stand-in got while measured."""
    slack = SlackWebApi("xoxb-bench")
    runs = {}
    try:
        for label, seconds in ((NOTHING_DUE, "1"), (BACKLOG, "1"), (BASELINE, "86400")):
            work_dir = work / label.replace(" ", "-").replace(",", "")
            work_dir.mkdir()
            shutil.copy(seeded, work_dir / "learners.db")
            if label == NOTHING_DUE:
                all_checked_in(f"sqlite:///{work_dir / 'learners.db'}")
            env = {
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": slack.url,
                "GOAL_REMINDER_SECONDS": seconds,
                "COACH_TODAY": TODAY.isoformat(),
            }
            print(f"Messages, reminders {label}:")
            with running_assistant(work_dir=work_dir, env=env) as assistant:
                before = len(slack.posts)
                result = measure_messages(
                    label, assistant.url, OUR_CONVERSATION, assistant.pids(), 0, (1, 10),
                    assistant.rest_headers,
                )  # fmt: skip
                runs[label] = (result, len(slack.posts) - before)
    finally:
        slack.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", action="store_true", help="also a message's p50 (servers)")
    parser.add_argument("--publish", action="store_true", help="write docs/measurements.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        indexed = Path(work) / "indexed.db"
        seed(f"sqlite:///{indexed}")
        with engine_for(f"sqlite:///{indexed}").begin() as connection:
            # Everything into the file itself: the copy then holds it all, and neither database
            # starts with a large write-ahead log to fold in on its first writes.
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        plain = Path(work) / "plain.db"
        shutil.copy(indexed, plain)
        with engine_for(f"sqlite:///{plain}").begin() as connection:
            connection.execute(text("DROP INDEX ix_learner_goals_to_check_in"))
            connection.execute(text("DROP INDEX ix_learner_goals_sender_id"))
        if args.servers:  # before measure() claims any: every due goal still waits
            shutil.copy(indexed, Path(work) / "servers.db")
        with_index = measure(f"sqlite:///{indexed}")
        without = measure(f"sqlite:///{plain}")
        if args.servers:
            runs = messages_beside_the_reminders(Path(work) / "servers.db", Path(work))
    figures = (
        f"{LEARNERS * GOALS_EACH:,} goals of {LEARNERS:,} learners (SQLite, median of runs):\n\n"
        "| query | with the indexes | without (baseline) |\n|---|---|---|\n"
        f"| counting every goal due by today and not yet checked in on "
        f"({with_index['due_count']:,}) | {with_index['due']:.0f} ms | {without['due']:.0f} ms |\n"
        f"| one round of the Slack reminders: claim the next 100 of them "
        f"| {with_index['batch']:.0f} ms | {without['batch']:.0f} ms |\n"
        f"| one learner's check-in claimed at a session start "
        f"| {with_index['claim']:.2f} ms | {without['claim']:.2f} ms |\n"
    )
    if args.servers:
        figures += (
            "\nA learner's message on the real servers (REST, 300 messages per row) over a copy "
            "of that database, Slack on (its local stand-in), the reminders looking every second: "
            "once every due goal has had its check-in (the query runs, nothing is sent), and "
            f"with all {with_index['due_count']:,} still to send (a backlog: each one-second "
            f"round claims {reminders_per_round(1)}; {runs[BACKLOG][1]:,} direct messages went "
            "out while measured); the baseline "
            "is the same servers whose reminders did not run while measured:\n\n"
            f"| learners at once | {NOTHING_DUE} | {BACKLOG} | {BASELINE} |\n|---|---|---|---|\n"
        )
        for loads in zip(
            *(runs[label][0].loads for label in (NOTHING_DUE, BACKLOG, BASELINE)), strict=True
        ):
            figures += (
                f"| {loads[0].users} | "
                + " | ".join(
                    f"p50 {load.p50_ms:.0f} ms, {load.throughput:.1f} msg/s" for load in loads
                )
                + " |\n"
            )
    print(figures)
    if args.publish:
        publish(
            "goals",
            f"python -m scripts.bench_goals{' --servers' if args.servers else ''} --publish",
            figures,
        )


if __name__ == "__main__":
    main()
