"""The Slack channel's parts on their own. (tests/integration/test_slack.py runs them in the
real Rasa server.)"""

import pytest

from addons.slack_channel import SlackChannel, slack_address

TOKEN = "xoxb-unit-test-token"


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'slack_deliveries.db'}"


@pytest.mark.parametrize(
    ("granularity", "learner"),
    [
        ("sender", "slack:U0A"),
        ("channel", "slack:U0A_C0B"),
        ("thread", "slack:U0A_C0B_1700000000.000100"),
    ],
)
def test_slack_learners_carry_the_slack_prefix_in_every_granularity(
    monkeypatch, db_url, granularity, learner
):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_DELIVERIES_DB_URL", db_url)
    channel = SlackChannel.from_credentials({"conversation_granularity": granularity})
    assert channel._get_conversation_id("U0A", "C0B", "1700000000.000100") == learner


@pytest.mark.parametrize(
    ("recipient", "posted_to"),
    [
        ("D0A", "D0A"),  # the direct-message channel the message came from
        ("C0B", "C0B"),
        ("slack:U0A", "U0A"),  # no Slack channel known: the learner's own direct messages
        ("slack:U0A_C0B", "U0A"),
        ("slack:U0A_C0B_1700000000.000100", "U0A"),
    ],
)
def test_replies_go_to_a_slack_channel_never_to_a_learner_id(recipient, posted_to):
    assert slack_address(recipient) == posted_to
