"""Rasa's own checks: the training data and domain are consistent, and the conversation test
stories (tests/conversations/) are predicted exactly by the trained model."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rasa_sdk.executor import ActionExecutor

from common.settings import PROJECT_ROOT
from scripts.local_servers import DEFAULT_MODEL
from scripts.validate import unexpected_warnings

RASA = str(Path(sys.executable).parent / "rasa")


def run_rasa(*args: str, log: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [RASA, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900
    )
    log.write_text(result.stdout + result.stderr)
    return result


def test_training_data_and_domain_validate_without_unexpected_warnings(tmp_path):
    result = run_rasa("data", "validate", log=tmp_path / "validate.log")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert unexpected_warnings(result.stdout + result.stderr) == []


def test_a_response_nothing_sends_is_still_a_warning():
    output = "UserWarning: The utterance 'utter_forgotten' is not used in any story or rule."
    assert unexpected_warnings(output) == [
        "The utterance 'utter_forgotten' is not used in any story or rule."
    ]


def test_every_action_the_domain_names_is_served_by_the_action_server(domain):
    """`rasa data validate` checks the domain against the stories, not against the action
    server: an action missing there would only fail when a learner's turn calls it."""
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(domain["actions"]) - set(executor.actions) == set()


@pytest.mark.model
def test_conversation_stories_are_predicted_exactly(tmp_path):
    result = run_rasa(
        "test", "core",
        "--model", str(DEFAULT_MODEL),
        "--stories", "tests/conversations",
        "--fail-on-prediction-errors",
        "--out", str(tmp_path / "results"),
        log=tmp_path / "stories.log",
    )  # fmt: skip
    failed = tmp_path / "results" / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + (result.stdout + result.stderr)[-3000:]


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (PROJECT_ROOT / ".venv").resolve(),
    reason="checks the project's own .venv (make setup), not this interpreter",
)
def test_the_venvs_rasa_finds_the_tracker_store_without_pythonpath(tmp_path):
    """Rasa 3.6 falls back to keeping conversations in memory, with only a warning, when the
    tracker store named in endpoints.yml cannot be imported."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", "import addons.tracker_store"],
        cwd=tmp_path,  # not the project root, so the current folder does not help
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # only a hang: importing Rasa beside other tests can take a minute
    )
    assert result.returncode == 0, result.stderr[-2000:]
