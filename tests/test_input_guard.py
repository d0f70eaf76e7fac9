"""What the REST and website-widget channels do with bad input, without servers: which messages
get a friendly reply instead of the NLU (addons/input_guard.py), which REST bodies get a 400
(addons/rest_channel.py), and that credentials.yml serves our REST channel at Rasa's URL."""

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.run import create_http_input_channels

from addons.input_guard import (
    EMPTY,
    MAX_MESSAGE_CHARS,
    NOT_TEXT,
    SORRY,
    TOO_LONG,
    apologising,
    readable,
    reply_instead,
)
from addons.rest_channel import MAX_SENDER_CHARS, RestInput, request_problem


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
    ],
)
def test_a_malformed_request_body_is_named_in_one_sentence(body, problem):
    assert problem in request_problem(body)


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
