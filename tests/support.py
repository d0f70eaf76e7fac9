"""Small helpers shared by the tests."""

import yaml
from rasa.core.nlg.interpolator import interpolate_text
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from common.db import engine_for
from common.settings import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
# What rasa_sdk's CollectingDispatcher puts in every message; anything else is a template value.
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image"}
_MESSAGE_KEYS |= {"attachment"}


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
    return "\n".join(rendered(message).get("text") or "" for message in dispatcher.messages)


def reply_buttons(dispatcher: CollectingDispatcher) -> list[dict]:
    """Every button an action offered, as the learner sees them."""
    return [button for m in dispatcher.messages for button in rendered(m).get("buttons") or []]


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


def responses_sent(dispatcher: CollectingDispatcher) -> list[str]:
    """The domain responses an action sent, by name, in order."""
    return [message["response"] for message in dispatcher.messages if message.get("response")]
