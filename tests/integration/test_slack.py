"""Slack end to end: the real Rasa server and action server receive requests signed exactly as
Slack signs them; replies arrive at a local stand-in for Slack's Web API, which can also be down
or hang."""

import json
import time
import uuid
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from actions.learner_store import ProgressStore
from addons.input_guard import MAX_MESSAGE_CHARS, SORRY, TOO_LONG
from common.db import engine_for
from common.learner_ids import learner_id
from tests.integration.slack_stand_in import signed_post, signed_request
from tests.support import CERTIFICATIONS_ANSWER, progress_summary, text_of

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


def send(slack_app, user: str, channel: str, text: str, headers: dict | None = None) -> None:
    """A direct message from user, which Slack's request reached the bot with (a 200)."""
    event = direct_message(user, channel, text)
    response = signed_request(
        slack_app.webhook, slack_app.signing_secret, event=event, headers=headers
    )
    assert response.status_code == 200, response.text


def say(slack_app, user: str, channel: str, text: str) -> list[dict]:
    """A direct message from user; returns the bot's replies posted to Slack for it."""
    before = len(slack_app.api.posts_to(channel))
    send(slack_app, user, channel, text)
    slack_app.api.wait_for(lambda: len(slack_app.api.posts_to(channel)) > before)
    time.sleep(1)  # a reply may come in several posts
    return slack_app.api.posts_to(channel)[before:]


def click(slack_app, user: str, channel: str, value: str) -> list[dict]:
    """A click on the button of this value; returns the bot's replies posted for it."""
    before = len(slack_app.api.posts_to(channel))
    response = signed_request(
        slack_app.webhook, slack_app.signing_secret, interaction=button_click(user, channel, value)
    )
    assert response.status_code == 200, response.text
    slack_app.api.wait_for(lambda: len(slack_app.api.posts_to(channel)) > before)
    time.sleep(1)  # a reply may come in several posts
    return slack_app.api.posts_to(channel)[before:]


def buttons_of(post: dict) -> list[dict]:
    """A post's buttons, across its actions blocks."""
    return [
        element
        for block in post.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def stored_turn(assistant, learner: str, said: str, timeout: float = 60) -> dict:
    """The learner's conversation once the conversation store holds the turn in which they said
    `said` (a turn is stored whole, after its replies are decided)."""
    deadline = time.monotonic() + timeout
    while True:
        tracker = assistant.tracker(learner)
        if said in user_texts(tracker):
            return tracker
        if time.monotonic() > deadline:
            raise AssertionError(f"the turn {said!r} of {learner} was not stored")
        time.sleep(0.5)


def user_texts(tracker: dict) -> list[str]:
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


def said_since(tracker: dict, moment: float) -> str:
    """What the bot said in the conversation since `moment` (a time.time()), as one text."""
    return "\n\n".join(
        event["text"].strip()
        for event in tracker["events"]
        if event["event"] == "bot" and event["timestamp"] >= moment
    )


def as_one_text(posts: list[dict]) -> str:
    """Slack posts as the conversation they make (a reply may be split into several posts)."""
    return "\n\n".join(post["text"] for post in posts)


def posted_once_in_order(slack_app, user: str, channel: str, since: int, expected: str) -> None:
    """Waits until the posts to channel after the first `since` make up `expected`, then checks
    that nothing of it comes twice: the replies to one more message are posted after every
    earlier reply to that channel, so once they are in, anything sent twice would be too."""
    api = slack_app.api
    try:
        api.wait_for(lambda: as_one_text(api.posts_to(channel)[since:]).startswith(expected), 90)
    except AssertionError:
        assert as_one_text(api.posts_to(channel)[since:]) == expected  # shows what came instead
    follow_up = say(slack_app, user, channel, "show my progress")
    assert as_one_text(api.posts_to(channel)[since : -len(follow_up)]) == expected


@pytest.fixture(scope="module")
def learners(servers_dir) -> ProgressStore:
    """The learner database the action server of the `assistant` fixture writes."""
    return ProgressStore(f"sqlite:///{servers_dir / 'learners.db'}")


@contextmanager
def turns_failing(servers_dir):
    """While in the block, handling a message fails at its first reply: the Slack outbox refuses
    to take the replies of a turn, as a database still locked after its busy timeout would."""
    url = f"sqlite:///{servers_dir / 'slack_deliveries.db'}"
    with engine_for(url).begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER refuse_replies_of_turns BEFORE INSERT ON slack_outbox"
                " WHEN NEW.turn IS NOT NULL BEGIN SELECT RAISE(ABORT, 'database is locked'); END"
            )
        )
    try:
        yield
    finally:
        with engine_for(url).begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_replies_of_turns"))


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
    assert text_of(replies).startswith(CERTIFICATIONS_ANSWER)
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

    click(slack_app, user, channel, "/affirm")
    assert progress_summary(0) in text_of(say(slack_app, user, channel, "show my progress"))


def test_the_help_menu_keeps_all_its_topic_buttons(slack_app):
    user, channel = new_ids()
    [menu] = say(slack_app, user, channel, "help")
    buttons = buttons_of(menu)
    assert len(buttons) > 5  # Rasa's own Slack output would have dropped them all
    assert "/ask_certifications" in [button["value"] for button in buttons]


def test_progress_is_kept_per_slack_user_under_the_slack_prefix(slack_app, assistant, learners):
    ana, ana_dm = new_ids()
    ben, ben_dm = new_ids()
    say(slack_app, ana, ana_dm, "I passed the CCRP")
    assert progress_summary(1) in text_of(say(slack_app, ana, ana_dm, "show my progress"))
    assert progress_summary(0) in text_of(say(slack_app, ben, ben_dm, "show my progress"))

    ana_learner = learner_id("slack", ana)
    goal_set = say(slack_app, ana, ana_dm, "I want to join ACRP by next month")
    [plan] = [post for post in goal_set if buttons_of(post)]  # a plan from the guides, to keep
    assert [b["value"] for b in buttons_of(plan)] == ["/keep_plan", "/change_plan", "/skip_plan"]
    kept = as_one_text(click(slack_app, ana, ana_dm, "/keep_plan"))
    assert kept.startswith("Your plan for join ACRP:\n1. "), kept
    shown = say(slack_app, ana, ana_dm, "show my progress")
    # As blocks: the summary, a bar, the ticked checklist, then a section per goal.
    checklist, goals = (post["blocks"] for post in shown if post.get("blocks"))
    assert checklist[1]["elements"][0]["text"].startswith("▰▱")
    assert ":white_check_mark: Add a certification" in checklist[2]["text"]["text"]
    assert goals[1]["text"]["text"].startswith("*join ACRP*\nby ")
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


@pytest.mark.parametrize("reason", ["http_timeout", "http_error"])
def test_an_event_whose_handling_failed_is_handled_when_slack_retries_it(
    slack_app, assistant, learners, servers_dir, reason
):
    user, channel = new_ids()
    learner = learner_id("slack", user)
    event = direct_message(user, channel, "I passed the CCRP")
    sent_at = time.time()
    with turns_failing(servers_dir):
        first = signed_request(slack_app.webhook, slack_app.signing_secret, event=event)
        assert first.status_code == 200
        slack_app.api.wait_for(lambda: slack_app.api.posts_to(channel))  # the handling ended

    retry = signed_request(
        slack_app.webhook,
        slack_app.signing_secret,
        event=event,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": reason},
    )
    assert retry.status_code == 200
    tracker = stored_turn(assistant, learner, "I passed the CCRP")
    assert user_texts(tracker).count("I passed the CCRP") == 1
    assert "certification" in learners.completed(learner)
    # The failed handling said so, and the replies it had made were dropped.
    assert slack_app.api.posts_to(channel)[0]["text"] == SORRY
    posted_once_in_order(slack_app, user, channel, 1, said_since(tracker, sent_at))


def test_while_slacks_api_is_unreachable_a_returning_learners_report_is_kept_and_answered_later(
    slack_app, assistant, learners
):
    user, channel = new_ids()
    learner = learner_id("slack", user)
    say(slack_app, user, channel, "I passed the CCRP")
    before, down_since = len(slack_app.api.posts_to(channel)), time.time()
    with slack_app.api.down():
        # She comes back (a new session: "welcome back", the reply that used to fail first)
        # and reports a milestone.
        for said in ("/session_start", "I finished my MHA"):
            send(slack_app, user, channel, said)
            tracker = stored_turn(assistant, learner, said)
        assert "graduate_degree" in learners.completed(learner)
        assert slack_app.api.posts_to(channel)[before:] == []

    replies = said_since(tracker, down_since)
    assert replies.startswith("Welcome back!")
    posted_once_in_order(slack_app, user, channel, before, replies)


def test_a_hanging_slack_api_holds_no_conversation(slack_app, assistant, learners):
    ana, ana_dm = new_ids()
    ben, ben_dm = new_ids()
    ana_learner = learner_id("slack", ana)
    hanging_since = time.time()
    with slack_app.api.hanging(ana_dm):
        send(slack_app, ana, ana_dm, "what skills matter most?")
        slack_app.api.wait_for(lambda: slack_app.api.hung_posts_to(ana_dm))
        # Meanwhile another learner is answered, and her next message is handled and stored.
        assert "CCRP" in text_of(say(slack_app, ben, ben_dm, "what certifications should I get?"))
        send(slack_app, ana, ana_dm, "I passed the CCRP")
        tracker = stored_turn(assistant, ana_learner, "I passed the CCRP")
        assert "certification" in learners.completed(ana_learner)
        assert slack_app.api.posts_to(ana_dm) == []

    replies = said_since(tracker, hanging_since)
    posted_once_in_order(slack_app, ana, ana_dm, 0, replies)


def test_replies_still_undelivered_at_a_restart_are_delivered_after_it(slack_app, assistant):
    user, channel = new_ids()
    question, down_since = "what certifications should I get?", time.time()
    with slack_app.api.down():
        send(slack_app, user, channel, question)
        tracker = stored_turn(assistant, learner_id("slack", user), question)
        assistant.restart_server()
    replies = said_since(tracker, down_since)
    assert "CCRP" in replies
    posted_once_in_order(slack_app, user, channel, 0, replies)


def event_body(**fields) -> bytes:
    return json.dumps({"type": "event_callback", "event_id": "Ev0MALFORMED", **fields}).encode()


def event_from(user, text="hello") -> dict:
    return {"type": "message", "channel_type": "im", "channel": "D0MALFORMED", "user": user,
            "text": text, "ts": "1.0"}  # fmt: skip


def form(**fields) -> bytes:
    return urlencode(fields).encode()


JSON, FORM = "application/json", "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"{not json", JSON, id="a body that is not JSON"),
        pytest.param(b'[{"type": "event_callback"}]', JSON, id="a JSON list"),
        pytest.param(event_body(), JSON, id="an Events API body without an event"),
        pytest.param(event_body(event="hello"), JSON, id="an event that is not an object"),
        pytest.param(event_body(event=event_from(42)), JSON, id="a sender that is not a user id"),
        pytest.param(event_body(event=event_from("U0A", [1])), JSON, id="text that is not text"),
        pytest.param(form(other="1"), FORM, id="interactivity without a payload"),
        pytest.param(form(payload="{not json"), FORM, id="a payload that is not JSON"),
        pytest.param(form(payload="[1, 2]"), FORM, id="a payload that is a JSON list"),
        pytest.param(
            form(payload=json.dumps({"type": "block_actions", "user": {"id": "U0A"}})),
            FORM,
            id="a payload without actions",
        ),
        pytest.param(b"hello", "text/plain", id="neither an event nor an interaction"),
    ],
)  # fmt: skip
def test_malformed_bodies_signed_by_slack_get_a_400(slack_app, body, content_type):
    response = signed_post(slack_app.webhook, slack_app.signing_secret, body, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["error"]


def test_an_over_large_body_gets_a_413(slack_app):
    user, channel = new_ids()
    event = direct_message(user, channel, "tell me about the CCRP " * 50_000)
    response = signed_request(slack_app.webhook, slack_app.signing_secret, event=event)
    assert response.status_code == 413, response.text


def test_an_over_long_message_gets_the_friendly_reply_without_the_nlu(slack_app, assistant):
    user, channel = new_ids()
    [reply] = say(slack_app, user, channel, "a" * (MAX_MESSAGE_CHARS + 1))
    assert reply["text"] == TOO_LONG
    assert user_texts(assistant.tracker(learner_id("slack", user))) == []


def test_a_goal_due_today_is_messaged_once_and_never_after_no_reminders(slack_app):
    user, channel = new_ids()
    later = as_one_text(say(slack_app, user, channel, "I want to pass the CCRP by June"))
    assert later.startswith("Goal set: pass the CCRP, by "), later
    goal = as_one_text(say(slack_app, user, channel, "I want to join ACRP by today"))
    assert goal.startswith("Goal set: join ACRP, by "), goal
    # The reminder comes first, as a direct message to the user (not a reply in the channel).
    slack_app.api.wait_for(lambda: slack_app.api.posts_to(user), timeout=30)
    time.sleep(3)  # three more rounds of the scheduler: nothing more
    [reminder] = slack_app.api.posts_to(user)
    assert reminder["text"].startswith("You planned to join ACRP by "), reminder
    assert "How did it go?" in reminder["text"] and "Still working on it" in str(reminder)
    # With two goals open, the reminder's Done is about the goal it names.
    [done] = [b["value"] for b in buttons_of(reminder) if b["text"]["text"] == "Done"]
    click(slack_app, user, channel, done)
    goals = as_one_text(say(slack_app, user, channel, "my goals"))
    assert "pass the CCRP" in goals and "join ACRP" not in goals, goals

    quiet, quiet_channel = new_ids()
    off = as_one_text(say(slack_app, quiet, quiet_channel, "no more reminders please"))
    assert off.startswith("Okay, no more reminders"), off
    goal = as_one_text(say(slack_app, quiet, quiet_channel, "I want to pass the CCRP by today"))
    assert goal.startswith("Goal set: pass the CCRP"), goal
    time.sleep(3)
    assert slack_app.api.posts_to(quiet) == []
