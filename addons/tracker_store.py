"""Rasa's SQL tracker store, plus erasing a conversation when the learner deletes their data.

Rasa re-saves every event it holds in memory that the store does not have yet, so deleting a
conversation's rows from the action server would be undone by the next save. The erase therefore
happens here, at save time: when the conversation contains `action_erase_conversation` (run only
after the learner confirmed "delete my data"), every stored event of that sender is deleted and
only what follows the erase is kept.

endpoints.yml:
    tracker_store:
      type: addons.tracker_store.ErasableSQLTrackerStore

Where it stores is TRACKER_DB_URL (common/settings.py; default var/conversations.db), so one
endpoints.yml serves SQLite on one machine and a PostgreSQL shared by replicas. SQLTrackerStore
settings written in endpoints.yml (dialect, db, host, ...) still take precedence, as in Rasa.

The same database keeps the website widget's issued session ids (WidgetSessions), so every
replica recognises them. On start, conversations stored before learner ids carried their channel
(`U0123ABCD`, `web-<id>`, `shell-<user>`, any REST sender) move to the id their channel issues now
(common/learner_ids.prefixed: `slack:U0123ABCD`, ...), and the session ids of widget conversations
are recorded, so each learner keeps their conversation. Ids that already carry a channel are left
alone: it is safe on every start, on every replica.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, event, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from addons.conversation_window import (
    Window,
    began_a_session,
    conversation_windows,
    decode_state,
    encode_state,
    forget_window,
    state_before,
    window_start,
)
from common.db import insert_ignoring_duplicates
from common.learner_ids import WEB, channel_of, prefixed
from common.settings import load_settings

logger = logging.getLogger(__name__)

ERASE_ACTION = "action_erase_conversation"

# How many of a tracker's first events are stored (or are its window's state), noted on the
# tracker when it is loaded and when it is saved: a save then appends the rest without counting
# the stored events again (Rasa's count query and the window's lookup were a tenth of the Rasa
# server's time per message). The lock store keeps a conversation's messages one at a time, so
# nothing else stores events for it meanwhile; a tracker without the note is counted as before.
STORED_EVENTS = "_coach_events_stored"
# Likewise the window the tracker was loaded with: how many events of state it began with, or
# None when it was loaded without a window; a save moves the window without looking it up.
LOADED_WINDOW = "_coach_loaded_window"

# What the widget's server issues: 128 random bits, as 32 lowercase hex digits.
SESSION_ID = re.compile(r"[0-9a-f]{32}")

widget_sessions = Table(
    "widget_sessions",
    MetaData(),
    Column("session_id", String(32), primary_key=True),
    Column("issued_at", Float, nullable=False),
)


class WidgetSessions:
    """Session ids the website widget's server issued. A browser may resume a conversation only
    by an id recorded here, so no one can choose a conversation id, or make one up."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        widget_sessions.metadata.create_all(engine)

    def issue(self) -> str:
        session_id = uuid.uuid4().hex
        with self._engine.begin() as connection:
            record_sessions(connection, [session_id])
        return session_id

    def issued(self, session_id: str) -> bool:
        with self._engine.connect() as connection:
            found = connection.execute(
                select(widget_sessions.c.session_id).where(
                    widget_sessions.c.session_id == session_id
                )
            ).first()
        return found is not None


def record_sessions(connection: Connection, session_ids: list[str]) -> None:
    now = time.time()
    # In batches: SQLite allows a limited number of values in one statement.
    for start in range(0, len(session_ids), 500):
        rows = [{"session_id": own, "issued_at": now} for own in session_ids[start : start + 500]]
        connection.execute(
            insert_ignoring_duplicates(connection.dialect.name, widget_sessions, rows)
        )


def _wal_without_fsync_per_commit(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


CONNECTION_SETTINGS = ("dialect", "host", "port", "db", "username", "password", "query")


def connection_settings(url: str) -> dict[str, Any]:
    """SQLTrackerStore's keyword arguments for a SQLAlchemy database URL."""
    parsed = make_url(url)
    settings = {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }
    return {name: value for name, value in settings.items() if value is not None}


class ErasableSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Rasa passes host=None (endpoints.yml's `url`) even when nothing is set there.
        if all(kwargs.get(name) is None for name in CONNECTION_SETTINGS):
            kwargs.update(connection_settings(load_settings().tracker_db_url))
        if kwargs.get("dialect", "sqlite") == "sqlite" and kwargs.get("db"):
            Path(kwargs["db"]).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a new connection to a SQLite file for every session (NullPool),
            # and so ran the pragmas below again for every load and save; a few stay open instead.
            url = self.engine.url
            self.engine.dispose()
            self.engine = create_engine(
                url, poolclass=QueuePool, connect_args={"check_same_thread": False}
            )
            # Every message saves the conversation, from every Sanic worker. WAL lets the other
            # worker read meanwhile, and NORMAL skips the per-commit fsync, which took most of a
            # save here; a commit can then be lost only to a power cut, never to a crash. (The
            # learners' progress lives in its own database, with full durability.)
            event.listen(self.engine, "connect", _wal_without_fsync_per_commit)
            self.sessionmaker = sessionmaker(bind=self.engine)
        widget_sessions.metadata.create_all(self.engine)
        conversation_windows.metadata.create_all(self.engine)
        self._give_conversations_their_channel()

    def _give_conversations_their_channel(self) -> None:
        events = self.SQLEvent.__table__
        with self.engine.begin() as connection:
            stored = connection.execute(select(events.c.sender_id).distinct()).scalars().all()
            moving = {old: prefixed(old) for old in stored if channel_of(old) is None}
            for old, new in moving.items():
                for table in (events, conversation_windows):
                    connection.execute(
                        update(table).where(table.c.sender_id == old).values(sender_id=new)
                    )
            widget_ids = {
                own
                for channel, _, own in (prefixed(sender).partition(":") for sender in stored)
                if channel == WEB and SESSION_ID.fullmatch(own)
            }
            recorded = connection.execute(select(widget_sessions.c.session_id)).scalars()
            record_sessions(connection, sorted(widget_ids - set(recorded)))
        if moving:
            logger.info(
                "Moved %d conversation(s) stored before learner ids carried their channel to "
                "the ids their channel issues now (common/learner_ids.py).",
                len(moving),
            )

    # The window of recent turns (addons/conversation_window.py).

    def _window(self, session: Session, sender_id: str) -> Window | None:
        row = session.execute(
            select(conversation_windows).where(conversation_windows.c.sender_id == sender_id)
        ).first()
        return Window(row.first_event_id, decode_state(row.state)) if row else None

    def _events_from(self, session: Session, sender_id: str, window: Window):
        """The stored events of the window, as their JSON only (no ORM objects: it is faster)."""
        return (
            session.query(self.SQLEvent.data)
            .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id >= window.first_event_id)
            .order_by(self.SQLEvent.id)
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if not self.domain:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            window = self._window(session, sender_id)
            rows = self._events_from(session, sender_id, window) if window else []
            events = [json.loads(data) for (data,) in rows]
            if window and not events:
                # Its events were deleted by hand: the window must not outlive them.
                forget_window(session, sender_id)
                session.commit()
                window = None
            if window is None:
                # What Rasa loads: the whole session (until it is long enough for a window).
                query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if not events:
            return None
        state = window.state if window else []
        tracker = DialogueStateTracker.from_dict(sender_id, state + events, self.domain.slots)
        setattr(tracker, STORED_EVENTS, len(state) + len(events))
        setattr(tracker, LOADED_WINDOW, len(state) if window else None)
        return tracker

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator:
        """The events of `tracker` not stored yet (Rasa's save stores what this returns)."""
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is not None and stored <= len(tracker.events):
            return itertools.islice(tracker.events, stored, None)
        window = self._window(session, tracker.sender_id)
        if window is None:
            return super()._additional_events(session, tracker)
        stored = self._events_from(session, tracker.sender_id, window).count()
        return itertools.islice(tracker.events, len(window.state) + stored, None)

    def _loaded_window(self, session: Session, tracker: DialogueStateTracker) -> int | None:
        """How many events of the window's state `tracker` was loaded with; None if no window."""
        if hasattr(tracker, LOADED_WINDOW):
            return getattr(tracker, LOADED_WINDOW)
        window = self._window(session, tracker.sender_id)
        return len(window.state) if window else None

    def _move_window(self, session: Session, tracker: DialogueStateTracker) -> None:
        """Move the window's start once the conversation has outgrown it (conversation_window)."""
        events = list(tracker.events)
        loaded_window = self._loaded_window(session, tracker)
        loaded_state = loaded_window or 0
        start = window_start(events, loaded_state)
        new_session = loaded_window is not None and began_a_session(events, loaded_state)
        if start is None and not new_session:
            return
        forget_window(session, tracker.sender_id)
        # The tracker in memory no longer matches the stored window: a later save looks it up.
        if hasattr(tracker, LOADED_WINDOW):
            delattr(tracker, LOADED_WINDOW)
        if start is None:
            return
        # Every event from the loaded state on is stored now, the newest last, and the lock store
        # keeps any other message of this conversation out meanwhile.
        newest = (
            session.query(self.SQLEvent.id)
            .filter(self.SQLEvent.sender_id == tracker.sender_id)
            .order_by(self.SQLEvent.id.desc())
            .limit(len(events) - start)
            .all()
        )
        state = state_before(tracker.sender_id, events, start, list(self.domain.slots))
        session.execute(
            conversation_windows.insert().values(
                sender_id=tracker.sender_id,
                first_event_id=newest[-1].id,
                state=encode_state(state),
            )
        )

    def _append(self, session: Session, tracker: DialogueStateTracker) -> None:
        """Store the events of `tracker` not stored yet: the rows Rasa's save writes, in one
        INSERT rather than one ORM object each (the ORM's bookkeeping was most of a save)."""
        rows = []
        for new_event in self._additional_events(session, tracker):
            data = new_event.as_dict()
            rows.append(
                {
                    "sender_id": tracker.sender_id,
                    "type_name": new_event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
        if rows:
            session.execute(self.SQLEvent.__table__.insert(), rows)

    async def save(self, tracker: DialogueStateTracker) -> None:
        events = list(tracker.events)
        erase_at = max(
            (
                index
                for index, event in enumerate(events)
                if isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION
            ),
            default=None,
        )
        if erase_at is None:
            await self.stream_events(tracker)  # as Rasa's save: to the event broker, if any
            # The new events and the window's move commit together: one transaction a message.
            with self.session_scope() as session:
                self._append(session, tracker)
                if self.domain:
                    self._move_window(session, tracker)
                session.commit()
            setattr(tracker, STORED_EVENTS, len(events))
            return

        # What this tracker held is no longer what is stored: a later save counts again.
        for note in (STORED_EVENTS, LOADED_WINDOW):
            if hasattr(tracker, note):
                delattr(tracker, note)

        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(
                self.SQLEvent.sender_id == tracker.sender_id
            ).delete(synchronize_session=False)
            forget_window(session, tracker.sender_id)
            session.commit()
        logger.info("Erased the stored conversation of a learner who deleted their data.")
        remaining = DialogueStateTracker.from_events(
            tracker.sender_id, events[erase_at + 1 :], slots=self.domain.slots
        )
        await self.save(remaining)  # holds no erase: stored as any other conversation
