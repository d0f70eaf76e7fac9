"""The Slack channel's parts on their own: learner ids, the record of Slack's events, and the
outbox with its sender, on real SQLite files and posting to the local stand-in for Slack's Web
API. (tests/integration/test_slack.py runs them in the real Rasa server.)"""

import asyncio
import json
import time

import pytest
from sqlalchemy import select

from addons import slack_outbox
from addons.input_guard import SORRY
from addons.slack_channel import Incoming, SlackChannel, SlackReplies, slack_address
from addons.slack_outbox import (
    CLAIM_SECONDS,
    EVENT_MEMORY_SECONDS,
    MAX_RETRY_SECONDS,
    TURN_LIMIT_SECONDS,
    EventState,
    Reply,
    SlackOutbox,
    SlackSender,
    outbox_table,
    retry_delay,
)
from common.db import engine_for
from tests.integration.slack_stand_in import SlackWebApi

TOKEN = "xoxb-unit-test-token"


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'slack_deliveries.db'}"


@pytest.fixture
def outbox(db_url) -> SlackOutbox:
    return SlackOutbox(db_url)


@pytest.fixture
def slack(monkeypatch, db_url) -> SlackChannel:
    """The Slack channel as credentials.yml makes it, its sender not started."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_DELIVERIES_DB_URL", db_url)
    return SlackChannel.from_credentials({"conversation_granularity": "sender"})


@pytest.fixture
def api():
    api = SlackWebApi(TOKEN)
    yield api
    api.close()


@pytest.fixture
async def senders(api):
    """Starts senders (one per process) on outboxes; all are stopped after the test."""
    started: list[SlackSender] = []

    def start(outbox: SlackOutbox) -> SlackSender:
        sender = SlackSender(outbox, TOKEN, api.url)
        sender.start()
        started.append(sender)
        return sender

    yield start
    for sender in started:
        await sender.stop()


def rows(db_url: str) -> list:
    """The outbox as stored: every reply not yet posted (or given up), in order."""
    with engine_for(db_url).connect() as connection:
        return connection.execute(select(outbox_table).order_by(outbox_table.c.id)).all()


async def until(condition, timeout: float = 30) -> None:
    """Waits for condition(), checked without blocking the event loop the senders run on."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def texts(posts: list[dict]) -> list[str]:
    return [post["text"] for post in posts]


def outbox_texts(db_url: str) -> list[str]:
    return [json.loads(row.message)["text"] for row in rows(db_url)]


A_MESSAGE = Incoming(user="U0A", text="hello", channel="D0A", thread_ts=None, event_key="Ev1")


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


async def test_a_retry_while_the_event_is_handled_is_left_with_slack_to_send_again(slack, db_url):
    handled, turn_ends = [], asyncio.Event()

    async def handle(message):  # stands in for Rasa: the turn ends when the test says so
        handled.append(message.text)
        await turn_ends.wait()
        await message.output_channel.send_text_message(message.sender_id, "the answer")

    assert (await slack.answer(A_MESSAGE, handle)).status == 200
    retry = await slack.answer(A_MESSAGE, handle)
    assert retry.status == 503  # not a 2xx: Slack keeps the event and retries it later
    assert "X-Slack-No-Retry" not in retry.headers

    turn_ends.set()
    await until(lambda: [row.turn for row in rows(db_url)] == [None])  # stored, released
    later_retry = await slack.answer(A_MESSAGE, handle)
    assert (later_retry.status, later_retry.headers["X-Slack-No-Retry"]) == (200, "1")
    assert handled == ["hello"]
    assert outbox_texts(db_url) == ["the answer"]


async def test_a_failed_turn_is_apologised_for_and_slacks_retry_is_handled(slack, db_url):
    handled = []

    async def handle(message):  # stands in for Rasa, failing the first time after a reply
        handled.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "the answer")
        if len(handled) == 1:
            raise RuntimeError("the conversation store is unreachable")

    await slack.answer(A_MESSAGE, handle)
    await until(lambda: outbox_texts(db_url) == [SORRY])
    assert (await slack.answer(A_MESSAGE, handle)).status == 200  # Slack's retry
    await until(lambda: [row.turn for row in rows(db_url)] == [None, None])
    assert outbox_texts(db_url) == [SORRY, "the answer"]
    assert handled == ["hello", "hello"]


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


async def test_a_reply_without_a_slack_channel_goes_to_the_learners_direct_messages(outbox, db_url):
    await SlackReplies(outbox).send_text_message("slack:U0A", "hello")
    [row] = rows(db_url)
    assert row.channel == "U0A"


@pytest.mark.parametrize(
    ("history", "a_delivery_now_is"),
    [
        ("never seen", EventState.NEW),
        ("being handled", EventState.PROCESSING),
        ("answered", EventState.ANSWERED),
        ("failed", EventState.NEW),  # Slack's retry is handled
        ("handled by a process that died", EventState.NEW),
        ("answered over an hour ago", EventState.NEW),  # forgotten: Slack retried long before
    ],
)
async def test_each_worker_knows_what_became_of_an_event(
    db_url, monkeypatch, history, a_delivery_now_is
):
    first_worker, second_worker = SlackOutbox(db_url), SlackOutbox(db_url)
    apology = Reply("D0A", {"text": "sorry"})
    if history != "never seen":
        assert await first_worker.begin_event("Ev1") is EventState.NEW
    if history in ("answered", "answered over an hour ago"):
        await first_worker.answered("turn-1", "Ev1")
    if history == "failed":
        await first_worker.failed("turn-1", "Ev1", apology)
    later = {
        "handled by a process that died": TURN_LIMIT_SECONDS + 1,
        "answered over an hour ago": EVENT_MEMORY_SECONDS + 1,
    }.get(history, 0)
    now = time.time() + later
    monkeypatch.setattr(time, "time", lambda: now)
    assert await second_worker.begin_event("Ev1") is a_delivery_now_is


async def test_a_turns_replies_are_posted_in_order_once_the_turn_is_stored(
    outbox, db_url, api, senders
):
    turn = SlackReplies(outbox, "D0A", turn="turn-1")
    await turn.send_text_message("slack:U0A", "first\n\nsecond")
    await turn.send_text_with_buttons("slack:U0A", "third", [{"title": "Yes", "payload": "/y"}])
    senders(outbox)
    assert [row.turn for row in rows(db_url)] == ["turn-1"] * 3  # held while the turn runs

    await outbox.answered("turn-1", None)
    await until(lambda: not rows(db_url))
    assert texts(api.posts) == ["first", "second", "third"]
    assert api.posts[2]["blocks"][1]["elements"][0]["value"] == "/y"


async def test_a_failed_turns_replies_are_dropped_for_an_apology(outbox, db_url, api, senders):
    turn = SlackReplies(outbox, "D0A", turn="turn-1")
    await turn.send_text_message("slack:U0A", "an answer of a turn that was not stored")
    senders(outbox)
    await outbox.failed("turn-1", None, turn.reply("D0A", text="Sorry"))
    await until(lambda: not rows(db_url))
    assert texts(api.posts) == ["Sorry"]


async def test_workers_sharing_the_outbox_post_each_reply_once_in_order_per_channel(
    db_url, api, senders
):
    workers = [SlackOutbox(db_url) for _ in range(3)]
    sent = {channel: [f"{channel} {n}" for n in range(8)] for channel in ("D0A", "D0B", "C0C")}
    for n in range(8):
        for channel, replies in sent.items():
            await workers[n % 3].add(Reply(channel, {"text": replies[n]}), None)
    for worker in workers:
        senders(worker)

    await until(lambda: not rows(db_url))
    assert {channel: texts(api.posts_to(channel)) for channel in sent} == sent


def test_a_claimed_reply_is_another_workers_only_once_the_claim_runs_out(db_url):
    first_worker, second_worker = SlackOutbox(db_url), SlackOutbox(db_url)
    asyncio.run(first_worker.add(Reply("D0A", {"text": "hi"}), None))
    now = time.time()
    assert first_worker.claim_next("D0A", now) is not None
    assert second_worker.claim_next("D0A", now) is None
    assert second_worker.claim_next("D0A", now + CLAIM_SECONDS + 1) is not None


def test_replies_of_a_turn_that_never_ended_are_dropped_and_the_next_reply_goes(db_url):
    outbox = SlackOutbox(db_url)
    asyncio.run(outbox.add(Reply("D0A", {"text": "of a turn whose process died"}), "turn-1"))
    asyncio.run(outbox.add(Reply("D0A", {"text": "sent later, e.g. an apology"}), None))
    assert outbox.claim_next("D0A", time.time()) is None  # the turn may still be running
    claimed = outbox.claim_next("D0A", time.time() + TURN_LIMIT_SECONDS + 1)
    assert claimed.reply.message == {"text": "sent later, e.g. an apology"}


async def test_while_slack_is_unreachable_replies_wait_with_growing_pauses_even_over_a_restart(
    db_url, api, senders
):
    before_restart = SlackOutbox(db_url)
    with api.down():
        for text in ("first", "second"):
            await before_restart.add(Reply("D0A", {"text": text}), None)
        sender = senders(before_restart)
        await until(lambda: rows(db_url)[0].attempts >= 2)  # tried, paused, tried again
        first, second = rows(db_url)
        assert first.next_attempt_at > first.created_at
        assert second.attempts == 0  # the channel's next reply waits for the first
        await sender.stop()
        assert rows(db_url)[0].claimed_until == 0  # nothing left claimed by a stopped process

    senders(SlackOutbox(db_url))  # the Rasa server started again
    await until(lambda: not rows(db_url))
    assert texts(api.posts) == ["first", "second"]


@pytest.mark.parametrize(
    ("attempts", "pause"),
    [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, MAX_RETRY_SECONDS), (50, MAX_RETRY_SECONDS)],
)
def test_pauses_between_attempts_double_up_to_a_cap(attempts, pause):
    assert retry_delay(attempts, OSError("connection refused")) == pause


async def test_a_reply_is_given_up_after_a_day_and_logged(outbox, db_url, api, senders, caplog):
    a_day_ago = time.time() - slack_outbox.GIVE_UP_SECONDS
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: a_day_ago)
        await outbox.add(Reply("D0A", {"text": "written a day ago, in a long outage"}), None)
    with api.down():
        senders(outbox)
        await until(lambda: not rows(db_url))
    assert "Gave up a Slack reply to D0A after 1 attempts" in caplog.text


async def test_a_reply_slack_refuses_for_good_is_given_up_and_the_next_goes(
    outbox, db_url, api, senders, caplog
):
    # Slack refuses as_user from a bot token (invalid_arguments): trying again cannot help.
    await outbox.add(Reply("D0A", {"text": "refused", "as_user": True}), None)
    await outbox.add(Reply("D0A", {"text": "accepted"}), None)
    senders(outbox)
    await until(lambda: not rows(db_url))
    assert texts(api.posts) == ["accepted"]
    assert "invalid_arguments" in caplog.text


async def test_a_hanging_channel_delays_no_other(outbox, db_url, api, senders):
    with api.hanging("D0A"):
        await outbox.add(Reply("D0A", {"text": "to a channel that hangs"}), None)
        await outbox.add(Reply("D0B", {"text": "to another"}), None)
        senders(outbox)
        await until(lambda: api.posts_to("D0B") and api.hung_posts_to("D0A"))
    await until(lambda: not rows(db_url))
    assert texts(api.posts_to("D0A")) == ["to a channel that hangs"]
