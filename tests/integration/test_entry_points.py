"""However the Rasa server is started, addons/ checks the installed Rasa and has its fixes in
place before the first message. Here the least helpful way: plain `rasa run`, as the Docker image
runs it (PYTHONPATH only, no scripts.quiet_rasa), with only Rasa's REST channel, so that nothing
imports addons/ until Rasa creates the tracker store named in endpoints.yml."""

import subprocess
import sys

import pytest
import requests

from addons.action_server_guard import UNAVAILABLE_REPLY
from scripts.local_servers import (
    BIN,
    DEFAULT_MODEL,
    PROJECT_ROOT,
    free_port,
    rasa_env,
    start_process,
    stop_process,
    wait_until_up,
    write_endpoints,
)

pytestmark = [
    pytest.mark.integration,
]


def run_with_rest_only(port: int, endpoints) -> list[str]:
    """`rasa run`'s arguments: the trained model, Rasa's own REST channel, endpoints.yml."""
    return [
        "run", "--model", str(DEFAULT_MODEL), "--port", str(port), "--interface", "127.0.0.1",
        "--connector", "rest", "--endpoints", str(endpoints),
    ]  # fmt: skip


@pytest.fixture
def server_env(tmp_path) -> dict[str, str]:
    return rasa_env(
        COACH_VAR_DIR=str(tmp_path),
        TRACKER_DB_URL=f"sqlite:///{tmp_path / 'conversations.db'}",
        LOCK_STORE_URL="",
    )


def test_plain_rasa_has_the_guard_from_the_first_message(tmp_path, server_env):
    port = free_port()
    no_action_server = f"http://127.0.0.1:{free_port()}"
    endpoints = write_endpoints(tmp_path / "endpoints.yml", no_action_server)
    log = tmp_path / "rasa.log"
    rasa = start_process([str(BIN / "rasa"), *run_with_rest_only(port, endpoints)], log, server_env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", rasa, log, timeout=240)
        reply = requests.post(
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            json={"sender": "newcomer", "message": "show my progress"},
            timeout=60,
        )
        assert [message["text"] for message in reply.json()] == [UNAVAILABLE_REPLY]
    finally:
        stop_process(rasa)


def test_plain_rasa_refuses_to_start_on_a_rasa_addons_was_not_written_for(tmp_path, server_env):
    endpoints = write_endpoints(tmp_path / "endpoints.yml", f"http://127.0.0.1:{free_port()}")
    # `rasa`, in a Python whose Rasa says it is 3.6.20.
    rasa_3_6_20 = (
        "import sys, rasa; rasa.__version__ = '3.6.20'; "
        "from rasa.__main__ import main; sys.argv[0] = 'rasa'; sys.exit(main())"
    )
    refused = subprocess.run(
        [sys.executable, "-c", rasa_3_6_20, *run_with_rest_only(free_port(), endpoints)],
        cwd=PROJECT_ROOT,
        env=server_env,
        capture_output=True,
        text=True,
        timeout=240,  # a server that started would run until this
    )
    assert refused.returncode != 0
    assert (
        "IncompatibleRasa: addons.action_response_check replaces "
        "rasa.core.actions.action.RemoteAction._validate_action_result, written for Rasa 3.6.21, "
        "but Rasa 3.6.20 is installed."
    ) in refused.stderr
