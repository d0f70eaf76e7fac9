"""Bounded work per message: the tracker store loads a window of recent turns, not the session.

Rasa's SQL tracker store loads every event of the current session on every message, replays it,
and the policies featurize it and the whole of it goes to the action server with each custom
action; a session only ends after 60 minutes of silence, so a learner who keeps talking made every
message slower (92 ms for messages 1-50, 677 ms for 351-400; docs/measurements.md).

Nothing this assistant decides reaches that far back: the policies look at the last few turns
(MemoizationPolicy's max_history is 5, the rules are a few turns long), the actions read slots and
the latest turn. So the store keeps, per conversation, where its window starts (the id of a stored
event at a turn boundary) and the state just before it, written as the events that recreate it
(one SlotSet per set slot, the active form). A tracker is loaded as that state plus the events
from the window's start, so the tracker ends in exactly the state the whole session would give.
The window holds between KEPT_TURNS and MOVE_AFTER_TURNS user turns: it moves once every
MOVE_AFTER_TURNS - KEPT_TURNS messages, so its cost is spread thin.

Every event is still stored: the window only decides what is loaded. "Export my data" reads the
learner database, and erasing a conversation (addons/tracker_store.py) drops its window too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete
from sqlalchemy.orm import Session

# Twice MemoizationPolicy's max_history (5) and longer than any rule in data/rules/.
KEPT_TURNS = 10
MOVE_AFTER_TURNS = 20

conversation_windows = Table(
    "conversation_windows",
    MetaData(),
    Column("sender_id", String(255), primary_key=True),
    Column("first_event_id", Integer, nullable=False),
    Column("state", Text, nullable=False),  # JSON: the events that recreate the state before it
)


@dataclass(frozen=True)
class Window:
    first_event_id: int
    state: list[dict[str, Any]]


def window_start(events: list[Event], loaded_state: int) -> int | None:
    """Where the window should start now, as an index into `events`, or None to leave it.

    `events` is the tracker as loaded and extended by this message; its first `loaded_state`
    events are the state the window was loaded with. The start is the action_listen before the
    KEPT_TURNS-th last user message of the latest session.
    """
    session_started = max(
        (i for i, e in enumerate(events) if isinstance(e, SessionStarted)), default=-1
    )
    first = max(loaded_state, session_started + 1)
    user_turns = [i for i in range(first, len(events)) if isinstance(events[i], UserUttered)]
    if len(user_turns) <= MOVE_AFTER_TURNS:
        return None
    start = user_turns[-KEPT_TURNS]
    before = events[start - 1]
    if isinstance(before, ActionExecuted) and before.action_name == ACTION_LISTEN_NAME:
        start -= 1
    return start


def began_a_session(events: list[Event], loaded_state: int) -> bool:
    """Whether a session started after the window's start: Rasa then loads only that session."""
    return any(isinstance(event, SessionStarted) for event in events[loaded_state:])


def state_before(
    sender_id: str, events: list[Event], start: int, slots: list[Slot]
) -> list[dict[str, Any]]:
    """The events that recreate the tracker's state just before `events[start]`."""
    tracker = DialogueStateTracker.from_events(sender_id, events[:start], slots=slots)
    state: list[Event] = [
        SlotSet(slot.name, slot.value)
        for slot in tracker.slots.values()
        if slot.value != slot.initial_value
    ]
    if tracker.active_loop_name:
        state.append(ActiveLoop(tracker.active_loop_name))
        if tracker.is_active_loop_rejected:
            state.append(ActionExecutionRejected(tracker.active_loop_name))
    if tracker.is_paused():
        state.append(ConversationPaused())
    return [event.as_dict() for event in state]


def forget_window(session: Session, sender_id: str) -> None:
    session.execute(
        delete(conversation_windows).where(conversation_windows.c.sender_id == sender_id)
    )


def encode_state(state: list[dict[str, Any]]) -> str:
    return json.dumps(state)


def decode_state(text: str) -> list[dict[str, Any]]:
    return json.loads(text)
