"""The channel add-ons, without servers: what credentials.yml builds, and the small rules the
widget and Slack channels add to Rasa's own."""

import re

import pytest
import yaml
from rasa.core.run import create_http_input_channels

from addons.slack_channel import SlackChannel, SlackNotConfigured
from addons.tracker_store import WidgetSessions
from addons.website_widget import WebsiteWidgetInput, accepted_session_id
from common.db import engine_for
from scripts.local_servers import PROJECT_ROOT


def channels_from_credentials_yml() -> dict:
    return {
        type(channel): channel for channel in create_http_input_channels(None, "credentials.yml")
    }


def test_without_slack_secrets_the_other_channels_still_start(monkeypatch, caplog):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    channels = channels_from_credentials_yml()
    assert WebsiteWidgetInput in channels
    assert SlackNotConfigured in channels
    assert "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in caplog.text


def test_slack_secrets_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret-from-env")
    slack = channels_from_credentials_yml()[SlackChannel]
    assert (slack.slack_token, slack.slack_signing_secret) == ("xoxb-from-env", "secret-from-env")
    assert slack.conversation_granularity == "sender"  # progress is keyed by the Slack user


def test_the_widget_keeps_persistent_sessions():
    widget = channels_from_credentials_yml()[WebsiteWidgetInput]
    assert widget.session_persistence is True
    assert widget.url_prefix() == "widget"


@pytest.fixture
def widget_sessions(tmp_path) -> WidgetSessions:
    return WidgetSessions(engine_for(f"sqlite:///{tmp_path / 'conversations.db'}"))


@pytest.mark.parametrize(
    "requested",
    [
        None, "", "U024BE7LH", "shell-root", "web-" + "a" * 32, "A" * 32, "a" * 31, {"x": 1}, 42,
        "0" * 32,  # the right form, never issued
    ],
)  # fmt: skip
def test_a_widget_cannot_choose_someone_elses_conversation(requested, widget_sessions):
    issued = accepted_session_id(requested, widget_sessions)
    assert issued != requested
    assert re.fullmatch(r"[0-9a-f]{32}", issued)


@pytest.mark.parametrize("added", ["\n", " ", "0", "\x00"])
def test_an_issued_id_with_anything_added_is_not_that_conversation(added, widget_sessions):
    own = accepted_session_id(None, widget_sessions)
    assert accepted_session_id(own + added, widget_sessions) not in (own, own + added)


def test_a_widget_resumes_its_own_conversation(widget_sessions):
    own = accepted_session_id(None, widget_sessions)
    assert accepted_session_id(own, widget_sessions) == own


def test_the_slack_manifest_points_slack_at_the_channel_this_server_serves():
    manifest = yaml.safe_load((PROJECT_ROOT / "docs" / "slack-app-manifest.yml").read_text())
    settings = manifest["settings"]
    webhook = "/webhooks/slack/webhook"  # Rasa's prefix + SlackChannel.name() + its route
    assert SlackChannel.name() == "slack"
    assert settings["event_subscriptions"]["request_url"].endswith(webhook)
    assert settings["interactivity"]["request_url"].endswith(webhook)
    assert settings["interactivity"]["is_enabled"] is True
    # The events Rasa's Slack channel answers, and the scopes Slack requires for them.
    assert set(settings["event_subscriptions"]["bot_events"]) == {"message.im", "app_mention"}
    assert {"chat:write", "im:history", "app_mentions:read"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
