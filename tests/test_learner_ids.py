"""Learner ids carry their channel; ids stored before that are mapped to the channel that made
them."""

import pytest

from common.learner_ids import channel_of, learner_id, prefixed


@pytest.mark.parametrize(
    ("stored", "now"),
    [
        ("U0123ABCD", "slack:U0123ABCD"),
        ("W0123ABCD", "slack:W0123ABCD"),
        ("web-" + "ab" * 16, "web:" + "ab" * 16),
        ("shell-root", "shell:root"),
        ("shell-test-1a2b", "shell:test-1a2b"),
        ("ana", "rest:ana"),
        ("web-not-an-issued-id", "rest:web-not-an-issued-id"),
        ("u0123abcd", "rest:u0123abcd"),  # not how Slack writes its ids
        ("slack:U0123ABCD", "slack:U0123ABCD"),  # already prefixed: unchanged
        ("rest:ana", "rest:ana"),
    ],
)
def test_ids_stored_before_prefixes_keep_their_learner(stored, now):
    assert prefixed(stored) == now
    assert prefixed(now) == now  # applying it twice changes nothing


def test_a_rest_sender_cannot_choose_another_channel():
    forged = learner_id("rest", "slack:U0123ABCD")
    assert forged == "rest:slack:U0123ABCD"
    assert channel_of(forged) == "rest"


def test_only_the_known_channels_issue_ids():
    with pytest.raises(ValueError):
        learner_id("email", "someone")
