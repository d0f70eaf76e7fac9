"""make bench-report: the operators' report's time over 100,000 messages from 5,000 learners.

Seeds a temporary SQLite conversation store (its tables created by the project's tracker store,
its rows built from real Rasa events exactly as Rasa's SQLTrackerStore.save writes them, but
inserted in bulk) and a learner database (migrated, milestones through ProgressStore), then
times building the report (the queries) and rendering it (HTML with inline SVG), and looking up
one conversation. Nothing is written outside the temporary folder, unless --database-url names
an empty database to seed instead (PostgreSQL, say).

    python -m scripts.bench_report                        # 100,000 messages, 5,000 learners
    python -m scripts.bench_report --messages 10000 --learners 500
    python -m scripts.bench_report --database-url postgresql://user:password@host/empty_db
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from sqlalchemy import func, insert, select

from common.db import printable
from common.report import Period, build_report, find_conversation, learner_hash, path_steps
from common.report_page import Links, render_report
from common.settings import load_settings

INTENTS = [
    "ask_role_overview", "ask_work_settings", "ask_schedule_travel", "ask_degrees",
    "ask_certifications", "ask_experience", "ask_skills", "ask_compliance", "ask_networking",
    "ask_leadership", "ask_staying_current", "ask_personal_brand", "ask_job_search",
    "ask_career_path", "ask_more", "greet", "report_progress", "show_progress",
]  # fmt: skip
QUESTIONS = [
    "what certifications should I get?", "is the CCRP worth it?", "what degree do I need?",
    "do I need an MBA or an MHA?", "how do I network in clinical research?",
    "what skills does a clinical program manager need?", "where do clinical ops managers work?",
    "tell me more", "how do I become a leader?", "what does a clinical operations manager do?",
]  # fmt: skip
NOT_COVERED = [
    ("what's the salary of a {role}?", "money"),
    ("how much does a {role} earn", "money"),
    ("how much does the {item} cost?", "money"),
    ("how long does it take to become a {role}?", "duration"),
    ("how many years before I can be a {role}", "duration"),
    ("which hospitals hire a {role}?", "employer"),
]
UNPLACED = ["banana phone", "asdf", "can you book me a flight?", "what's the weather in {role}?"]
ROLES = ["clinical operations manager", "clinical program manager", "CRA", "research nurse"]
ITEMS = ["CCRP", "CHOM", "MHA", "MBA", "MPH"]
OPENERS = ["", "", "hi, ", "quick question: ", "sorry, "]


def wording(rng: random.Random, template: str) -> str:
    """A wording of the template as learners vary it; one in four carries a word of its own
    (a typo, a name), so the list to group has a long tail, as real ones do."""
    text = rng.choice(OPENERS) + template.format(role=rng.choice(ROLES), item=rng.choice(ITEMS))
    if rng.random() < 0.25:
        text += f" {rng.choice(['for', 'in', 'near'])} x{rng.randrange(100_000)}"
    return text


def turn_events(
    text: str,
    intent: str,
    confidence: float,
    answered_by: str,
    at: float,
    not_covered: str | None = None,
    reply: str = "An answer from the guides.",
) -> list[Event]:
    """One turn as Rasa records it: the message with NLU's parse, the action that answered, its
    reply (a "not covered" response when not_covered names its kind), then listening."""
    ranking = [{"name": intent, "confidence": confidence}] + [
        {"name": other, "confidence": round((1 - confidence) / 9, 4)} for other in INTENTS[:9]
    ]
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "text": text,
        "message_id": f"{int(at * 1000):x}",
        "metadata": {},
        "intent_ranking": ranking,
    }
    response = {"utter_action": f"utter_not_covered_{not_covered}"} if not_covered else {}
    return [
        UserUttered(
            text, intent=parse_data["intent"], parse_data=parse_data, timestamp=at,
            input_channel="rest",
        ),
        ActionExecuted(answered_by, policy="RulePolicy", confidence=1.0, timestamp=at + 0.05),
        BotUttered(reply, metadata=response, timestamp=at + 0.06),
        ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0, timestamp=at + 0.07),
    ]  # fmt: skip


def event_row(sender_id: str, event: Event) -> dict:
    """The `events` row Rasa's SQLTrackerStore.save writes for an event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def random_turn(rng: random.Random, at: float) -> list[Event]:
    roll = rng.random()
    if roll < 0.06:
        template, kind = rng.choice(NOT_COVERED)
        text = wording(rng, template)
        return turn_events(text, "ask_role_overview", 0.6, "action_answer_topic", at, kind)
    if roll < 0.12:
        text = wording(rng, rng.choice(UNPLACED))
        return turn_events(text, "nlu_fallback", 0.4, "action_clarify", at)
    intent = rng.choice(INTENTS)
    return turn_events(
        rng.choice(QUESTIONS), intent, round(rng.uniform(0.3, 1.0), 3), "action_answer_topic", at
    )


def seed(tracker_url: str, learner_url: str, messages: int, learners: int, period: Period) -> str:
    """Conversation store and learner database at the URLs (empty); returns one learner's id."""
    from actions.learner_store import ProgressStore, migrate
    from addons.tracker_store import ErasableSQLTrackerStore, connection_settings

    store = ErasableSQLTrackerStore(**connection_settings(tracker_url))
    table = store.SQLEvent.__table__
    with store.engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(table)).scalar_one():
            raise SystemExit(
                f"{printable(tracker_url)} already holds conversations: give an empty one"
            )
    rng = random.Random(21)
    senders = [f"rest:learner-{number}" for number in range(learners)]
    seconds = period.end - period.start
    batch: list[dict] = []
    with store.engine.begin() as connection:
        for number in range(messages):
            sender = senders[number % learners]
            at = period.start + seconds * rng.random()
            batch += [event_row(sender, event) for event in random_turn(rng, at)]
            if len(batch) >= 20_000:
                connection.execute(insert(table), batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
    migrate(learner_url)
    progress = ProgressStore(learner_url)
    keys = [step["key"] for step in path_steps(load_settings().knowledge_dir)]
    for index, sender in enumerate(senders):
        progress.mark_done(sender, keys[: index % (len(keys) + 1)])
    return senders[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=5_000)
    parser.add_argument(
        "--database-url",
        help="an empty database for both stores, e.g. PostgreSQL (default: temporary SQLite)",
    )
    args = parser.parse_args()
    period = Period(date(2026, 10, 1), date(2026, 10, 30))
    key = "bench-key"
    with tempfile.TemporaryDirectory(prefix="bench-report-") as directory:
        tracker_url = args.database_url or f"sqlite:///{Path(directory) / 'conversations.db'}"
        learner_url = args.database_url or f"sqlite:///{Path(directory) / 'learners.db'}"
        started = time.perf_counter()
        someone = seed(tracker_url, learner_url, args.messages, args.learners, period)
        seeded = time.perf_counter() - started
        steps = path_steps(load_settings().knowledge_dir)

        started = time.perf_counter()
        report = build_report(tracker_url, learner_url, period, key, steps)
        built = time.perf_counter() - started
        started = time.perf_counter()
        page = render_report(report, Links("/webhooks/report/"))
        rendered = time.perf_counter() - started
        started = time.perf_counter()
        conversation = find_conversation(tracker_url, learner_hash(someone, key), key)
        looked_up = time.perf_counter() - started

    assert report.messages == args.messages, report.messages
    print(
        f"Seeded {args.messages:,} messages from {args.learners:,} learners "
        f"into {printable(tracker_url).split(':')[0]} in {seeded:.1f} s.\n"
        f"Report over {period.first_day} to {period.last_day}: built in {built:.2f} s, "
        f"rendered in {rendered:.3f} s ({len(page) / 1e3:.0f} kB of HTML); "
        f"total {built + rendered:.2f} s.\n"
        f"  {report.active_learners:,} active learners, {report.not_covered_messages:,} not "
        f"covered in {len(report.not_covered)} groups, {report.clarified_messages:,} clarified in "
        f"{len(report.clarified)} groups.\n"
        f"One conversation ({len(conversation.turns)} turns) looked up by its hash in "
        f"{looked_up:.2f} s.\n"
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
    )


if __name__ == "__main__":
    main()
