"""The README's chat command, driven through a pseudo-terminal exactly as a newcomer types."""

import shutil
import sys

import pexpect
import pytest

from actions.settings import PROJECT_ROOT
from scripts.local_servers import DEFAULT_MODEL

pytestmark = pytest.mark.integration


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="needs a trained model: make train")
@pytest.mark.skipif(shutil.which("curl") is None, reason="scripts/start.sh waits with curl")
def test_chat_in_the_terminal(tmp_path):
    log = open(tmp_path / "shell.log", "w")
    shell = pexpect.spawn(
        "bash",
        ["scripts/start.sh", "shell"],
        cwd=str(PROJECT_ROOT),
        encoding="utf-8",
        timeout=240,
        dimensions=(40, 200),
        env={"PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
             "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    shell.logfile_read = log
    try:
        shell.expect("Your input ->")
        shell.sendline("which certifications should I get?")
        shell.expect("CCRP", timeout=60)
        shell.expect("Your input ->")
        shell.sendline("/stop")
        shell.expect(pexpect.EOF, timeout=60)
    except pexpect.ExceptionPexpect:
        log.flush()
        sys.stderr.write((tmp_path / "shell.log").read_text()[-3000:])
        raise
    finally:
        shell.close(force=True)
