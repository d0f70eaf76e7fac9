"""The local cluster, for real: two Rasa replicas (each with its own action server) behind nginx,
sharing PostgreSQL (conversations, learners, knowledge) and Redis (the conversation lock).

A learner's turns may land on either replica and the conversation carries on as if there were one
server; two messages of one learner arriving at both replicas at once are handled one after the
other; and an existing SQLite installation moves into the cluster's PostgreSQL with nothing lost.
Skipped only where PostgreSQL, Redis or nginx cannot be installed (not root; .ci/run is).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import date

import pytest
import requests
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

from actions.goal_store import GoalStore
from actions.learner_store import ProgressStore, migrate
from addons.tracker_store import ErasableSQLTrackerStore
from common.db import engine_for
from common.goals import today
from common.learner_ids import learner_id
from common.settings import PROJECT_ROOT
from scripts import cluster
from scripts.local_servers import BIN, rasa_env
from tests.integration.conftest import slack_settings
from tests.integration.widget_client import WidgetClient
from tests.support import (
    CERTIFICATIONS_ANSWER,
    fact_text,
    new_sender,
    progress_summary,
    step_title,
    text_of,
)

pytestmark = pytest.mark.integration


@dataclass
class Cluster:
    layout: cluster.Layout
    settings: dict[str, str]

    @property
    def replicas(self) -> list[str]:
        return self.layout.replica_urls

    def say(self, url: str, sender: str, message: str) -> tuple[str, str]:
        """One REST turn at `url` (a replica or nginx): the reply's text and who answered."""
        response = requests.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers={"Authorization": f"Bearer {self.settings['REST_API_TOKEN']}"},
            timeout=60,
        )
        response.raise_for_status()
        answered_by = response.headers.get("X-Replica", url.rsplit("/", 1)[-1])
        return text_of(response.json()), answered_by

    def tracker(self, replica: str, sender: str) -> dict:
        """The conversation of a REST sender, through a replica's HTTP API."""
        response = requests.get(
            f"{replica}/conversations/{learner_id('rest', sender)}/tracker",
            params={"token": self.settings["RASA_API_TOKEN"]},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory, slack_web_api, slack_signing_secret):
    """`make cluster-up` as an operator runs it, on ports and a database of its own (so that it
    leaves an operator's cluster alone), with Slack on (its Web API the local stand-in) and the
    goals' reminders looked for every second; `make cluster-down` afterwards."""
    layout = cluster.Layout.beside(
        tmp_path_factory.mktemp("cluster"), "coach_cluster_test", port_offset=100
    )
    slack = slack_settings(slack_web_api, slack_signing_secret)
    try:
        with pytest.MonkeyPatch.context() as env:  # the replicas start with the caller's env
            for name, value in slack.items():
                env.setenv(name, value)
            settings = cluster.up(layout)
    except cluster.ClusterUnavailable as unavailable:
        pytest.skip(f"the local cluster {unavailable}")
    try:
        yield Cluster(layout, settings)
    finally:
        cluster.down(layout)
        assert not cluster.recorded(layout), "cluster-down left processes running"


def test_a_conversation_alternating_between_the_replicas_is_one_conversation(local_cluster):
    one, two = local_cluster.replicas
    ana = new_sender()

    local_cluster.say(one, ana, "what certifications could I get?")
    # Context: the list just given, remembered in the shared tracker store.
    assert "CCRP" in local_cluster.tracker(two, ana)["slots"]["listed_items"]
    more, _ = local_cluster.say(two, ana, "tell me more about the first one")
    assert more.startswith("CCRP (Certified Clinical Research Professional)"), more

    # Background and progress: written by replica 1's action server, read by replica 2's.
    background, _ = local_cluster.say(one, ana, "I'm a nurse with a BSN")
    assert "Education: bachelor's degree (nursing)" in background, background
    local_cluster.say(one, ana, "I passed the CCRP")
    progress, _ = local_cluster.say(two, ana, "show my progress")
    # The BSN, a nurse's clinical experience and the CCRP.
    assert progress.startswith(f"Your progress: {progress_summary(3)}."), progress
    assert local_cluster.tracker(two, ana)["slots"]["education"] is not None

    next_steps, _ = local_cluster.say(one, ana, "what should I do next?")
    assert next_steps.startswith("Your next steps:"), next_steps
    assert step_title("certification") not in next_steps


def test_rest_through_nginx_is_spread_over_both_replicas_and_keeps_context(local_cluster):
    ben = new_sender()
    answered_by = set()
    for message, expected in (
        ("which certs would boost my cv?", CERTIFICATIONS_ANSWER),
        ("tell me more about the first one", "CCRP (Certified Clinical Research Professional)"),
        ("I just joined ACRP", ""),
        ("show my progress", f"Your progress: {progress_summary(1)}."),
    ):
        reply, replica = local_cluster.say(local_cluster.layout.url, ben, message)
        assert reply.startswith(expected), reply
        answered_by.add(replica)
    assert answered_by == {f"127.0.0.1:{port}" for port in local_cluster.layout.rasa_ports}


def test_rest_through_nginx_needs_the_token(local_cluster):
    refused = requests.post(
        f"{local_cluster.layout.url}/webhooks/rest/webhook",
        json={"sender": new_sender(), "message": "show my progress"},
        timeout=30,
    )
    assert refused.status_code == 401, refused.text


def test_rasas_http_api_is_not_on_the_public_port(local_cluster):
    url = f"{local_cluster.layout.url}/conversations/anyone/tracker"
    assert requests.get(url, timeout=10).status_code == 404


def test_the_widget_through_nginx_keeps_to_one_replica(local_cluster):
    """Long-polling: every request of the session must reach the replica that holds it; with
    round-robin the second request would get "Invalid session" and the client no reply."""
    widget = WidgetClient(local_cluster.layout.url, transports=("polling",))
    try:
        session = widget.request_session(None)
        for question, answer in QUESTIONS.items():
            widget.emit("user_uttered", {"message": question, "session_id": session})
            # The answer before may have had more parts (a list of what to ask next).
            texts = [widget.next_event()[1]["text"]]
            while not texts[-1].startswith(answer):
                assert len(texts) < 3, texts
                texts.append(widget.next_event()[1]["text"])
    finally:
        widget.close()


QUESTIONS = {  # question -> how its answer begins
    "which certs would boost my cv?": CERTIFICATIONS_ANSWER,
    "what rules around patient privacy must I follow?": fact_text("compliance.privacy_laws"),
}


def test_simultaneous_turns_of_one_learner_on_both_replicas_are_handled_one_at_a_time(
    local_cluster,
):
    learner = new_sender()
    local_cluster.say(local_cluster.replicas[0], learner, "hi")  # the session is started
    for _round in range(4):
        start = threading.Barrier(2)
        answers: dict[str, tuple[float, float, str]] = {}
        threads = [
            threading.Thread(
                target=ask_at_once, args=(local_cluster, start, replica, learner, q, answers)
            )
            for replica, q in zip(local_cluster.replicas, QUESTIONS, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (a_start, a_end, a_reply), (b_start, b_end, b_reply) = answers.values()
        assert a_start < b_end and b_start < a_end  # both were in flight together
        for question, (_, _, reply) in answers.items():
            assert reply.startswith(QUESTIONS[question]), reply

    events = local_cluster.tracker(local_cluster.replicas[1], learner)["events"]
    turns = split_into_turns(events)
    asked = [turn["user"] for turn in turns[1:]]
    assert sorted(asked) == sorted(list(QUESTIONS) * 4)  # none lost, none twice
    for turn in turns[1:]:
        # Each message is followed by its own answer, then the bot listens for the next one:
        # no other message's events in between.
        assert turn["actions"][-1] == "action_listen", turn
        assert turn["bot"] and turn["bot"][0].startswith(QUESTIONS[turn["user"]]), turn


def ask_at_once(local_cluster, start, replica, learner, question, answers) -> None:
    start.wait()
    began = time.monotonic()
    reply, _ = local_cluster.say(replica, learner, question)
    answers[question] = (began, time.monotonic(), reply)


def split_into_turns(events: list[dict]) -> list[dict]:
    turns: list[dict] = []
    for event in events:
        if event["event"] == "user":
            turns.append({"user": event["text"], "actions": [], "bot": []})
        elif turns and event["event"] == "action":
            turns[-1]["actions"].append(event["name"])
        elif turns and event["event"] == "bot":
            turns[-1]["bot"].append(event.get("text") or "")
    return turns


# --- moving house -----------------------------------------------------------------------------


def seed_sqlite_installation(directory, learners: list[str]) -> None:
    """What a single-machine installation has in var/: learners (learner ids) with a background
    and milestones, and their conversations."""
    url = f"sqlite:///{directory / 'learners.db'}"
    migrate(url)
    store = ProgressStore(url)
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    conversations = ErasableSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(directory / "conversations.db")
    )
    for number, sender in enumerate(learners):
        store.save(
            sender,
            profile={"education_level": "bachelor", "education_field": "nursing"},
            milestones=["certification", "degree"][: number % 2 + 1],
        )
        GoalStore(url).add(sender, "join ACRP", date(2027, 6, 30), "professional_organisation")
        events = [ActionExecuted("action_session_start"), SessionStarted()]
        for said in ("I'm a nurse with a BSN", "I passed the CCRP", f"note {number}"):
            events += [
                ActionExecuted("action_listen"),
                UserUttered(said, intent={"name": "inform", "confidence": 1.0}),
                ActionExecuted("action_record_progress"),
                BotUttered(f"noted: {said}"),
            ]
        events.append(ActionExecuted("action_listen"))
        tracker = DialogueStateTracker.from_events(sender, events, slots=domain.slots)
        asyncio.run(conversations.save(tracker))


def move(directory, settings: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "python"), "-m", "scripts.move_to_postgres",
         "--from-learners", str(directory / "learners.db"),
         "--from-conversations", str(directory / "conversations.db"),
         "--to-learners", settings["LEARNER_DB_URL"],
         "--to-conversations", settings["TRACKER_DB_URL"]],
        cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def counts_printed(output: str) -> dict[str, list[int]]:
    """The command's count table: {table: [in SQLite, already there, copied, in PostgreSQL]}."""
    rows = {}
    for line in output.splitlines():
        name, *numbers = line.rsplit(maxsplit=4)
        if len(numbers) == 4 and all(number.isdigit() for number in numbers):
            rows[name] = [int(number) for number in numbers]
    return rows


def test_both_replicas_look_for_due_goals_and_slack_gets_each_reminder_once(
    local_cluster, slack_web_api
):
    user = f"U{secrets.token_hex(5).upper()}"
    GoalStore(local_cluster.settings["LEARNER_DB_URL"]).add(f"slack:{user}", "join ACRP", today())
    slack_web_api.wait_for(lambda: slack_web_api.posts_to(user), timeout=30)
    time.sleep(4)  # four more rounds of each replica's scheduler
    [reminder] = slack_web_api.posts_to(user)
    assert reminder["text"].startswith("You planned to join ACRP by "), reminder


def test_an_sqlite_installation_moves_into_the_clusters_postgresql(local_cluster, tmp_path):
    senders = [new_sender() for _ in range(3)]  # REST learners
    learners = [learner_id("rest", sender) for sender in senders]
    seed_sqlite_installation(tmp_path, learners)
    # A goal set on the cluster already: it holds goal ids the SQLite goals have too.
    cluster_goals = GoalStore(local_cluster.settings["LEARNER_DB_URL"])
    for _ in range(3):
        cluster_goals.add(learner_id("rest", new_sender()), "a goal set on the cluster", None)

    first = move(tmp_path, local_cluster.settings)
    assert first.returncode == 0, first.stdout + first.stderr
    assert counts_printed(first.stdout) == {
        "learners": [3, 0, 3, 3],
        "learner_milestones": [4, 0, 4, 4],
        "learner_goals": [3, 0, 3, 3],
        "learner_goal_changes": [3, 0, 3, 3],
        "events (conversations)": [45, 0, 45, 45],
    }, first.stdout

    # The cluster knows them: progress from the learner database, history from the tracker store.
    one, two = local_cluster.replicas
    said = [e.get("text") for e in local_cluster.tracker(one, senders[0])["events"]]
    assert {"I'm a nurse with a BSN", "I passed the CCRP", "note 0"} <= set(said)
    progress, _ = local_cluster.say(two, senders[1], "show my progress")  # she carries on
    assert progress.startswith(f"Your progress: {progress_summary(2)}."), progress
    # A new goal in PostgreSQL takes an id after the copied ones.
    goal, _ = local_cluster.say(two, senders[1], "I want to pass the CHOM by the end of next year")
    assert goal.startswith("Goal set: pass the CHOM"), goal

    again = move(tmp_path, local_cluster.settings)  # safe to re-run, even after she carried on
    assert again.returncode == 0, again.stdout + again.stderr
    copied = {table: row[2] for table, row in counts_printed(again.stdout).items()}
    assert copied == {
        "learners": 0,
        "learner_milestones": 0,
        "learner_goals": 0,
        "learner_goal_changes": 0,
        "events (conversations)": 0,
    }

    # A conversation that differs in PostgreSQL is reported, not overwritten, and fails the run.
    with engine_for(local_cluster.settings["TRACKER_DB_URL"]).begin() as connection:
        connection.execute(
            text(
                "UPDATE events SET data = :data WHERE id = "
                "(SELECT max(id) FROM events WHERE sender_id = :sender AND type_name = 'user')"
            ),
            {"data": json.dumps({"event": "user", "text": "changed"}), "sender": learners[2]},
        )
    changed = move(tmp_path, local_cluster.settings)
    assert changed.returncode == 1, changed.stdout
    assert "MISMATCH" in changed.stdout and learners[2] in changed.stdout
