"""What the REST and website-widget channels check before a message reaches the assistant, so
both answer bad input the same way: a friendly reply instead of an NLU run, and no crash."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)

# The longest question in our training and held-out data is about 200 characters. NLU time
# grows with length and one slow message holds up every conversation on the server (20,000
# characters took about 5 s), so anything past ten times that is not a question we can answer.
MAX_MESSAGE_CHARS = 2000

NOT_TEXT = (
    'I can only read text messages. What would you like to know? Say "help" to see what I cover.'
)
EMPTY = 'I didn\'t get any text there. What would you like to know? Say "help" to see what I cover.'
TOO_LONG = (
    f"That message is too long for me (over {MAX_MESSAGE_CHARS:,} characters). "
    "Could you ask a shorter question, one thing at a time?"
)
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."

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
