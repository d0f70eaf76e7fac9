"""Learner ids carry the channel that issued them, so no channel can address another's learners.

A learner is `<channel>:<the channel's own id>`: `slack:U0123ABCD`, `web:<id the server issued
to that browser>`, `shell:<OS user>`, `rest:<the caller's sender>`. Each channel builds the id
itself from what it has verified (a signed Slack request, a recorded widget session, the REST
caller's token); nothing in a request can choose the prefix. A REST caller that sends the sender
`slack:U0123ABCD` addresses `rest:slack:U0123ABCD`, a learner of its own.

Ids stored before the prefixes existed (`U0123ABCD`, `web-<hex>`, `shell-<user>`, anything else
from REST) are mapped by `prefixed()`, which the learner database's migration and the
conversation store both apply once.
"""

from __future__ import annotations

import re

SLACK = "slack"
WEB = "web"
SHELL = "shell"
REST = "rest"
CHANNELS = (SLACK, WEB, SHELL, REST)

# Before prefixes: Slack user ids as Slack writes them, and the widget's and shell's own forms.
_OLD_SLACK_USER = re.compile(r"[UW][A-Z0-9]{6,}")
_OLD_WEB = re.compile(r"web-([0-9a-f]{32})")
_OLD_SHELL = re.compile(r"shell-(.+)")


def learner_id(channel: str, own_id: str) -> str:
    """The learner id for `own_id` as `channel` knows it."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{channel}:{own_id}"


def channel_of(learner: str) -> str | None:
    """The channel a learner id belongs to, or None for an id stored before prefixes."""
    channel, colon, _ = learner.partition(":")
    return channel if colon and channel in CHANNELS else None


def prefixed(stored: str) -> str:
    """A learner id stored before prefixes, as its channel would issue it now (ids that already
    carry a channel are returned unchanged)."""
    if channel_of(stored):
        return stored
    if _OLD_SLACK_USER.fullmatch(stored):
        return learner_id(SLACK, stored)
    if web := _OLD_WEB.fullmatch(stored):
        return learner_id(WEB, web.group(1))
    if shell := _OLD_SHELL.fullmatch(stored):
        return learner_id(SHELL, shell.group(1))
    return learner_id(REST, stored)
