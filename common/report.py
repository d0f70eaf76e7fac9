"""The operators' report: what learners ask and where the assistant falls short, over a period.

It reads the conversation store (Rasa's `events` table, addons/tracker_store.py) and the learner
database (`learners`, `learner_milestones`), on SQLite or PostgreSQL. Counting happens in the
database (GROUP BY); the one pass in Python, which message was answered by which action, reads
only the columns it needs, in order, streamed. Each figure is one function returning plain
dataclasses; common/report_page.py renders them.

Learners appear only as a keyed hash of their id (`learner_hash`), and a learner who deleted their
data has neither events nor learner rows left, so no report run after it can show them.

The tables are named here with SQLAlchemy's lightweight `table()`/`column()` rather than imported
from Rasa or actions/: the Rasa server's image holds no action-server code (tests/
test_deployment_files.py), and a query needs only the names.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import yaml
from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    func,
    inspect,
    or_,
    select,
    table,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from common.db import engine_for, printable, without_time_limits
from common.goals import today
from common.learner_ids import channel_of

# config.yml's FallbackClassifier threshold: below it NLU gives up on the intent (nlu_fallback,
# whose own confidence is then the threshold itself, so it counts as low too).
LOW_CONFIDENCE = 0.4
FALLBACK_INTENT = "nlu_fallback"
CLARIFY_ACTION = "action_clarify"
NOT_COVERED_PREFIX = "utter_not_covered_"
TOPIC_PREFIX = "ask_"
# ask_* intents that refer to the last answer rather than name a topic.
FOLLOW_UP_INTENTS = frozenset({"ask_more", "ask_about_item", "ask_which_of_those"})
# An answer follows its message within milliseconds; this much past the period's end still
# finds the answer to a message sent just before it.
ANSWER_SLACK_SECONDS = 600
EXAMPLES_PER_GROUP = 3
SIMILAR_WORDING = 0.6  # token-set Jaccard at or above which two wordings are one question
HASH_LENGTH = 12  # hex digits of the keyed hash a learner is shown as

events = table(
    "events",
    column("id", Integer),
    column("sender_id", String),
    column("type_name", String),
    column("timestamp", Float),
    column("intent_name", String),
    column("action_name", String),
    column("data", String),
)
learners = table("learners", column("sender_id", String))
learner_milestones = table(
    "learner_milestones", column("sender_id", String), column("milestone", String)
)
learner_goals = table(
    "learner_goals", column("id", Integer), column("status", String), column("due_on", Date)
)
learner_goal_changes = table(
    "learner_goal_changes", column("change", String), column("changed_at", DateTime)
)


# --- SQL that differs between SQLite and PostgreSQL -------------------------------------------


class utc_day(FunctionElement):
    """Days since 1970-01-01 (UTC) of an epoch-seconds column, as an integer."""

    type = Integer()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element, compiler, **kw):
    (seconds,) = element.clauses
    return f"CAST({compiler.process(seconds, **kw)} / 86400 AS INTEGER)"  # truncates: > 0


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element, compiler, **kw):
    (seconds,) = element.clauses
    return f"CAST(FLOOR({compiler.process(seconds, **kw)} / 86400) AS INTEGER)"


class json_text(FunctionElement):
    """A value inside a JSON text column, as text: json_text(events.c.data, "metadata", "x").
    The path is fixed by this module's code, never by input, so it is written into the SQL."""

    type = String()
    # The path is not part of SQLAlchemy's cache key: statements holding this are not cached.
    inherit_cache = False

    def __init__(self, expression, *path: str) -> None:
        if not all(re.fullmatch(r"[a-z_]+", key) for key in path):
            raise ValueError(f"unexpected JSON path {path!r}")
        self.path = path
        super().__init__(expression)


@compiles(json_text)
def _json_text_sqlite(element, compiler, **kw):
    (data,) = element.clauses
    return f"json_extract({compiler.process(data, **kw)}, '$.{'.'.join(element.path)}')"


@compiles(json_text, "postgresql")
def _json_text_postgresql(element, compiler, **kw):
    (data,) = element.clauses
    return f"(CAST({compiler.process(data, **kw)} AS JSON) #>> '{{{','.join(element.path)}}}')"


def _confidence():
    return cast(json_text(events.c.data, "parse_data", "intent", "confidence"), Float)


# --- the period and learners' hashes -----------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first_day: date  # UTC days, both included
    last_day: date

    @classmethod
    def last_days(cls, days: int = 30, today: date | None = None) -> Period:
        today = today or datetime.now(timezone.utc).date()
        return cls(today - timedelta(days=days - 1), today)

    @property
    def start(self) -> float:
        return _epoch(self.first_day)

    @property
    def end(self) -> float:  # exclusive
        return _epoch(self.last_day + timedelta(days=1))

    def days(self) -> list[date]:
        return [
            self.first_day + timedelta(days=n)
            for n in range((self.last_day - self.first_day).days + 1)
        ]


def _epoch(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=timezone.utc).timestamp()


def _day(day_number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day_number))


def learner_hash(sender_id: str, key: str) -> str:
    """How the report shows a learner: a keyed hash of their id (HMAC-SHA256, shortened). Without
    the key, no one can tell whose id it is by hashing ids they know."""
    digest = hmac.new(key.encode(), sender_id.encode(), hashlib.sha256).hexdigest()
    return digest[:HASH_LENGTH]


def channel(sender_id: str) -> str:
    """The channel of a learner id (common/learner_ids.py): not personal, and telling."""
    return channel_of(sender_id) or "?"


# --- the figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    messages: int
    learners: int


@dataclass(frozen=True)
class Share:
    name: str
    count: int
    share: float  # of the whole the figure is about, 0 to 1


@dataclass(frozen=True)
class ConfidenceDay:
    day: date
    messages: int
    mean_confidence: float | None
    low: int  # messages below LOW_CONFIDENCE, or NLU's fallback


@dataclass(frozen=True)
class WordingGroup:
    """Messages of similar wording that fell short, with the commonest wordings as examples."""

    wording: str  # the commonest message of the group, as written
    count: int
    examples: list[str]
    kinds: list[str] = field(default_factory=list)  # not covered: money, duration, ...


@dataclass(frozen=True)
class Turn:
    timestamp: float
    text: str
    intent: str | None
    confidence: float | None
    answered_by: str | None  # the first action after the message other than action_listen
    not_covered: str | None  # the kind, when the answer said the documents don't cover it
    replies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConversationSummary:
    learner: str  # hashed
    channel: str
    messages: int
    last_message: float


@dataclass(frozen=True)
class Conversation:
    learner: str  # hashed
    channel: str
    turns: list[Turn]


@dataclass(frozen=True)
class GoalCounts:
    set: int  # in the period
    done: int
    dropped: int
    open: int  # now
    overdue: int  # open, and due before today


@dataclass(frozen=True)
class Report:
    period: Period
    messages: int
    active_learners: int
    days: list[Day]
    topics: list[Share]
    follow_ups: int
    confidence: list[ConfidenceDay]
    mean_confidence: float | None
    low_confidence: int
    clarified: list[WordingGroup]
    clarified_messages: int
    not_covered: list[WordingGroup]
    not_covered_messages: int
    learners_stored: int
    funnel: list[Share]
    goals: GoalCounts
    conversations: list[ConversationSummary]

    @property
    def low_confidence_share(self) -> float:
        return self.low_confidence / self.messages if self.messages else 0.0


def _user_messages_in(period: Period):
    return and_(
        events.c.type_name == "user",
        events.c.timestamp >= period.start,
        events.c.timestamp < period.end,
    )


def activity_by_day(connection: Connection, period: Period) -> list[Day]:
    """Messages and distinct learners per day; every day of the period, quiet ones as zero."""
    day = utc_day(events.c.timestamp).label("day")
    rows = connection.execute(
        select(day, func.count(), func.count(events.c.sender_id.distinct()))
        .where(_user_messages_in(period))
        .group_by(day)
    ).all()
    found = {_day(number): Day(_day(number), messages, people) for number, messages, people in rows}
    return [found.get(day, Day(day, 0, 0)) for day in period.days()]


def totals(connection: Connection, period: Period) -> tuple[int, int]:
    """Messages, and learners who sent at least one, in the period."""
    messages, people = connection.execute(
        select(func.count(), func.count(events.c.sender_id.distinct())).where(
            _user_messages_in(period)
        )
    ).one()
    return messages, people


def topics_asked(connection: Connection, period: Period) -> tuple[list[Share], int]:
    """Questions per topic intent (ask_<topic>), most asked first, each with its share of all
    topic questions; and the number of follow-ups ("tell me more"), counted apart."""
    rows = connection.execute(
        select(events.c.intent_name, func.count())
        .where(_user_messages_in(period), events.c.intent_name.like(f"{TOPIC_PREFIX}%"))
        .group_by(events.c.intent_name)
    ).all()
    counts = {intent: count for intent, count in rows if intent.startswith(TOPIC_PREFIX)}
    follow_ups = sum(counts.pop(intent, 0) for intent in FOLLOW_UP_INTENTS)
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Share(intent, count, count / total) for intent, count in ranked], follow_ups


def confidence_by_day(connection: Connection, period: Period) -> list[ConfidenceDay]:
    """NLU's confidence in the intent it picked: the mean per day, and how many were low."""
    day = utc_day(events.c.timestamp).label("day")
    confidence = _confidence()
    low = or_(confidence < LOW_CONFIDENCE, events.c.intent_name == FALLBACK_INTENT)
    rows = connection.execute(
        select(day, func.count(), func.avg(confidence), func.sum(case((low, 1), else_=0)))
        .where(_user_messages_in(period))
        .group_by(day)
    ).all()
    found = {
        _day(number): ConfidenceDay(
            _day(number), count, None if mean is None else float(mean), int(lows or 0)
        )
        for number, count, mean, lows in rows
    }
    return [found.get(day, ConfidenceDay(day, 0, None, 0)) for day in period.days()]


def path_funnel(connection: Connection, steps: list[dict]) -> tuple[int, list[Share]]:
    """Learners in the learner database now, and how many of them have reached each milestone,
    in the career path's order (steps: knowledge/path.yml's, each with `key` and `title`)."""
    stored = connection.execute(select(func.count()).select_from(learners)).scalar_one()
    reached = dict(
        connection.execute(
            select(learner_milestones.c.milestone, func.count()).group_by(
                learner_milestones.c.milestone
            )
        ).all()
    )
    titles = {step["key"]: step["title"] for step in steps}
    keys = [step["key"] for step in steps] + sorted(set(reached) - set(titles))
    return stored, [
        Share(
            titles.get(key, key), reached.get(key, 0), reached.get(key, 0) / stored if stored else 0
        )
        for key in keys
    ]


def goal_counts(connection: Connection, period: Period, today: date) -> GoalCounts:
    """Goals set, done and dropped in the period (their history), and open and overdue now."""
    start = datetime.fromtimestamp(period.start, timezone.utc).replace(tzinfo=None)
    end = datetime.fromtimestamp(period.end, timezone.utc).replace(tzinfo=None)
    changes = dict(
        connection.execute(
            select(learner_goal_changes.c.change, func.count())
            .where(learner_goal_changes.c.changed_at >= start)
            .where(learner_goal_changes.c.changed_at < end)
            .group_by(learner_goal_changes.c.change)
        ).all()
    )
    is_open = learner_goals.c.status == "open"
    overdue = and_(is_open, learner_goals.c.due_on < today)
    open_now, overdue_now = connection.execute(
        select(func.count().filter(is_open), func.count().filter(overdue)).select_from(
            learner_goals
        )
    ).one()
    return GoalCounts(
        changes.get("set", 0), changes.get("done", 0), changes.get("dropped", 0),
        int(open_now or 0), int(overdue_now or 0),
    )  # fmt: skip


def recent_conversations(
    connection: Connection, period: Period, key: str, limit: int = 50
) -> list[ConversationSummary]:
    """The conversations with messages in the period, the latest first, learners hashed."""
    last = func.max(events.c.timestamp).label("last")
    rows = connection.execute(
        select(events.c.sender_id, func.count(), last)
        .where(_user_messages_in(period))
        .group_by(events.c.sender_id)
        .order_by(last.desc(), events.c.sender_id)
        .limit(limit)
    ).all()
    return [
        ConversationSummary(learner_hash(sender, key), channel(sender), count, last)
        for sender, count, last in rows
    ]


def turns(
    connection: Connection,
    since: float | None = None,
    until: float | None = None,
    sender_id: str | None = None,
    with_replies: bool = False,
) -> Iterator[tuple[str, Turn]]:
    """(learner id, turn) for each message sent in [since, until) (or ever), in order per learner:
    one ordered, streamed pass over the messages, the actions other than action_listen and the
    bot's replies (only those saying "not covered" unless with_replies)."""
    utter_action = json_text(events.c.data, "metadata", "utter_action")
    text = case((events.c.type_name.in_(["user", "bot"]), json_text(events.c.data, "text")))
    confidence = case((events.c.type_name == "user", _confidence()))
    replied = case((events.c.type_name == "bot", utter_action))
    when = []
    if since is not None:
        when.append(events.c.timestamp >= since)
    answers_until = []
    if until is not None:
        answers_until.append(events.c.timestamp < until + ANSWER_SLACK_SECONDS)
    bots = events.c.type_name == "bot"
    if not with_replies:
        bots = and_(bots, utter_action.like(f"{NOT_COVERED_PREFIX}%"))
    query = (
        select(
            events.c.sender_id,
            events.c.type_name,
            events.c.timestamp,
            events.c.intent_name,
            events.c.action_name,
            text,
            confidence,
            replied,
        )
        .where(
            *when,
            or_(
                and_(
                    events.c.type_name == "user",
                    *([events.c.timestamp < until] if until is not None else []),
                ),
                and_(
                    events.c.type_name == "action",
                    events.c.action_name != "action_listen",
                    *answers_until,
                ),
                and_(bots, *answers_until),
            ),
        )
        .order_by(events.c.sender_id, events.c.id)
    )
    if sender_id is not None:
        query = query.where(events.c.sender_id == sender_id)

    current: dict | None = None
    current_sender = None

    def finished():
        return current_sender, Turn(**current)

    # Streamed in batches (a server-side cursor on PostgreSQL), for this statement only.
    rows = connection.execute(query, execution_options={"stream_results": True, "yield_per": 5000})
    for sender, kind, timestamp, intent, action, said, confidence_value, response in rows:
        if sender != current_sender and current is not None:
            yield finished()
            current = None
        current_sender = sender
        if kind == "user":
            if current is not None:
                yield finished()
            current = dict(
                timestamp=timestamp,
                text=said or "",
                intent=intent,
                confidence=None if confidence_value is None else float(confidence_value),
                answered_by=None,
                not_covered=None,
                replies=[],
            )
        elif current is None:
            continue  # what the bot did before the first message of the period
        elif kind == "action":
            current["answered_by"] = current["answered_by"] or action
        else:
            if response and response.startswith(NOT_COVERED_PREFIX):
                current["not_covered"] = (
                    current["not_covered"] or response[len(NOT_COVERED_PREFIX) :]
                )
            if with_replies and said:
                current["replies"].append(said)
    if current is not None:
        yield finished()


# --- grouping similar wording ----------------------------------------------------------------

STOP_WORDS = frozenset(
    """a an the and or but if of to in on at for from by with about as into is are was were be
    been being am do does did doing have has had having i me my mine we our you your it its this
    that these those there here what which who whom whose how why when where can could should
    would will shall may might must please tell know want need get got so just also any some
    than then too very much many more most s t whats hows wheres whos thats im ive id ill dont
    doesnt isnt cant hi hello hey sorry quick question thanks thank ok okay""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def wording_key(text: str) -> frozenset[str]:
    """What a message says, for grouping: its words lowercased, without punctuation, function
    words or pleasantries ("hi, sorry, quick question:"), plurals folded ("salaries?" and "the
    salary" share "salary")."""
    words = set()
    for word in _WORD.findall(text.lower().replace("'", "")):
        if word in STOP_WORDS:
            continue
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def _jaccard(one: frozenset, other: frozenset) -> float:
    union = len(one | other)
    return len(one & other) / union if union else 1.0


def group_similar(
    messages: Iterable[tuple[str, str | None]], threshold: float = SIMILAR_WORDING
) -> list[WordingGroup]:
    """Groups of similar wording, largest first. messages: (text, kind or None).

    Equal keys (wording_key) are one group; then, the commonest key first, each key joins the
    group whose first key it is most alike (token-set Jaccard >= threshold), or starts its own.
    Deterministic: ties are broken by the text."""
    texts: dict[frozenset, Counter] = defaultdict(Counter)
    kinds: dict[frozenset, Counter] = defaultdict(Counter)
    for text, kind in messages:
        key = wording_key(text)
        texts[key][text.strip()] += 1
        if kind:
            kinds[key][kind] += 1
    order = sorted(
        texts, key=lambda k: (-sum(texts[k].values()), " ".join(sorted(k)), sorted(texts[k]))
    )
    # Each key is compared only with leaders sharing one of its rarest words (prefix filtering:
    # two sets of Jaccard >= threshold share a word among the first len - ceil(threshold * len)
    # + 1 of each, in one global order, rarest first), so a long tail of wordings stays fast.
    rarity = Counter(word for key in texts for word in key)

    def prefix(key: frozenset) -> list[str]:
        ordered = sorted(key, key=lambda word: (rarity[word], word))
        return ordered[: len(ordered) - math.ceil(threshold * len(ordered) - 1e-9) + 1]

    leaders: dict[frozenset, int] = {}  # leader -> its rank (the first is the commonest)
    members: dict[frozenset, list[frozenset]] = {}
    by_word: dict[str, list[frozenset]] = defaultdict(list)  # leaders by their prefix's words
    for key in order:
        candidates = {leader for word in prefix(key) for leader in by_word[word]}
        alike = [(_jaccard(key, leader), -leaders[leader], leader) for leader in candidates]
        best = max((entry for entry in alike if entry[0] >= threshold), default=None)
        if best is None:
            leaders[key] = len(leaders)
            members[key] = [key]
            for word in prefix(key):
                by_word[word].append(key)
        else:
            members[best[2]].append(key)
    groups = []
    for leader in leaders:
        # Named by the commonest wording of its first (commonest) key.
        named = sorted(texts[leader].items(), key=lambda item: (-item[1], item[0]))[0][0]
        said: Counter = Counter()
        kinded: Counter = Counter()
        for key in members[leader]:
            said.update(texts[key])
            kinded.update(kinds[key])
        common = sorted(said.items(), key=lambda item: (-item[1], item[0]))
        groups.append(
            WordingGroup(
                wording=named,
                count=sum(said.values()),
                examples=[text for text, _ in common[:EXAMPLES_PER_GROUP]],
                kinds=sorted(kinded),
            )
        )
    return sorted(groups, key=lambda group: (-group.count, group.wording))


# --- the whole report ------------------------------------------------------------------------


def path_steps(knowledge_dir: Path) -> list[dict]:
    """The career path's milestones, in order (knowledge/path.yml)."""
    return yaml.safe_load((knowledge_dir / "path.yml").read_text(encoding="utf-8"))["steps"]


class MissingStore(Exception):
    """The database named holds no conversation store (yet): a wrong URL, or no server has
    started on it."""


def _has_table(connection: Connection, name: str) -> bool:
    return inspect(connection).has_table(name)


def build_report(
    tracker_db_url: str,
    learner_db_url: str,
    period: Period,
    key: str,
    steps: list[dict],
) -> Report:
    with engine_for(tracker_db_url).begin() as connection:
        without_time_limits(connection)  # a report reads much at once; it writes nothing
        if not _has_table(connection, "events"):
            raise MissingStore(f"no conversations stored at {printable(tracker_db_url)}")
        messages, active = totals(connection, period)
        topics, follow_ups = topics_asked(connection, period)
        confidence = confidence_by_day(connection, period)
        clarified, not_covered = [], []
        for _, turn in turns(connection, period.start, period.end):
            if turn.not_covered:
                not_covered.append((turn.text, turn.not_covered))
            elif turn.answered_by == CLARIFY_ACTION:
                clarified.append((turn.text, None))
        report_days = activity_by_day(connection, period)
        conversations = recent_conversations(connection, period, key)
    with engine_for(learner_db_url).begin() as connection:
        without_time_limits(connection)
        if _has_table(connection, "learner_milestones"):
            stored, funnel = path_funnel(connection, steps)
        else:  # the action server migrates it on its first start
            stored, funnel = 0, [Share(step["title"], 0, 0.0) for step in steps]
        if _has_table(connection, "learner_goals"):
            goals = goal_counts(connection, period, today())
        else:
            goals = GoalCounts(0, 0, 0, 0, 0)
    weighted = [(day.mean_confidence, day.messages) for day in confidence if day.mean_confidence]
    counted = sum(count for _, count in weighted)
    return Report(
        period=period,
        messages=messages,
        active_learners=active,
        days=report_days,
        topics=topics,
        follow_ups=follow_ups,
        confidence=confidence,
        mean_confidence=sum(m * c for m, c in weighted) / counted if counted else None,
        low_confidence=sum(day.low for day in confidence),
        clarified=group_similar(clarified),
        clarified_messages=len(clarified),
        not_covered=group_similar(not_covered),
        not_covered_messages=len(not_covered),
        learners_stored=stored,
        funnel=funnel,
        goals=goals,
        conversations=conversations,
    )


def find_conversation(tracker_db_url: str, hashed: str, key: str) -> Conversation | None:
    """A learner's whole conversation, found by the hash the report shows for them; None when no
    learner who has sent a message has that hash (e.g. they deleted their data)."""
    if not re.fullmatch(f"[0-9a-f]{{{HASH_LENGTH}}}", hashed):
        return None
    with engine_for(tracker_db_url).begin() as connection:
        without_time_limits(connection)
        if not _has_table(connection, "events"):
            return None
        senders = connection.execute(
            select(events.c.sender_id).where(events.c.type_name == "user").distinct()
        ).scalars()
        matching = [
            sender for sender in senders if hmac.compare_digest(learner_hash(sender, key), hashed)
        ]
        if not matching:
            return None
        sender = matching[0]
        found = [turn for _, turn in turns(connection, sender_id=sender, with_replies=True)]
    return Conversation(learner_hash(sender, key), channel(sender), found)
