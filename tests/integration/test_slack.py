"""Slack end to end: the real Rasa server and action server receive requests signed exactly as
Slack signs them; replies arrive at a local stand-in for Slack's Web API."""

import time
import uuid

import pytest

from actions.learner_store import ProgressStore
from common.learner_ids import learner_id
from tests.integration.slack_stand_in import signed_request
from tests.support import progress_summary, text_of

pytestmark = pytest.mark.integration


def new_ids() -> tuple[str, str]:
    """A Slack user id and their direct-message channel with the bot."""
    suffix = uuid.uuid4().hex[:8].upper()
    return f"U{suffix}", f"D{suffix}"


def direct_message(user: str, channel: str, text: str, event_id: str | None = None) -> dict:
    ts = f"{time.time():.6f}"
    return {
        "token": "unused-verification-token",
        "team_id": "T0001",
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"user_id": "UBOT"}],
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
        },
    }


def button_click(user: str, channel: str, value: str) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": channel},
        "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex[:8]}",
        "message": {"ts": f"{time.time():.6f}"},
        "actions": [{"type": "button", "value": value, "action_ts": f"{time.time():.6f}"}],
    }


def say(slack_app, user: str, channel: str, text: str) -> list[dict]:
    """A direct message from user; returns the bot's replies posted to Slack for it."""
    before = len(slack_app.api.posts_to(channel))
    response = signed_request(
        slack_app.webhook, slack_app.signing_secret, event=direct_message(user, channel, text)
    )
    assert response.status_code == 200, response.text
    slack_app.api.wait_for(lambda: len(slack_app.api.posts_to(channel)) > before)
    time.sleep(1)  # a reply may come in several posts
    return slack_app.api.posts_to(channel)[before:]


def user_texts(tracker: dict) -> list[str]:
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


@pytest.fixture(scope="module")
def learners(servers_dir) -> ProgressStore:
    """The learner database the action server of the `assistant` fixture writes."""
    return ProgressStore(f"sqlite:///{servers_dir / 'learners.db'}")


def test_the_url_verification_challenge_is_answered(slack_app):
    challenge = uuid.uuid4().hex
    response = signed_request(
        slack_app.webhook,
        slack_app.signing_secret,
        event={"token": "t", "challenge": challenge, "type": "url_verification"},
    )
    assert response.status_code == 200
    assert response.json() == {"challenge": challenge}


def test_a_direct_message_is_answered_in_that_conversation(slack_app):
    user, channel = new_ids()
    replies = say(slack_app, user, channel, "what certifications should I get?")
    assert "Certifications" in text_of(replies)
    assert "CCRP" in text_of(replies)
    assert all(post["channel"] == channel for post in replies)
    assert not slack_app.api.refused  # every call was one Slack accepts


def test_buttons_arrive_as_blocks_and_a_click_continues_the_conversation(slack_app):
    user, channel = new_ids()
    say(slack_app, user, channel, "I passed the CCRP")
    [question] = say(slack_app, user, channel, "start over")
    section, actions = question["blocks"]
    assert section["type"] == "section" and "Are you sure?" in section["text"]["text"]
    assert [button["value"] for button in actions["elements"]] == ["/affirm", "/deny"]

    before = len(slack_app.api.posts_to(channel))
    response = signed_request(
        slack_app.webhook,
        slack_app.signing_secret,
        interaction=button_click(user, channel, "/affirm"),
    )
    assert response.status_code == 200, response.text
    slack_app.api.wait_for(lambda: len(slack_app.api.posts_to(channel)) > before)
    assert progress_summary(0) in text_of(say(slack_app, user, channel, "show my progress"))


def test_the_help_menu_keeps_all_its_topic_buttons(slack_app):
    user, channel = new_ids()
    [menu] = say(slack_app, user, channel, "help")
    buttons = [element for block in menu["blocks"][1:] for element in block["elements"]]
    assert len(buttons) > 5  # Rasa's own Slack output would have dropped them all
    assert "/ask_certifications" in [button["value"] for button in buttons]


def test_progress_is_kept_per_slack_user_under_the_slack_prefix(slack_app, assistant, learners):
    ana, ana_dm = new_ids()
    ben, ben_dm = new_ids()
    say(slack_app, ana, ana_dm, "I passed the CCRP")
    assert progress_summary(1) in text_of(say(slack_app, ana, ana_dm, "show my progress"))
    assert progress_summary(0) in text_of(say(slack_app, ben, ben_dm, "show my progress"))

    ana_learner = learner_id("slack", ana)
    assert assistant.tracker(ana_learner)["latest_input_channel"] == "slack"
    assert learners.completed(ana_learner) == {"certification"}
    # Nothing is kept under her bare Slack user id, which anyone in the workspace can read.
    assert learners.record(ana) is None
    assert user_texts(assistant.tracker(ana)) == []


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "stale timestamp", "no signature"],
)
def test_requests_not_signed_by_slack_are_refused(slack_app, how):
    user, channel = new_ids()
    event = direct_message(user, channel, "show my progress")
    secret = "not-the-secret" if how == "wrong secret" else slack_app.signing_secret
    timestamp = int(time.time()) - 600 if how == "stale timestamp" else None
    headers = {"X-Slack-Signature": ""} if how == "no signature" else None
    response = signed_request(
        slack_app.webhook, secret, event=event, timestamp=timestamp, headers=headers
    )
    assert response.status_code == 400
    time.sleep(2)
    assert slack_app.api.posts_to(channel) == []


def test_a_retried_event_is_answered_once(slack_app):
    user, channel = new_ids()
    event = direct_message(user, channel, "what skills matter most?")
    first = signed_request(slack_app.webhook, slack_app.signing_secret, event=event)
    assert first.status_code == 200
    slack_app.api.wait_for(lambda: slack_app.api.posts_to(channel))
    time.sleep(1)
    answered = len(slack_app.api.posts_to(channel))

    for attempt, reason in ((1, "http_error"), (2, "connection_failed")):
        retry = signed_request(
            slack_app.webhook,
            slack_app.signing_secret,
            event=event,
            headers={"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason},
        )
        assert retry.status_code == 200
    time.sleep(3)
    assert len(slack_app.api.posts_to(channel)) == answered
