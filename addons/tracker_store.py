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
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event
from sqlalchemy.engine import make_url

from common.settings import load_settings

logger = logging.getLogger(__name__)

ERASE_ACTION = "action_erase_conversation"


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
            # Every message saves the conversation, from every Sanic worker. WAL lets the other
            # worker read meanwhile, and NORMAL skips the per-commit fsync, which took most of a
            # save here; a commit can then be lost only to a power cut, never to a crash. (The
            # learners' progress lives in its own database, with full durability.)
            event.listen(self.engine, "connect", _wal_without_fsync_per_commit)

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
            await super().save(tracker)
            return

        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(
                self.SQLEvent.sender_id == tracker.sender_id
            ).delete(synchronize_session=False)
            session.commit()
        logger.info("Erased the stored conversation of a learner who deleted their data.")
        remaining = DialogueStateTracker.from_events(
            tracker.sender_id, events[erase_at + 1 :], slots=self.domain.slots
        )
        await super().save(remaining)
