"""Slack replies posted apart from answering the message, and Slack's events answered once.

Rasa's Slack channel posts each reply while it handles the message, inside the learner's
conversation lock and before the conversation is saved: with Slack's API unreachable the
handling failed (the conversation unsaved, a reported milestone's turn lost), and a hanging API
held the learner's conversation for 30 s. Here handling a message only writes its replies into
the outbox, a table in SLACK_DELIVERIES_DB_URL, and a sender in every Rasa server process posts
them:

- in order per Slack channel: a channel's next reply waits until the one before it is posted
  (or given up);
- once, whichever workers and replicas share the database: a process claims a reply in one
  UPDATE (`claimed_until`) before posting it, and deletes it once Slack took it. (A process
  killed between Slack's answer and the delete posts it again after the claim runs out: Slack
  has no idempotency key to prevent that.)
- with back-off while Slack cannot be reached, hangs, or answers 429/5xx: 1 s, 2 s, 4 s ... at
  most 30 s apart. Attempts and the next attempt's time are stored, so a restart carries on. A
  reply is given up (logged) after 24 h, or at once when Slack refuses it for good
  (`channel_not_found`, ...), so one bad reply cannot block a channel.

A turn's replies are written as the turn makes them, in order and inside the conversation lock
(so two turns of one learner cannot interleave), but held under the turn's token: they are
posted only once the turn is stored (`answered`), and dropped if it failed (`failed`).

The same database remembers Slack's events (`slack_events`): an event is "processing" from its
first delivery until its turn is stored, then "answered" for an hour (Slack retries within
minutes). A failed turn forgets its event, so Slack's retry of it is handled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
    text,
    update,
)

from common.db import engine_for, insert_ignoring_duplicates

logger = logging.getLogger(__name__)

# Slack retries an event within minutes (at once, after 1 and after 5 minutes): an hour of
# memory covers every retry.
EVENT_MEMORY_SECONDS = 3600
# No turn takes this long (the conversation lock lives 60 s, each action call is cut at 3 s), so
# a turn still unfinished after it died with its process: its event can be handled again (Slack's
# last retry comes after it) and its held replies are dropped.
TURN_LIMIT_SECONDS = 300

POST_TIMEOUT_SECONDS = 10  # one chat.postMessage call; Slack answers in well under a second
CLAIM_SECONDS = 60  # longer than a post can take
FIRST_RETRY_SECONDS = 1
MAX_RETRY_SECONDS = 30  # once Slack is back, a learner waits at most this long for the replies
GIVE_UP_SECONDS = 24 * 3600
POLL_SECONDS = 1  # how often a sender looks for replies due again, or left by another process
# Slack's errors worth trying again; any other error in an answer is final for that reply.
PASSING_SLACK_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}

metadata = MetaData()
events_table = Table(
    "slack_events",
    metadata,
    Column("key", String(255), primary_key=True),  # Slack's event id, or a click's trigger id
    Column("state", String(16), nullable=False),
    Column("since", Float, nullable=False, index=True),
)
outbox_table = Table(
    "slack_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the order of posting
    Column("channel", String(255), nullable=False),
    Column("message", Text, nullable=False),  # chat.postMessage's other arguments, as JSON
    Column("turn", String(32), nullable=True),  # set while the turn that made it is unfinished
    Column("created_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_until", Float, nullable=False),
    Index("slack_outbox_channel_order", "channel", "id"),
)


class EventState(Enum):
    NEW = "new"  # first seen now (or its earlier handling failed or died): handle it
    PROCESSING = "processing"  # its first delivery is being handled
    ANSWERED = "answered"  # its turn is stored


@dataclass(frozen=True)
class Reply:
    channel: str  # the Slack channel (or user, for their direct messages) to post to
    message: dict[str, Any]  # chat.postMessage's other arguments: text, blocks, thread_ts ...


@dataclass(frozen=True)
class Claimed:
    id: int
    reply: Reply
    attempts: int
    created_at: float


class SlackOutbox:
    """The outbox and the events, in one database every worker and replica shares. Its async
    methods run the database work in a thread: the event loop never waits on the database."""

    def __init__(self, db_url: str) -> None:
        self._engine = engine_for(db_url)
        with self._engine.begin() as connection:
            # Answered events were kept there before the outbox; nothing in it is needed now.
            connection.execute(text("DROP TABLE IF EXISTS slack_deliveries"))
            metadata.create_all(connection)
        # Sanic forks its workers after this: each opens connections of its own.
        self._engine.dispose()
        self.on_ready: Callable[[], None] = lambda: None  # replies can be posted: wake a sender

    # --- the channel's side --------------------------------------------------------------------
    async def begin_event(self, key: str) -> EventState:
        return await asyncio.to_thread(self._begin_event, key, time.time())

    async def add(self, reply: Reply, turn: str | None) -> None:
        """A reply to post; with a turn, held until that turn is `answered`."""
        await asyncio.to_thread(self._add, reply, turn, time.time())
        if turn is None:
            self.on_ready()

    async def answered(self, turn: str, event_key: str | None) -> None:
        """The turn is stored: its replies can be posted, and its event is answered."""
        await asyncio.to_thread(self._answered, turn, event_key, time.time())
        self.on_ready()

    async def failed(self, turn: str, event_key: str | None, apology: Reply) -> None:
        """The turn was not stored: its replies are dropped, the apology is posted instead, and
        its event is forgotten, so that Slack's retry of it is handled."""
        await asyncio.to_thread(self._failed, turn, event_key, apology, time.time())
        self.on_ready()

    def _begin_event(self, key: str, now: float) -> EventState:
        table = events_table
        processing = EventState.PROCESSING.value
        with self._engine.begin() as connection:
            connection.execute(delete(table).where(table.c.since < now - EVENT_MEMORY_SECONDS))
            row = {"key": key, "state": processing, "since": now}
            dialect = self._engine.dialect.name
            if connection.execute(insert_ignoring_duplicates(dialect, table, row)).rowcount:
                return EventState.NEW
            abandoned = connection.execute(
                update(table)
                .where(table.c.key == key, table.c.state == processing)
                .where(table.c.since < now - TURN_LIMIT_SECONDS)
                .values(since=now)
            )
            if abandoned.rowcount:
                return EventState.NEW
            state = connection.execute(select(table.c.state).where(table.c.key == key)).scalar()
        return EventState(state)

    def _add(self, reply: Reply, turn: str | None, now: float) -> None:
        with self._engine.begin() as connection:
            connection.execute(outbox_table.insert().values(self._row(reply, turn, now)))

    def _answered(self, turn: str, event_key: str | None, now: float) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox_table).where(outbox_table.c.turn == turn).values(turn=None)
            )
            if event_key:
                connection.execute(
                    update(events_table)
                    .where(events_table.c.key == event_key)
                    .values(state=EventState.ANSWERED.value, since=now)
                )

    def _failed(self, turn: str, event_key: str | None, apology: Reply, now: float) -> None:
        # First, on its own: whatever happens to the apology, Slack's retry will be handled.
        with self._engine.begin() as connection:
            connection.execute(delete(outbox_table).where(outbox_table.c.turn == turn))
            if event_key:
                connection.execute(delete(events_table).where(events_table.c.key == event_key))
        self._add(apology, None, now)

    @staticmethod
    def _row(reply: Reply, turn: str | None, now: float) -> dict[str, Any]:
        return {
            "channel": reply.channel,
            "message": json.dumps(reply.message),
            "turn": turn,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_until": 0.0,
        }

    # --- the sender's side ---------------------------------------------------------------------
    def channels_due(self, now: float, limit: int = 100) -> list[str]:
        """Channels with a reply that may be due (claim_next decides)."""
        table = outbox_table
        ready = (table.c.turn.is_(None)) & (table.c.next_attempt_at <= now)
        abandoned = table.c.turn.is_not(None) & (table.c.created_at < now - TURN_LIMIT_SECONDS)
        query = (
            select(table.c.channel)
            .where(ready | abandoned, table.c.claimed_until < now)
            .distinct()
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def claim_next(self, channel: str, now: float) -> Claimed | None:
        """The channel's next reply, claimed for this process; None when it is not due yet, is
        held by an unfinished turn, or another process has it."""
        table = outbox_table
        with self._engine.connect() as connection:
            head = connection.execute(
                select(table).where(table.c.channel == channel).order_by(table.c.id).limit(1)
            ).first()
        if head is None:
            return None
        if head.turn is not None:
            if head.created_at < now - TURN_LIMIT_SECONDS:
                self._drop_abandoned_turn(head.turn, now)
                return self.claim_next(channel, now)
            return None
        # One UPDATE checks and claims: of processes racing for it, one changes the row.
        with self._engine.begin() as connection:
            claimed = connection.execute(
                update(table)
                .where(table.c.id == head.id, table.c.claimed_until < now)
                .where(table.c.next_attempt_at <= now)
                .values(claimed_until=now + CLAIM_SECONDS)
            ).rowcount
        if not claimed:
            return None
        reply = Reply(head.channel, json.loads(head.message))
        return Claimed(head.id, reply, head.attempts, head.created_at)

    def _drop_abandoned_turn(self, turn: str, now: float) -> None:
        table = outbox_table
        with self._engine.begin() as connection:
            dropped = connection.execute(
                delete(table).where(
                    table.c.turn == turn, table.c.created_at < now - TURN_LIMIT_SECONDS
                )
            ).rowcount
        if dropped:
            logger.warning(
                "Dropped %d Slack replies of a turn that never finished (its process died).",
                dropped,
            )

    def remove(self, claimed: Claimed) -> None:
        """The reply was posted, or given up."""
        with self._engine.begin() as connection:
            connection.execute(delete(outbox_table).where(outbox_table.c.id == claimed.id))

    def retry_later(self, claimed: Claimed, at: float) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox_table)
                .where(outbox_table.c.id == claimed.id)
                .values(attempts=claimed.attempts + 1, next_attempt_at=at, claimed_until=0.0)
            )

    def unclaim(self, claimed: Claimed) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox_table)
                .where(outbox_table.c.id == claimed.id)
                .values(claimed_until=0.0)
            )


def retry_delay(attempts: int, error: Exception) -> float:
    """How long to wait before the next attempt, after `attempts` failed ones (this included)."""
    delay = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    if isinstance(error, SlackApiError) and error.response.status_code == 429:
        retry_after = error.response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            delay = max(delay, float(retry_after))
    return delay


def final_refusal(error: Exception) -> str | None:
    """Slack's reason when it refused a reply for good (trying again would be refused too)."""
    if isinstance(error, SlackApiError) and error.response.status_code == 200:
        reason = error.response.get("error")
        if reason not in PASSING_SLACK_ERRORS:
            return str(reason)
    return None


class SlackSender:
    """Posts the outbox's replies to Slack, in this process, until stopped. It holds no
    conversation lock: a slow or unreachable Slack delays replies, never a conversation."""

    def __init__(
        self, outbox: SlackOutbox, token: str, api_url: str, proxy: str | None = None
    ) -> None:
        self.outbox = outbox
        # One try per call (no retry_handlers): the outbox's back-off is the only retry, and
        # each attempt is counted and stored.
        self.client = AsyncWebClient(
            token, base_url=api_url, proxy=proxy, timeout=POST_TIMEOUT_SECONDS, retry_handlers=[]
        )
        self._draining: dict[str, asyncio.Task] = {}  # channel -> the task posting its replies
        self._posting: set[asyncio.Task] = set()
        self._main: asyncio.Task | None = None
        self._woken = asyncio.Event()
        self._stopping = False
        outbox.on_ready = self.wake

    def start(self) -> None:
        """Starts sending, on the running event loop."""
        self._stopping = False
        self._woken = asyncio.Event()
        self._main = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stops sending. A post under way is cut short and its reply released, for the next
        start (or another process) to post."""
        self._stopping = True
        for task in [self._main, *self._posting]:
            if task:
                task.cancel()
        await asyncio.gather(
            *[task for task in [self._main, *self._draining.values()] if task],
            return_exceptions=True,
        )
        self._main = None

    def wake(self) -> None:
        self._woken.set()

    async def _run(self) -> None:
        while True:
            self._woken.clear()
            try:
                channels = await asyncio.to_thread(self.outbox.channels_due, time.time())
            except Exception:  # e.g. the database unreachable: try again at the next poll
                logger.exception("Could not read the Slack outbox.")
                channels = []
            for channel in channels:
                if channel not in self._draining:
                    self._draining[channel] = asyncio.create_task(self._drain(channel))
            try:
                await asyncio.wait_for(self._woken.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass

    async def _drain(self, channel: str) -> None:
        """Posts the channel's due replies one after the other. Channels are drained side by
        side, so a post hanging in one delays no other."""
        try:
            while claimed := await asyncio.to_thread(self.outbox.claim_next, channel, time.time()):
                if self._stopping:
                    await asyncio.to_thread(self.outbox.unclaim, claimed)
                    return
                post = asyncio.create_task(self._post(claimed))
                self._posting.add(post)
                post.add_done_callback(self._posting.discard)
                await post
        except Exception:
            logger.exception("Could not post from the Slack outbox to %s.", channel)
        finally:
            self._draining.pop(channel, None)

    async def _post(self, claimed: Claimed) -> None:
        reply = claimed.reply
        try:
            await self.client.chat_postMessage(channel=reply.channel, **reply.message)
        except asyncio.CancelledError:
            await asyncio.to_thread(self.outbox.unclaim, claimed)
            raise
        except Exception as error:
            await self._failed(claimed, error)
        else:
            await asyncio.to_thread(self.outbox.remove, claimed)

    async def _failed(self, claimed: Claimed, error: Exception) -> None:
        attempts = claimed.attempts + 1
        refusal = final_refusal(error)
        retry_at = time.time() + retry_delay(attempts, error)
        if refusal or retry_at > claimed.created_at + GIVE_UP_SECONDS:
            logger.error(
                "Gave up a Slack reply to %s after %d attempts: %s",
                claimed.reply.channel,
                attempts,
                refusal or describe(error),
            )
            await asyncio.to_thread(self.outbox.remove, claimed)
            return
        logger.warning(
            "Could not post a Slack reply to %s (attempt %d: %s); trying again in %.0f s.",
            claimed.reply.channel,
            attempts,
            describe(error),
            retry_at - time.time(),
        )
        await asyncio.to_thread(self.outbox.retry_later, claimed, retry_at)


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
