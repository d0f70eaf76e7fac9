"""What the REST and website-widget channels check before a message reaches the assistant, so
both answer bad input the same way: a friendly reply instead of an NLU run, no crash, and a
learner who sends faster than they can be answered is asked to slow down."""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)

# The longest question in our training and held-out data is about 200 characters. NLU time
# grows with length and one slow message holds up every conversation on the server (20,000
# characters took about 5 s), so anything past ten times that is not a question we can answer.
MAX_MESSAGE_CHARS = 2000

# A request (REST) or socket.io payload (the widget) past this is refused before it is parsed. A
# message at the text limit takes at most 24 KB even with every character escaped (JSON writes a
# character outside the BMP as 12 bytes), metadata a few more: 64 KiB is well above any message
# the assistant reads, and a text a few times too long still gets the friendly TOO_LONG reply.
MAX_BODY_BYTES = 64 * 1024

# Metadata is stored with the message it came with and sent to the action server with the whole
# conversation on every action: a few ids and flags (what clients put there) fit; documents don't.
MAX_METADATA_BYTES = 4 * 1024

# Messages of one learner taken on and not answered yet. They wait for the conversation's lock,
# one turn at a time, so this bounds a message's wait to ten turns (a few seconds), far from
# Rasa's lock lifetime (60 s) after which a waiting message is dropped.
MAX_UNANSWERED = 10

NOT_TEXT = (
    'I can only read text messages. What would you like to know? Say "help" to see what I cover.'
)
EMPTY = 'I didn\'t get any text there. What would you like to know? Say "help" to see what I cover.'
TOO_LONG = (
    f"That message is too long for me (over {MAX_MESSAGE_CHARS:,} characters). "
    "Could you ask a shorter question, one thing at a time?"
)
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
SLOW_DOWN = (
    "You're sending messages faster than I can answer. "
    "Please wait a moment, then send one at a time."
)

# Control characters and lone surrogates: PostgreSQL rejects NUL, UTF-8 cannot encode a lone
# surrogate (Rasa's NLU failed on one), and terminal escapes would end up in the logs.
_UNREADABLE = {"Cc", "Cs"}
_KEPT = {"\n", "\t"}


def _unreadable(ch: str) -> bool:
    return unicodedata.category(ch) in _UNREADABLE and ch not in _KEPT


def has_unreadable(text: str) -> bool:
    return any(_unreadable(ch) for ch in text)


def readable(text: str) -> str:
    """The text with control characters and lone surrogates turned into spaces, trimmed."""
    return "".join(" " if _unreadable(ch) else ch for ch in text).strip()


def reply_instead(message: Any) -> str | None:
    """The answer for a message the assistant should not see (not text, empty, too long);
    None when it can go on to the assistant as readable(message)."""
    if not isinstance(message, str):
        return NOT_TEXT
    stripped = message.strip()
    if len(stripped) > MAX_MESSAGE_CHARS:  # checked first: cleaning a huge text costs time too
        return TOO_LONG
    if not readable(stripped):
        return EMPTY
    return None


def apologising(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[None]]:
    """on_new_message, but a failure is logged and answered with an apology instead of leaving
    the learner with no reply (or ending a socket.io handler with a traceback)."""

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("Could not answer a message from %s.", message.sender_id)
            await message.output_channel.send_text_message(message.sender_id, SORRY)

    return handle


class Unanswered:
    """The messages of each learner taken on and not answered yet, in this process.

    A time-based rate limit (a token bucket refilled by the clock) would also slow down clients
    that wait for each answer before sending the next (a learner clicking quick replies, the
    evaluation scripts), which never queue. What hurts is messages queued behind the
    conversation's lock, so this counts those: a learner may have MAX_UNANSWERED in flight, and a
    slot comes back when its message is answered. Each Rasa process (worker or replica) counts its
    own: with N of them a learner's queue is at most N times as long.
    """

    def __init__(self, most: int = MAX_UNANSWERED) -> None:
        self.most = most
        self._waiting: Counter[str] = Counter()

    @contextmanager
    def taking_on(self, learner: str) -> Iterator[bool]:
        """True, with the message counted until the block ends, when the learner has fewer than
        `most` messages unanswered; else False, and the message must not go on."""
        if self._waiting[learner] >= self.most:
            yield False
            return
        self._waiting[learner] += 1
        try:
            yield True
        finally:
            self._waiting[learner] -= 1
            if not self._waiting[learner]:
                del self._waiting[learner]


def pacing(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], unanswered: Unanswered
) -> Callable[[UserMessage], Awaitable[None]]:
    """on_new_message, but a learner with too many messages unanswered is told to slow down at
    once and the message is not taken on (nothing of it is stored)."""

    async def handle(message: UserMessage) -> None:
        with unanswered.taking_on(message.sender_id) as taken_on:
            if taken_on:
                await on_new_message(message)
            else:
                await message.output_channel.send_text_message(message.sender_id, SLOW_DOWN)

    return handle
