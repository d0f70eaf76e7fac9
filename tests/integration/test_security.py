"""Security: Rasa's HTTP API, the REST channel, learners' privacy from one another, and secrets.

- Rasa's HTTP API (trackers, parsing, training, ...), the REST channel and the operators' report
  are off the way `make run` starts the server; when the API is on, it refuses requests without
  its token (REST's token: tests/integration/test_rest_channel.py; the report's:
  tests/integration/test_report_browser.py).
- A REST caller addresses only REST learners (`rest:<sender>`): whatever sender it sends, it
  cannot reach a Slack or terminal learner.
- A learner cannot read or change another's progress by naming them: not in entities, not in
  typed intents that skip the confirmation. (The widget and Slack take the sender from the
  server-issued id and the signed request: tests/integration/test_widget_channel.py and
  test_slack.py.)
- Secrets come only from the environment: none in the repository's files.
"""

import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from actions.learner_store import ProgressStore
from common.learner_ids import learner_id
from scripts.local_servers import PROJECT_ROOT, running_assistant
from tests.integration.widget_client import WidgetClient
from tests.support import (
    learner_rows,
    new_sender,
    progress_summary,
    step_title,
    text_of,
)

# --- Rasa's HTTP API ------------------------------------------------------------------------

# (method, path, JSON body): reading and changing another learner's conversation, and the model.
API_REQUESTS = [
    ("GET", "/conversations/{victim}/tracker", None),
    ("POST", "/conversations/{victim}/tracker/events", {"event": "restart"}),
    ("PUT", "/conversations/{victim}/tracker/events", []),
    ("GET", "/conversations/{victim}/story", None),
    ("POST", "/conversations/{victim}/execute", {"name": "action_show_progress"}),
    ("POST", "/conversations/{victim}/trigger_intent", {"name": "show_progress"}),
    ("POST", "/conversations/{victim}/predict", None),
    ("POST", "/conversations/{victim}/messages", {"text": "hi", "sender": "user"}),
    ("POST", "/model/parse", {"text": "show my progress"}),
    ("GET", "/domain", None),
    ("GET", "/status", None),
]
# Only on a server of its own: were they not refused, they would change the model.
MODEL_CHANGES = [("POST", "/model/train", None), ("DELETE", "/model", None)]


def api_call(base: str, method: str, path: str, body, victim: str, **kwargs) -> int:
    url = base + path.format(victim=victim)
    return requests.request(method, url, json=body, timeout=30, **kwargs).status_code


@pytest.mark.integration
def test_the_http_api_rest_and_the_report_are_off_the_way_make_run_starts_the_server(tmp_path):
    for launcher in ("scripts/start.sh", "Makefile"):
        assert "--enable-api" not in (PROJECT_ROOT / launcher).read_text(), launcher

    rest_unset = {
        "REST_API_TOKEN": "",
        "REPORT_TOKEN": "",
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "2",
    }
    with running_assistant(work_dir=tmp_path, enable_api=False, env=rest_unset) as assistant:
        widget = WidgetClient(assistant.url)  # the channel that needs no secret
        try:
            session = widget.request_session(None)
            victim = learner_id("web", session)
            widget.emit("user_uttered", {"message": "I passed the CCRP", "session_id": session})
            widget.next_event()
            for method, path, body in API_REQUESTS + MODEL_CHANGES:
                assert api_call(assistant.url, method, path, body, victim) == 404, (method, path)
            refused = requests.post(
                f"{assistant.url}/webhooks/rest/webhook",
                json={"sender": session, "message": "show my progress"},
                timeout=30,
            )
            assert refused.status_code == 403
            assert "set REST_API_TOKEN" in refused.json()["error"]
            # The operators' report is off, whatever token is sent.
            for query in ("", "?token=", "?token=anything"):
                off = requests.get(f"{assistant.url}/webhooks/report/{query}", timeout=30)
                assert off.status_code == 404 and "set REPORT_TOKEN" in off.text
            # The widget still answers, and remembers.
            widget.emit("user_uttered", {"message": "show my progress", "session_id": session})
            kind, progress = widget.next_event()
            assert progress_summary(1) in progress["text"], progress
        finally:
            widget.close()


@pytest.mark.integration
def test_with_the_api_on_requests_without_the_right_token_are_refused(assistant):
    victim = new_sender("ben")
    assistant.say(victim, "I passed the CCRP")
    for method, path, body in API_REQUESTS:
        for credentials in (
            {},
            {"params": {"token": "not-the-token"}},
            {"headers": {"Authorization": "Bearer not-the-token"}},
        ):
            status = api_call(assistant.url, method, path, body, victim, **credentials)
            assert status in (401, 403), (method, path, credentials, status)
    # The token opens it: the refusals above were the API's, not missing routes.
    assert assistant.tracker(learner_id("rest", victim))["sender_id"] == learner_id("rest", victim)


# --- a REST caller, another channel's learner -------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    ("channel", "rest_sender"),
    [
        ("slack", "{id}"),  # a Slack user id, which everyone in the workspace can see
        ("slack", "slack:{id}"),  # the Slack learner's id itself
        ("shell", "shell-{id}"),  # the terminal's id before ids carried their channel
        ("shell", "shell:{id}"),
    ],
    ids=["slack-user-id", "slack-learner-id", "old-shell-id", "shell-learner-id"],
)
def test_a_rest_caller_cannot_reach_a_slack_or_terminal_learner(
    assistant, servers_dir, channel, rest_sender
):
    own_id = f"U{uuid.uuid4().hex[:8].upper()}" if channel == "slack" else new_sender("root")
    someone = learner_id(channel, own_id)  # as the Slack channel or the terminal stores them
    learners_db = servers_dir / "learners.db"
    ProgressStore(f"sqlite:///{learners_db}").save(
        someone,
        profile={"education_level": "bachelor", "education_field": "nursing"},
        milestones=["certification", "degree"],
    )
    theirs = learner_rows(learners_db, someone)

    sender = rest_sender.format(id=own_id)
    export = text_of(assistant.say(sender, "export my data"))
    assert f"your id: {learner_id('rest', sender)}" in export, export
    assert "No profile and no progress." in export and "nursing" not in export, export
    progress = text_of(assistant.say(sender, "show my progress"))
    assert progress.startswith(f"Your progress: {progress_summary(0)}."), progress
    for message in ("I passed the CCRP", "start over", "yes", "delete my data", "yes"):
        assistant.say(sender, message)

    assert learner_rows(learners_db, someone) == theirs


# --- one learner, another's progress ----------------------------------------------------------


@pytest.mark.integration
def test_a_learner_cannot_read_or_change_another_learners_progress(assistant):
    ben, ana = new_sender("ben"), new_sender("ana")
    assistant.say(ben, "I passed the CCRP")
    assistant.say(ben, "I just joined ACRP")

    def bens_view() -> tuple[str, str]:
        return (
            text_of(assistant.say(ben, "show my progress")),
            text_of(assistant.say(ben, "export my data")),
        )

    before = bens_view()
    assert before[0].startswith(f"Your progress: {progress_summary(2)}."), before

    def ana_says(message: str, metadata: dict | None = None) -> str:
        """Ana's message over REST; metadata, when given, is the body's "metadata" field."""
        response = assistant.rest({"sender": ana, "message": message, "metadata": metadata})
        reply = text_of(response.json())
        assert ben not in reply, (message, reply)
        return reply

    nothing_yet = f"Your progress: {progress_summary(0)}."
    naming_ben = {"sender_id": ben, "sender": ben}
    # Reading: Ana's own (empty) progress, whoever she names. (Rasa drops entity types the
    # domain does not declare, such as "sender_id"; the REST body's metadata reaches the actions.)
    for message, metadata in [
        ("show my progress", None),
        (f'/show_progress{{"sender_id":"{ben}"}}', None),
        (f'/show_progress{{"sender":"{ben}"}}', None),
        (f"show {ben}'s progress", None),
        ("show my progress", naming_ben),
    ]:
        assert ana_says(message, metadata).startswith(nothing_yet), message
    export = ana_says(f'/export_my_data{{"sender_id":"{ben}"}}', naming_ben)
    assert f"your id: {learner_id('rest', ana)}" in export

    # Writing: only ever Ana's own record.
    reply = ana_says(f'/tell_about_myself{{"milestone":"leadership","sender":"{ben}"}}')
    assert reply.startswith(f"Marked done: {step_title('leadership')}."), reply
    ana_says('/tell_about_myself{"milestone":"compliance"}', naming_ben)
    ana_says('/correct_milestone{"milestone":"compliance"}', naming_ben)
    ana_says(f'/inform{{"sender_id":"{ben}"}}')
    ana_says(f'/correct_milestone{{"certification":"CCRP","sender":"{ben}"}}')
    ana_says("/affirm")  # a yes to no question changes nothing
    # Typed intents that skip the confirmation: a reset and a deletion, confirmed by Ana.
    ana_says(f'/reset_progress{{"sender_id":"{ben}"}}')
    assert "progress and goals are cleared (1 milestones removed)" in ana_says("/affirm")
    ana_says('/tell_about_myself{"milestone":"leadership"}')
    ana_says(f'/delete_my_data{{"sender":"{ben}"}}')
    assert "are deleted" in ana_says("/affirm")
    assert ana_says("show my progress").startswith(nothing_yet)

    # Ids that only look like Ben's, or like a query.
    for other in (ben.upper(), f"{ben}' OR '1'='1", "' OR 1=1 --"):
        reply = text_of(assistant.say(other, "show my progress"))
        assert reply.startswith(nothing_yet), (other, reply)

    assert bens_view() == before


# --- secrets ----------------------------------------------------------------------------------

SECRET_LOOKING = {
    "Slack token": r"xox[abposr]-[0-9A-Za-z-]{10,}",
    "Slack webhook URL": r"hooks\.slack\.com/services/T\w+/",
    "Slack signing secret": r"(?i)signing.?secret\W{0,4}[0-9a-f]{32}",
    "password assigned": r"(?i)\bpass(word|wd)?[\"']?\s*[:=]\s*[\"'][^\"'\s$]{3,}[\"']",
    # Placeholders are not secrets: an environment or f-string reference ($PW, {password}), or
    # the word "password" itself, as the README's example URLs write it.
    "password in SQL": r"(?i)\bpassword\s+'[^'${]+'",
    "password in a URL": r"://[^/\s:@'\"]*:(?!(?i:password)@)[^/\s:@'\"${}]+@",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "AWS access key": r"\bAKIA[0-9A-Z]{16}\b",
}


def repository_files() -> list[Path]:
    """Every file git tracks or would add (untracked but not ignored), outside tests/."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs a git checkout")
    files = [PROJECT_ROOT / name for name in listed if not name.startswith("tests/")]
    return [path for path in files if path.is_file()]


def test_no_secrets_in_the_repository():
    found = []
    for path in repository_files():
        content = path.read_bytes()
        if b"\0" in content:
            continue  # binary
        for line_number, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
            for kind, pattern in SECRET_LOOKING.items():
                if re.search(pattern, line):
                    found.append(f"{path.relative_to(PROJECT_ROOT)}:{line_number}: {kind}")
    assert found == [], "\n".join(found)


ENVIRONMENT_REFERENCE = re.compile(r"\$\{\w+\}")  # Rasa reads "${SLACK_BOT_TOKEN}" from the env


def literal_secrets(node, where: str) -> list[str]:
    """Settings named like a secret (token, secret, password, API key) given a literal value."""
    if isinstance(node, list):
        node = dict(enumerate(node))
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        named_secret = re.search(r"(?i)token|secret|passw|api_?key", str(key))
        literal = isinstance(value, str | int) and not ENVIRONMENT_REFERENCE.fullmatch(str(value))
        if named_secret and literal and value != "":
            found.append(f"{where}.{key}")
        found += literal_secrets(value, f"{where}.{key}")
    return found


def test_channel_and_endpoint_settings_name_no_literal_secret():
    for name in ("credentials.yml", "endpoints.yml"):
        settings = yaml.safe_load((PROJECT_ROOT / name).read_text()) or {}
        assert literal_secrets(settings, name) == []
