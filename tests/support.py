"""Small helpers shared by the tests."""

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from common.db import engine_for


def reply_text(dispatcher: CollectingDispatcher) -> str:
    """Everything the bot said, as one string."""
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


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
