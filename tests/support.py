"""Small helpers shared by the tests: what the bot said, fresh learners, the career path as the
knowledge base defines it (so that a step added to knowledge/path.yml changes no test)."""

import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from rasa.core.nlg.interpolator import interpolate_text
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from actions.kb_loader import read_knowledge
from common.db import engine_for
from common.learner_ids import learner_id
from common.settings import PROJECT_ROOT
from tests.conftest import KNOWLEDGE_DIR

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
# What rasa_sdk's CollectingDispatcher puts in every message; anything else is a template value.
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image"}
_MESSAGE_KEYS |= {"attachment"}

KNOWLEDGE = read_knowledge(KNOWLEDGE_DIR)
PATH_STEPS = KNOWLEDGE.steps


def fact_text(fact_id: str) -> str:
    """A knowledge-base fact's text, as an answer that leads with it begins."""
    facts = [
        fact
        for topic in KNOWLEDGE.topics
        for fact in (topic.get("facts") or []) + (topic.get("more") or [])
    ]
    [text] = [fact["text"] for fact in facts if fact.get("id") == fact_id]
    return text


# "what certifications should I get?" and its wordings: answered first with this fact.
CERTIFICATIONS_ANSWER = fact_text("certifications.ccrp_chom_enhance")


def step_title(key: str) -> str:
    """The title of the career-path step `key`, as the assistant names the milestone."""
    [title] = [step["title"] for step in PATH_STEPS if step["key"] == key]
    return title


def progress_summary(done: int) -> str:
    """How the assistant sums up a learner's progress: "3 of 10 milestones (30%)", out of every
    step on the career path."""
    total = len(PATH_STEPS)
    return f"{done} of {total} milestones ({round(100 * done / total)}%)"


def new_sender(name: str = "learner") -> str:
    """A learner no earlier test or run has met: the servers' databases outlive a test."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def text_of(messages: Iterable[dict]) -> str:
    """The text of the bot's messages (REST replies, Slack posts, an action's), as one string."""
    return "\n".join(message.get("text") or "" for message in messages)


def rendered(message: dict, channel: str | None = None) -> dict:
    """A message as the Rasa server sends it on: a response an action named is filled in from
    domain.yml with the values the action gave (the channel's variation, else the first
    general one), and its buttons come before the action's own."""
    name = message.get("response")
    if not name:
        return message
    variations = RESPONSES[name]
    chosen = next((v for v in variations if channel and v.get("channel") == channel), None)
    chosen = chosen or next(v for v in variations if not v.get("channel"))
    values = {key: value for key, value in message.items() if key not in _MESSAGE_KEYS}
    return {
        "text": interpolate_text(chosen["text"], values),
        "buttons": list(chosen.get("buttons") or []) + list(message.get("buttons") or []),
    }


def reply_text(dispatcher: CollectingDispatcher) -> str:
    """Everything an action said, as the learner reads it, as one string."""
    return text_of(rendered(message) for message in dispatcher.messages)


def reply_buttons(dispatcher: CollectingDispatcher) -> list[dict]:
    """Every button an action offered, as the learner sees them."""
    return [button for m in dispatcher.messages for button in rendered(m).get("buttons") or []]


def slot_events(events: list) -> dict:
    """The slots an action set, as {name: value}."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def refuse_writes(url: str, operation: str, table: str) -> None:
    """Make the SQLite database at `url` refuse every `operation` ("INSERT", "DELETE") on `table`
    with an OperationalError, as a database still locked at a write's deadline does. (The
    trigger reads a table that does not exist.)"""
    with engine_for(url).begin() as connection:
        connection.execute(
            text(
                f"CREATE TRIGGER refuse_{operation.lower()}_{table} BEFORE {operation} ON {table}"
                " BEGIN SELECT * FROM refused; END"
            )
        )


@contextmanager
def write_locked(url: str) -> Iterator[None]:
    """Another connection holds the write lock of the learner database at `url` for the block, as
    another process's long transaction would: on SQLite the database's (BEGIN IMMEDIATE), on
    PostgreSQL the learner tables' (reads go on)."""
    with engine_for(url).connect() as holder:
        if holder.dialect.name == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            holder.begin()
            holder.execute(text("LOCK TABLE learners, learner_milestones IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            holder.rollback()


def responses_sent(dispatcher: CollectingDispatcher) -> list[str]:
    """The domain responses an action sent, by name, in order."""
    return [message["response"] for message in dispatcher.messages if message.get("response")]


def conversation_rows(conversations_db: Path, learner: str) -> list[tuple]:
    """Every event the conversation store (a SQLite file) holds for a learner id, as stored."""
    with sqlite3.connect(conversations_db) as db:
        query = "SELECT * FROM events WHERE sender_id = ? ORDER BY id"
        return db.execute(query, (learner,)).fetchall()


def stored_milestones(work_dir: Path, sender: str) -> set[str]:
    """The milestones the learner database in `work_dir` holds for a REST sender."""
    with sqlite3.connect(work_dir / "learners.db") as db:
        rows = db.execute(
            "SELECT milestone FROM learner_milestones WHERE sender_id = ?",
            (learner_id("rest", sender),),
        ).fetchall()
    return {milestone for (milestone,) in rows}


def learner_rows(learners_db: Path, learner: str) -> list[list[tuple]]:
    """What the learner database (a SQLite file) holds for a learner id: profile, milestones."""
    with sqlite3.connect(learners_db) as db:
        return [
            db.execute(query, (learner,)).fetchall()
            for query in (
                "SELECT * FROM learners WHERE sender_id = ?",
                "SELECT * FROM learner_milestones WHERE sender_id = ? ORDER BY milestone",
            )
        ]
