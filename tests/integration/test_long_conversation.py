"""A learner who keeps talking: 300 messages in one session, after which a follow-up, a form
resumed after an interruption and the profile still work, while the Rasa server loads only a
window of recent turns (addons/conversation_window.py) and the store keeps every message."""

import sqlite3

import pytest

from addons.conversation_window import MOVE_AFTER_TURNS
from common.learner_ids import learner_id
from scripts.bench import OUR_LONG_CONVERSATION as QUESTIONS
from tests.support import new_sender, text_of

pytestmark = pytest.mark.integration

LENGTH = 300
ASK_YEARS = "How many years of work experience do you have in healthcare?"
ASK_SETTING = "Where would you like to work?"


def test_after_300_messages_follow_ups_forms_and_the_profile_still_work(assistant, servers_dir):
    ana = new_sender("long")
    said = [assistant.say(ana, "I'm a nurse with a BSN")]
    while len(said) < LENGTH - 8:
        said.append(assistant.say(ana, QUESTIONS[len(said) % len(QUESTIONS)]))
    assert all(text_of(replies) for replies in said)

    # A follow-up on the answer just given.
    said.append(assistant.say(ana, "what certifications could I get?"))
    first = text_of(assistant.say(ana, "tell me more about the first one"))
    assert first.startswith("CCRP (Certified Clinical Research Professional)"), first

    # A form, interrupted by a question, resumes where it was (it does not ask what the
    # learner's first message already said: education and current job).
    assert "Which role are you aiming for?" in text_of(
        assistant.say(ana, "ask me about my background")
    )
    assert ASK_YEARS in text_of(assistant.say(ana, "skip this one"))
    interrupted = text_of(assistant.say(ana, "wait, which certifications would help me most?"))
    assert "CCRP" in interrupted and interrupted.endswith(ASK_YEARS), interrupted
    assert ASK_SETTING in text_of(assistant.say(ana, "skip this one"))
    assistant.say(ana, "stop asking me questions")

    # The profile, from the first message, 300 messages ago.
    export = text_of(assistant.say(ana, "export my data"))
    assert "Education: bachelor's degree (nursing)" in export, export

    with sqlite3.connect(servers_dir / "conversations.db") as db:
        stored = db.execute(
            "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user'",
            (learner_id("rest", ana),),
        ).fetchone()[0]
        window_starts = db.execute(
            "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user' AND id >= "
            "(SELECT first_event_id FROM conversation_windows WHERE sender_id = ?)",
            (learner_id("rest", ana), learner_id("rest", ana)),
        ).fetchone()[0]
    assert stored == LENGTH
    assert 0 < window_starts <= MOVE_AFTER_TURNS
