"""Small helpers shared by the tests."""

from rasa_sdk.executor import CollectingDispatcher


def reply_text(dispatcher: CollectingDispatcher) -> str:
    """Everything the bot said, as one string."""
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def slot_events(events: list) -> dict:
    """The slots an action set, as {name: value}."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
