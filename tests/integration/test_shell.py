"""The README's chat command, driven through a pseudo-terminal exactly as a newcomer types:
it starts without third-party noise, answers, and a second session continues the first (one
conversation per OS user, the learner `shell:<user>`). The terminal's own server is not reachable
from the network."""

import re
import shutil
import socket
import sqlite3
import sys
import uuid

import pexpect
import pytest

from common.learner_ids import learner_id
from common.settings import PROJECT_ROOT
from tests.support import step_title

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("curl") is None, reason="scripts/start.sh waits with curl"),
]

PROMPT = "Your input ->"
CERTIFICATION = step_title("certification")  # the milestone "I passed the CCRP" completes
# All a learner sees before the first prompt: start.sh's banner and Rasa's shell greeting. No
# TensorFlow, transformers or other library lines.
START_UP_LINES = [
    "Starting the assistant (about 30 seconds). Type /stop to leave.",
    "Bot loaded. Type a message and press enter (use '/stop' to exit):",
]
TERMINAL_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours, cursor moves


def printed_lines(output: str) -> list[str]:
    """The text lines in terminal output, without control sequences and blank lines."""
    text = TERMINAL_CONTROL.sub("", output)
    return [line.strip() for line in text.splitlines() if line.strip()]


def chat(tmp_path, env, log_name):
    shell = pexpect.spawn(
        "bash",
        ["scripts/start.sh", "shell"],
        cwd=str(PROJECT_ROOT),
        encoding="utf-8",
        timeout=240,
        dimensions=(40, 200),
        env=env,
    )
    shell.logfile_read = open(tmp_path / log_name, "w")
    return shell


def say(shell, text, expect, timeout=60):
    shell.sendline(text)
    shell.expect(expect, timeout=timeout)
    shell.expect(PROMPT, timeout=timeout)


SHELL_SERVER_PORT = 5005  # where `rasa shell` runs the server it talks to


def network_address() -> str | None:
    """This machine's address on its network (the interface of its default route), if any."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def accepts_connections(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=5).close()
    except OSError:
        return False
    return True


def test_chat_in_the_terminal_and_continue_next_time(tmp_path):
    env = {
        "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RASA_TELEMETRY_ENABLED": "false",
        "COACH_SHELL_ID": f"test-{uuid.uuid4().hex[:8]}",  # the learner: shell:test-...
        "LEARNER_DB_URL": f"sqlite:///{tmp_path / 'learners.db'}",
        "KNOWLEDGE_DB_URL": f"sqlite:///{tmp_path / 'knowledge.db'}",
    }
    for session, log_name in enumerate(["first.log", "second.log"]):
        shell = chat(tmp_path, env, log_name)
        try:
            shell.expect(PROMPT)
            assert printed_lines(shell.before) == START_UP_LINES
            if session == 0:
                assert accepts_connections("127.0.0.1", SHELL_SERVER_PORT)
                if network_address():
                    assert not accepts_connections(network_address(), SHELL_SERVER_PORT)
                say(shell, "which certifications should I get?", "CCRP")
                say(shell, "I passed the CCRP", f"Marked done: {CERTIFICATION}")
            else:
                say(shell, "show my progress", rf"\[x\] {CERTIFICATION}")
            shell.sendline("/stop")
            shell.expect(pexpect.EOF, timeout=60)
        except pexpect.ExceptionPexpect:
            sys.stderr.write((tmp_path / log_name).read_text()[-3000:])
            raise
        finally:
            shell.close(force=True)

    with sqlite3.connect(tmp_path / "learners.db") as db:
        query = "SELECT milestone FROM learner_milestones WHERE sender_id = ?"
        learner = learner_id("shell", env["COACH_SHELL_ID"])
        assert db.execute(query, (learner,)).fetchall() == [("certification",)]
