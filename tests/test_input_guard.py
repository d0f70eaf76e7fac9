"""What the REST and website-widget channels do with bad input, without servers: which messages
get a friendly reply instead of the NLU (addons/input_guard.py), which REST bodies and callers
are refused (addons/rest_channel.py), when a learner is asked to slow down, and that
credentials.yml serves our REST channel at Rasa's URL."""

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.run import create_http_input_channels

from addons.input_guard import (
    EMPTY,
    MAX_MESSAGE_CHARS,
    MAX_METADATA_BYTES,
    MAX_UNANSWERED,
    NOT_TEXT,
    SLOW_DOWN,
    SORRY,
    TOO_LONG,
    Unanswered,
    apologising,
    pacing,
    readable,
    reply_instead,
)
from addons.rest_channel import MAX_SENDER_CHARS, RestInput, caller_problem, request_problem
from common.learner_ids import learner_id

TOKEN = "0123456789abcdef0123456789abcdef"


def test_credentials_yml_uses_our_rest_channel_under_rasas_name_and_url():
    channels = create_http_input_channels(None, "credentials.yml")
    [rest] = [channel for channel in channels if channel.name() == "rest"]
    assert isinstance(rest, RestInput)
    assert rest.url_prefix() == "rest"  # /webhooks/rest/webhook, as before


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        ("what certifications should I get?", None),
        ("/affirm", None),
        ("🎉", None),
        ("مرحبا", None),
        ("a" * MAX_MESSAGE_CHARS, None),
        (" " * 5000 + "hi", None),  # long only with padding: trimmed, then fine
        ("", EMPTY),
        ("  \n\t\u00a0\u3000", EMPTY),
        ("\x00\x1b\x07\x7f\x85", EMPTY),
        ("\ud800", EMPTY),  # a lone surrogate: UTF-8 cannot store it
        ("a" * (MAX_MESSAGE_CHARS + 1), TOO_LONG),
        ("\x00" * (MAX_MESSAGE_CHARS + 1), TOO_LONG),
        (None, NOT_TEXT),
        (42, NOT_TEXT),
        (["hi"], NOT_TEXT),
        ({"text": "hi"}, NOT_TEXT),
        (b"hi", NOT_TEXT),
    ],
)
def test_a_message_the_assistant_should_not_see_gets_a_friendly_reply(message, reply):
    assert reply_instead(message) == reply


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("hello\x00world", "hello world"),
        ("\x1b[31mred", "[31mred"),
        ("line\nnext\ttab", "line\nnext\ttab"),
        ("\ud800hi\udfff", "hi"),
        ("  padded\r\n", "padded"),
        ("\u200fمدير", "\u200fمدير"),  # direction marks are formatting, not control: kept
        ("👩\u200d⚕️", "👩\u200d⚕️"),  # so is the zero-width joiner inside an emoji
    ],
)
def test_control_characters_and_lone_surrogates_are_dropped(text, cleaned):
    assert readable(text) == cleaned


@pytest.mark.parametrize(
    "body",
    [
        {"sender": "s", "message": "hi"},
        {"sender": "s", "message": ""},  # valid: answered with a friendly reply
        {"sender": "web-" + "a" * 32, "message": "hi", "metadata": {"k": 1}},
        {"sender": "s", "message": "hi", "metadata": None},
        {"sender": "s" * MAX_SENDER_CHARS, "message": "hi"},
        {"sender": "s", "message": "hi", "metadata": {"k": "v" * (MAX_METADATA_BYTES - 20)}},
    ],
)
def test_a_well_formed_request_body_passes(body):
    assert request_problem(body) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (None, "JSON object"),
        ([{"sender": "s", "message": "hi"}], "JSON object"),
        ("hello", "JSON object"),
        (42, "JSON object"),
        ({}, '"sender"'),
        ({"message": "hi"}, '"sender"'),  # Rasa used the shared "default" conversation
        ({"sender": None, "message": "hi"}, '"sender"'),
        ({"sender": 42, "message": "hi"}, '"sender"'),  # Rasa stored it as "42"
        ({"sender": ["s"], "message": "hi"}, '"sender"'),
        ({"sender": "", "message": "hi"}, '"sender"'),
        ({"sender": "   ", "message": "hi"}, '"sender"'),
        ({"sender": "s" * (MAX_SENDER_CHARS + 1), "message": "hi"}, '"sender"'),
        ({"sender": "a\x00b", "message": "hi"}, '"sender"'),
        ({"sender": "s"}, '"message"'),
        ({"sender": "s", "message": None}, '"message"'),
        ({"sender": "s", "message": 42}, '"message"'),
        ({"sender": "s", "message": ["hi"]}, '"message"'),
        ({"sender": "s", "message": "hi", "metadata": "x"}, '"metadata"'),
        ({"sender": "s", "message": "hi", "metadata": [1]}, '"metadata"'),
        ({"sender": "s", "message": "hi", "metadata": {"k": "v" * MAX_METADATA_BYTES}}, "bytes"),
        ({"sender": "s", "message": "hi", "metadata": {"k": "é" * MAX_METADATA_BYTES}}, "bytes"),
    ],
)
def test_a_malformed_request_body_is_named_in_one_sentence(body, problem):
    assert problem in request_problem(body)


def test_the_longest_sender_still_fits_the_learner_databases_ids_once_prefixed():
    assert len(learner_id("rest", "s" * MAX_SENDER_CHARS)) == 255  # VARCHAR(255)


@pytest.mark.parametrize(
    ("configured", "authorization", "status", "says"),
    [
        ("", None, 403, "set REST_API_TOKEN"),  # REST is off until the operator sets a token
        ("", f"Bearer {TOKEN}", 403, "set REST_API_TOKEN"),
        ("", "Bearer ", 403, "set REST_API_TOKEN"),
        (TOKEN, None, 401, "Authorization: Bearer"),
        (TOKEN, "", 401, "Authorization: Bearer"),
        (TOKEN, "Bearer", 401, "Authorization: Bearer"),
        (TOKEN, "Bearer ", 401, "Authorization: Bearer"),
        (TOKEN, "Bearer not-the-token", 401, "Authorization: Bearer"),
        (TOKEN, f"Bearer {TOKEN[:-1]}", 401, "Authorization: Bearer"),
        (TOKEN, f"Bearer {TOKEN}x", 401, "Authorization: Bearer"),
        (TOKEN, f"Basic {TOKEN}", 401, "Authorization: Bearer"),
        (TOKEN, TOKEN, 401, "Authorization: Bearer"),
        (TOKEN, f"Bearer {TOKEN}", None, None),
        (TOKEN, f"bearer {TOKEN}", None, None),  # the scheme is case-insensitive (RFC 7235)
    ],
)
def test_only_callers_with_the_rest_token_are_let_in(configured, authorization, status, says):
    problem = caller_problem(authorization, configured)
    if status is None:
        assert problem is None
    else:
        assert problem[0] == status and says in problem[1]


async def test_a_learner_with_too_many_unanswered_messages_is_asked_to_slow_down():
    """Each message is answered, or told at once to slow down and not taken on; one learner's
    backlog slows nobody else down, and once answered the learner is heard again."""
    answer_now = asyncio.Event()

    async def answer_when_told(message: UserMessage) -> None:
        await answer_now.wait()
        await message.output_channel.send_text_message(message.sender_id, "an answer")

    handle = pacing(answer_when_told, Unanswered())

    def send(learner: str) -> tuple[CollectingOutputChannel, asyncio.Task]:
        output = CollectingOutputChannel()
        return output, asyncio.create_task(handle(UserMessage("hi", output, learner)))

    anas = [send("rest:ana") for _ in range(MAX_UNANSWERED + 2)]
    bens = send("rest:ben")
    await asyncio.sleep(0)  # every message has arrived; none is answered yet
    assert [texts(output) for output, _ in anas[MAX_UNANSWERED:]] == [[SLOW_DOWN], [SLOW_DOWN]]

    answer_now.set()
    await asyncio.gather(*(task for _, task in [*anas, bens]))
    assert [texts(output) for output, _ in anas[:MAX_UNANSWERED]] == [["an answer"]] * (
        MAX_UNANSWERED
    )
    assert texts(bens[0]) == ["an answer"]
    output, task = send("rest:ana")
    await task
    assert texts(output) == ["an answer"]


def texts(output: CollectingOutputChannel) -> list[str]:
    return [message["text"] for message in output.messages]


async def test_a_failure_while_answering_is_logged_and_apologised_for(caplog):
    async def failing(message: UserMessage) -> None:
        raise RuntimeError("the tracker store is gone")

    output = CollectingOutputChannel()
    await apologising(failing)(UserMessage("hi", output, "s"))
    assert [m["text"] for m in output.messages] == [SORRY]
    assert "Could not answer a message from s" in caplog.text


async def test_an_answered_message_gets_no_apology():
    async def answering(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Hello!")

    output = CollectingOutputChannel()
    await apologising(answering)(UserMessage("hi", output, "s"))
    assert [m["text"] for m in output.messages] == ["Hello!"]
