"""The README's chat command, driven through a pseudo-terminal exactly as a newcomer types:
it answers, and a second session continues the first (one conversation per OS user)."""

import shutil
import sys
import uuid

import pexpect
import pytest

from common.settings import PROJECT_ROOT
from scripts.local_servers import DEFAULT_MODEL

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="needs a trained model: make train"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="scripts/start.sh waits with curl"),
]

PROMPT = "Your input ->"


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


def test_chat_in_the_terminal_and_continue_next_time(tmp_path):
    env = {
        "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "COACH_SHELL_ID": f"shell-test-{uuid.uuid4().hex[:8]}",
        "LEARNER_DB_URL": f"sqlite:///{tmp_path / 'learners.db'}",
        "KNOWLEDGE_DB_URL": f"sqlite:///{tmp_path / 'knowledge.db'}",
    }
    for session, log_name in enumerate(["first.log", "second.log"]):
        shell = chat(tmp_path, env, log_name)
        try:
            shell.expect(PROMPT)
            if session == 0:
                say(shell, "which certifications should I get?", "CCRP")
                say(shell, "I passed the CCRP", "Marked done: Add a certification")
            else:
                say(shell, "show my progress", r"\[x\] Add a certification")
            shell.sendline("/stop")
            shell.expect(pexpect.EOF, timeout=60)
        except pexpect.ExceptionPexpect:
            sys.stderr.write((tmp_path / log_name).read_text()[-3000:])
            raise
        finally:
            shell.close(force=True)
