"""make move-to-postgres: copy learners and conversation history from the SQLite files into the
PostgreSQL databases LEARNER_DB_URL and TRACKER_DB_URL name (README, "Running on PostgreSQL and
Redis"). Stop the assistant first, so that nothing is written meanwhile.

    LEARNER_DB_URL=postgresql://... TRACKER_DB_URL=postgresql://... make move-to-postgres
    python -m scripts.move_to_postgres --to-learners URL --to-conversations URL [--from-... FILE]

Creates the schema where it is missing (the learner database through its migrations, the
conversations table as Rasa defines it). Copies only what the target lacks, so it can be run
again at any time: a second run copies nothing. Then checks that every source row is in the
target, prints the counts, and exits 1 if anything is missing or differs. The SQLite files are
left as they were (apart from being brought to the latest learner schema, as a start would).
The knowledge base is not copied: the action server rebuilds it from knowledge/ on start.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.engine import Connection

from actions.learner_store import migrate
from common.db import engine_for, insert_ignoring_duplicates, printable, without_time_limits
from common.learner_schema import Goal, GoalChange, Learner, MilestoneDone
from common.settings import PROJECT_ROOT, load_settings

BATCH = 1000


@dataclass
class Count:
    table: str
    source: int = 0  # rows in SQLite
    already_there: int = 0  # of these, found in PostgreSQL before this run
    copied: int = 0  # copied by this run
    found: int = 0  # of the source rows, in PostgreSQL after this run
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.found == self.source and not self.problem


def copy_learners(source_url: str, target_url: str) -> list[Count]:
    """The learner tables. Profiles and milestones row by row on their primary keys; a row
    already there is kept (it can only be newer: the learner talked to the new setup). Goals by
    what they are (copy_goals): their ids are each database's own."""
    for url in (source_url, target_url):
        migrate(url)  # same schema on both sides; creates the target's tables
    counts = []
    for model in (Learner, MilestoneDone):  # parents first: the foreign key
        table = model.__table__
        key = list(table.primary_key.columns)
        count = Count(table.name)
        with engine_for(source_url).connect() as source:
            rows = [dict(row) for row in source.execute(select(table)).mappings()]
        count.source = len(rows)
        with engine_for(target_url).begin() as target:
            without_time_limits(target)  # batches of rows, not a learner's short write
            before = _keys(target, table, key)
            count.already_there = sum(_key(row, key) in before for row in rows)
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                result = target.execute(
                    insert_ignoring_duplicates(target.dialect.name, table, batch)
                )
                count.copied += result.rowcount
        with engine_for(target_url).connect() as target:
            after = _keys(target, table, key)
        count.found = sum(_key(row, key) in after for row in rows)
        counts.append(count)
    return counts + copy_goals(source_url, target_url)


def copy_goals(source_url: str, target_url: str) -> list[Count]:
    """Goals and their history. A goal's id is its database's own (PostgreSQL may already hold
    other learners' goals under the same numbers), so a goal is matched by its learner, words and
    creation time; one the target lacks gets a new id there, and its history follows it."""
    goals, changes = Goal.__table__, GoalChange.__table__
    goal_count, change_count = Count(goals.name), Count(changes.name)
    with engine_for(source_url).connect() as source:
        rows = [dict(row) for row in source.execute(select(goals)).mappings()]
        history: dict[int, list[dict]] = {}
        for change in source.execute(select(changes).order_by(changes.c.id)).mappings():
            history.setdefault(change["goal_id"], []).append(dict(change))
    goal_count.source = len(rows)
    change_count.source = sum(len(changed) for changed in history.values())
    with engine_for(target_url).begin() as target:
        without_time_limits(target)
        for row in rows:
            changed = history.get(row["id"], [])
            if _goal_in(target, row) is not None:
                goal_count.already_there += 1
                change_count.already_there += len(changed)
                continue
            new_id = target.execute(
                goals.insert().values({k: v for k, v in row.items() if k != "id"})
            ).inserted_primary_key[0]
            for change in changed:
                values = {k: v for k, v in change.items() if k != "id"}
                target.execute(changes.insert().values({**values, "goal_id": new_id}))
            goal_count.copied += 1
            change_count.copied += len(changed)
    with engine_for(target_url).connect() as target:
        for row in rows:
            there = _goal_in(target, row)
            if there is not None:
                goal_count.found += 1
                stored = target.execute(
                    select(func.count()).select_from(changes).where(changes.c.goal_id == there)
                ).scalar_one()
                change_count.found += min(stored, len(history.get(row["id"], [])))
    return [goal_count, change_count]


def _goal_in(connection: Connection, row: dict) -> int | None:
    goals = Goal.__table__
    return connection.execute(
        select(goals.c.id).where(
            goals.c.sender_id == row["sender_id"],
            goals.c.title == row["title"],
            goals.c.created_at == row["created_at"],
        )
    ).scalar()


def _keys(connection: Connection, table, key) -> set[tuple]:
    return {tuple(row) for row in connection.execute(select(*key))}


def _key(row: dict, key) -> tuple:
    return tuple(row[column.name] for column in key)


EVENT_FIELDS = ("type_name", "timestamp", "intent_name", "action_name", "data")


def copy_conversations(source_url: str, target_url: str) -> Count:
    """Rasa's events table, conversation by conversation in one transaction each: a conversation
    is in the target completely or not at all, in its order (Rasa reads events by id). One the
    target already holds (perhaps continued since) is left alone; one that holds the start of it
    gets the rest; one whose stored events differ from the source's is reported, not touched."""
    from rasa.core.tracker_store import SQLTrackerStore  # Rasa's own table definition

    table = SQLTrackerStore.SQLEvent.__table__
    table.metadata.create_all(engine_for(target_url), tables=[table])
    count = Count("events (conversations)")
    source_engine = engine_for(source_url)
    if not inspect(source_engine).has_table("events"):
        return count
    source_tables = MetaData()  # as the file has it, whichever Rasa wrote it
    source_tables.reflect(source_engine, only=["events"])
    events = source_tables.tables["events"]
    with source_engine.connect() as source:
        senders = list(source.execute(select(events.c.sender_id).distinct()).scalars())
    conflicts = []
    for sender in senders:
        with source_engine.connect() as source:
            rows = _events_of(source, events, sender)
        count.source += len(rows)
        with engine_for(target_url).begin() as target:
            without_time_limits(target)  # batches of rows, not a learner's short write
            stored = _events_of(target, table, sender)
            if stored[: len(rows)] == rows:  # moved before (and maybe continued since)
                count.already_there += len(rows)
            elif stored == rows[: len(stored)]:  # not there, or only its start
                count.already_there += len(stored)
                missing = [{"sender_id": sender, **row} for row in rows[len(stored) :]]
                for start in range(0, len(missing), BATCH):
                    target.execute(table.insert().values(missing[start : start + BATCH]))
                count.copied += len(missing)
            else:
                conflicts.append(sender)
                continue
        with engine_for(target_url).connect() as target:
            if _events_of(target, table, sender)[: len(rows)] == rows:
                count.found += len(rows)
    if conflicts:
        count.problem = (
            f"{len(conflicts)} conversation(s) already in PostgreSQL with other events, left as"
            f" they are: {', '.join(conflicts[:5])}{' ...' if len(conflicts) > 5 else ''}"
        )
    return count


def _events_of(connection: Connection, table, sender: str) -> list[dict]:
    return [
        dict(row)
        for row in connection.execute(
            select(*(table.c[name] for name in EVENT_FIELDS))
            .where(table.c.sender_id == sender)
            .order_by(table.c.id)
        ).mappings()
    ]


def table_of_counts(counts: list[Count]) -> str:
    lines = [
        f"{'table':<24} {'in SQLite':>10} {'already there':>14} {'copied':>8} {'in PostgreSQL':>14}"
    ]
    for c in counts:
        mark = "" if c.ok else "   MISMATCH"
        lines.append(
            f"{c.table:<24} {c.source:>10} {c.already_there:>14} {c.copied:>8} {c.found:>14}{mark}"
        )
    lines += [f"{c.table}: {c.problem}" for c in counts if c.problem]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    var_dir = Path(os.environ.get("COACH_VAR_DIR", PROJECT_ROOT / "var"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from-learners", default=str(var_dir / "learners.db"), metavar="FILE")
    parser.add_argument(
        "--from-conversations", default=str(var_dir / "conversations.db"), metavar="FILE"
    )
    parser.add_argument("--to-learners", default=settings.learner_db_url, metavar="URL")
    parser.add_argument("--to-conversations", default=settings.tracker_db_url, metavar="URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    for option, url in (("learners", args.to_learners), ("conversations", args.to_conversations)):
        if not url.startswith("postgresql"):
            print(
                f"The {option} target is not PostgreSQL ({printable(url)}): set LEARNER_DB_URL"
                " and TRACKER_DB_URL (or --to-learners, --to-conversations).",
                file=sys.stderr,
            )
            return 2
    counts = []
    for kind, path in (("learner", args.from_learners), ("conversation", args.from_conversations)):
        if not Path(path).exists():
            print(f"No {kind} database at {path}: nothing of it to move.")
    if Path(args.from_learners).exists():
        counts += copy_learners(f"sqlite:///{args.from_learners}", args.to_learners)
    if Path(args.from_conversations).exists():
        counts.append(
            copy_conversations(f"sqlite:///{args.from_conversations}", args.to_conversations)
        )
    print(
        f"Into {printable(args.to_learners)} (learners)"
        f" and {printable(args.to_conversations)} (conversations):"
    )
    print(table_of_counts(counts))
    if all(count.ok for count in counts):
        print("Everything is in PostgreSQL. Start the assistant with these variables set.")
        return 0
    print("Not everything arrived (see above): the SQLite files are unchanged.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
