"""Start the real action server and Rasa server on free local ports, for tests and evaluations.

with running_assistant(model) as assistant:
    assistant.say("sender-1", "what certifications should I get?")

REST is on with a random token (REST_API_TOKEN), which `say()` and `rest()` send; the learner
they address is `rest:<sender>` (common/learner_ids.py).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_MODEL = PROJECT_ROOT / "models" / "coach.tar.gz"


def rasa_env(**extra: str) -> dict[str, str]:
    """Environment for a Rasa or action-server subprocess: project importable, no telemetry."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(PROJECT_ROOT),
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningAssistant:
    url: str
    token: str  # for Rasa's HTTP API (--enable-api is token-protected)
    rest_token: str  # REST_API_TOKEN: REST callers send it; "" when REST is off
    action_server_url: str
    restart_server: Callable[[], None]  # the Rasa server again, same port and databases
    signal_action_server: Callable[[int], None]  # e.g. SIGKILL (crash), SIGSTOP (hang), SIGCONT
    start_action_server: Callable[[], None]  # after a SIGKILL: again, same port and databases
    pids: Callable[[], list[int]]  # the Rasa server's and the action server's main processes

    @property
    def rest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.rest_token}"}

    def rest(self, body: dict | bytes, timeout: float = 30, **kwargs) -> requests.Response:
        """POST a body (a dict as JSON, bytes as they are) to the REST channel, with the token."""
        content = {"data": body} if isinstance(body, bytes) else {"json": body}
        return requests.post(
            f"{self.url}/webhooks/rest/webhook",
            **content,
            headers=self.rest_headers,
            timeout=timeout,
            **kwargs,
        )

    def say(self, sender: str, message: str, timeout: float = 30) -> list[dict]:
        """Send one message through the REST channel; returns the bot's messages."""
        response = self.rest({"sender": sender, "message": message}, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def tracker(self, learner: str) -> dict:
        """A learner's conversation through Rasa's HTTP API, by learner id (`rest:<sender>`)."""
        response = requests.get(
            f"{self.url}/conversations/{learner}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def start_process(
    args: list[str], log: Path, env: dict, cwd: Path = PROJECT_ROOT, detached: bool = False
) -> subprocess.Popen:
    """detached: in a session of its own, so it outlives the command that started it (and a
    Ctrl+C there): the local cluster's processes, stopped later through their pid files."""
    with open(log, "a") as log_file:
        return subprocess.Popen(
            args,
            cwd=cwd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=detached,
        )


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


QUIET_RASA = [str(BIN / "python"), "-m", "scripts.quiet_rasa"]


def write_endpoints(path: Path, actions_url: str) -> Path:
    """The project's endpoints.yml, with the action server at actions_url. The stores in it
    read where to store from the environment (TRACKER_DB_URL, LOCK_STORE_URL)."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"{actions_url}/webhook"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return path


def rasa_server_args(
    model: Path, port: int, endpoints: Path, token: str | None, cors: str | None = None
) -> list[str]:
    """`rasa run` on 127.0.0.1:port with every channel; Rasa's HTTP API only with a token."""
    return [
        *QUIET_RASA, "run", "--model", str(model), "--port", str(port),
        "--interface", "127.0.0.1",
        *(["--enable-api", "--auth-token", token] if token else []),
        "--endpoints", str(endpoints), "--credentials", "credentials.yml",
        *(["--cors", cors] if cors else []),
    ]  # fmt: skip


def action_server_args(port: int) -> list[str]:
    return [*QUIET_RASA, "run", "actions", "--port", str(port)]


@contextmanager
def running_assistant(
    model: Path = DEFAULT_MODEL,
    work_dir: Path | None = None,
    env: dict | None = None,
    cors: str | None = None,
    enable_api: bool = True,
) -> Iterator[RunningAssistant]:
    """Both servers on free ports, each with its own log in work_dir; stopped on exit.

    env adds to the servers' environment (e.g. Slack settings); cors is `rasa run --cors`;
    enable_api=False starts the server as `make run` does, without Rasa's HTTP API.
    """
    work_dir = Path(work_dir or PROJECT_ROOT / "logs")
    work_dir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    token = secrets.token_hex(16)
    endpoints = write_endpoints(work_dir / "endpoints.yml", f"http://127.0.0.1:{actions_port}")
    # Everything this assistant stores lives in work_dir: start it again on the same work_dir
    # and it remembers; a new work_dir is a fresh install. (env may point them elsewhere.)
    full_env = rasa_env(
        **{
            "COACH_VAR_DIR": str(work_dir),
            "SANIC_WORKERS": os.environ.get("SANIC_WORKERS", "1"),
            "KNOWLEDGE_DB_URL": f"sqlite:///{work_dir / 'knowledge.db'}",
            "LEARNER_DB_URL": f"sqlite:///{work_dir / 'learners.db'}",
            "TRACKER_DB_URL": f"sqlite:///{work_dir / 'conversations.db'}",
            "LOCK_STORE_URL": "",  # in memory; with SANIC_WORKERS > 1 the SQLite file in work_dir
            "REST_API_TOKEN": secrets.token_hex(16),  # env may set "" to keep REST off
            **(env or {}),
        }
    )
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    actions_url = f"http://127.0.0.1:{actions_port}"
    server_args = rasa_server_args(model, rasa_port, endpoints, token if enable_api else None, cors)
    # Without the API there is no /status: the root URL answers once the server is up.
    up_url = f"{rasa_url}/status?token={token}" if enable_api else f"{rasa_url}/"
    processes: dict[str, subprocess.Popen] = {}

    def launch_server() -> None:
        processes["rasa"] = start_process(server_args, work_dir / "rasa.log", full_env)

    def wait_for_server() -> None:
        wait_until_up(up_url, processes["rasa"], work_dir / "rasa.log", 240)

    def restart_server() -> None:
        stop_process(processes.pop("rasa"))
        launch_server()
        wait_for_server()

    def start_action_server() -> None:
        if "actions" in processes:
            processes.pop("actions").wait(timeout=20)  # killed: gone, and its port free
        processes["actions"] = start_process(
            action_server_args(actions_port),
            work_dir / "actions.log",
            full_env,
        )
        wait_until_up(f"{actions_url}/health", processes["actions"], work_dir / "actions.log", 120)

    def signal_action_server(signum: int) -> None:
        processes["actions"].send_signal(signum)

    try:
        # The Rasa server loads its model for longer than the action server takes to start: the
        # action server starts meanwhile, and is up before the first message.
        launch_server()
        start_action_server()
        wait_for_server()
        yield RunningAssistant(
            url=rasa_url,
            token=token,
            rest_token=full_env["REST_API_TOKEN"],
            action_server_url=actions_url,
            restart_server=restart_server,
            signal_action_server=signal_action_server,
            start_action_server=start_action_server,
            # The Rasa server first, whichever was (re)started last.
            pids=lambda: [processes[name].pid for name in ("rasa", "actions") if name in processes],
        )
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGCONT)  # a paused (SIGSTOP) one would ignore the SIGTERM
            stop_process(process)
