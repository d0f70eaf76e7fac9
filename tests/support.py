"""Small helpers shared by the tests: what the bot said, fresh learners, the career path as the
knowledge base defines it (so that a step added to knowledge/path.yml changes no test)."""

import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from actions.kb_loader import read_knowledge
from common.db import engine_for
from scripts.local_servers import DEFAULT_MODEL
from tests.conftest import KNOWLEDGE_DIR

needs_model = pytest.mark.skipif(
    not DEFAULT_MODEL.exists(), reason="needs a trained model: make train"
)

PATH_STEPS = read_knowledge(KNOWLEDGE_DIR).steps


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


def text_of(messages: list[dict]) -> str:
    """The text of the bot's messages (REST replies, Slack posts, an action's), as one string."""
    return "\n".join(message.get("text") or "" for message in messages)


def reply_text(dispatcher: CollectingDispatcher) -> str:
    """Everything an action said, as one string."""
    return text_of(dispatcher.messages)


def slot_events(events: list) -> dict:
    """The slots an action set, as {name: value}."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def refuse_writes(url: str, operation: str, table: str) -> None:
    """Make the SQLite database at `url` refuse every `operation` ("INSERT", "DELETE") on `table`
    with an OperationalError, as a database still locked after the busy timeout does. (The
    trigger reads a table that does not exist.)"""
    with engine_for(url).begin() as connection:
        connection.execute(
            text(
                f"CREATE TRIGGER refuse_{operation.lower()}_{table} BEFORE {operation} ON {table}"
                " BEGIN SELECT * FROM refused; END"
            )
        )
