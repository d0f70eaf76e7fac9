"""make cluster-up / make cluster-down: the production layout on this machine, all on loopback.

    nginx :5080 ─┬─ /socket.io/  sticky (hash of the client address) ─┐
                 └─ /webhooks/{widget,slack,rest}/  round-robin ───────┤
                                                   ┌───────────────────┘
                                                   ├─ Rasa :5101 ── actions :5151
                                                   └─ Rasa :5102 ── actions :5152
    PostgreSQL (the machine's own cluster, :5432): conversations, learners, knowledge base,
                 Slack deliveries, all in the database `coach_cluster`, shared by every replica
    Redis :6380 (an instance of its own, no persistence): the conversation lock store

Rasa's socket.io channel keeps each widget's session in the process that opened it, so a widget
must keep talking to one replica; REST and Slack requests carry their sender, and the shared
tracker store and lock store let any replica answer any of them. Only the channels' paths are
forwarded; REST answers only callers with the token REST_API_TOKEN (in cluster.env).

Installs what is missing (Debian's postgresql, redis-server, nginx: needs root), starts
PostgreSQL if it is stopped, creates the role and database if missing, with a password generated
here and kept in var/cluster/cluster.env (never in the repository). Every process it starts is
recorded in var/cluster/pids/, and `cluster-down` stops exactly those (and PostgreSQL, if
cluster-up started it and no one else is connected). Both are safe to run twice.

    python -m scripts.cluster up | down | status
    set -a; . var/cluster/cluster.env; set +a    # the cluster's settings, e.g. for move_to_postgres
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from actions.kb_loader import ensure_knowledge_base
from actions.learner_store import migrate
from common.settings import PROJECT_ROOT
from scripts.local_servers import (
    DEFAULT_MODEL,
    action_server_args,
    rasa_env,
    rasa_server_args,
    start_process,
    wait_until_up,
    write_endpoints,
)

PACKAGES = {"pg_ctlcluster": "postgresql", "redis-server": "redis-server", "nginx": "nginx"}
REPLICAS = 2


class ClusterUnavailable(Exception):
    """A part of the cluster cannot be had on this machine (e.g. not root and not installed)."""


@dataclass(frozen=True)
class Layout:
    """Where one cluster lives: its folder and ports. The tests run one of their own beside it."""

    state_dir: Path = PROJECT_ROOT / "var" / "cluster"
    nginx_port: int = 5080
    rasa_ports: tuple[int, ...] = (5101, 5102)
    action_ports: tuple[int, ...] = (5151, 5152)
    redis_port: int = 6380
    # Not `coach`: .ci/run gives that role a new password on every run.
    database: str = "coach_cluster"
    role: str = "coach_cluster"

    @classmethod
    def beside(cls, state_dir: Path, name: str, port_offset: int) -> Layout:
        """A cluster of its own next to the operator's (tests, benchmarks): its own folder,
        database and role, and every port moved up by port_offset."""
        default = cls()
        return cls(
            state_dir=state_dir,
            nginx_port=default.nginx_port + port_offset,
            rasa_ports=tuple(port + port_offset for port in default.rasa_ports),
            action_ports=tuple(port + port_offset for port in default.action_ports),
            redis_port=default.redis_port + port_offset,
            database=name,
            role=name,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "cluster.env"

    @property
    def pid_dir(self) -> Path:
        return self.state_dir / "pids"


# --- settings and secrets ---------------------------------------------------------------------


def cluster_settings(layout: Layout) -> dict[str, str]:
    """The environment of every replica (and of an operator's commands against the cluster):
    the switch variables, pointing at the shared PostgreSQL and Redis. Generated once."""
    if layout.secrets_file.exists():
        settings = dict(
            line.split("=", 1) for line in layout.secrets_file.read_text().splitlines() if line
        )
        if "REST_API_TOKEN" in settings:
            return settings
        settings["REST_API_TOKEN"] = secrets.token_hex(24)  # written before REST needed one
    else:
        pg_password, redis_password = secrets.token_hex(16), secrets.token_hex(16)
        database = (
            f"postgresql://{layout.role}:{pg_password}@127.0.0.1:{postgres_port()}/"
            f"{layout.database}"
        )
        settings = {
            "TRACKER_DB_URL": database,
            "LEARNER_DB_URL": database,
            "KNOWLEDGE_DB_URL": database,
            "SLACK_DELIVERIES_DB_URL": database,
            "LOCK_STORE_URL": f"redis://:{redis_password}@127.0.0.1:{layout.redis_port}/0",
            "RASA_API_TOKEN": secrets.token_hex(24),  # Rasa's HTTP API on each replica
            "REST_API_TOKEN": secrets.token_hex(24),  # REST callers send it
        }
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    layout.secrets_file.touch(mode=0o600)
    layout.secrets_file.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    return settings


# --- installing and PostgreSQL ---------------------------------------------------------------


def executable(name: str) -> str | None:
    # nginx lives in /usr/sbin, which a non-root PATH may lack.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def ensure_installed() -> None:
    missing = [package for command, package in PACKAGES.items() if not executable(command)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise ClusterUnavailable(f"needs {', '.join(missing)}: apt-get install (as root) first")
    print(f"Installing {', '.join(missing)} (apt-get)...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def postgres_cluster() -> tuple[str, str, int, bool]:
    """The machine's PostgreSQL cluster: version, name, port, and whether it is running."""
    rows = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    version, name, port, status = rows[0].split()[:4]
    return version, name, int(port), status == "online"


def postgres_port() -> int:
    return postgres_cluster()[2]


def as_postgres(sql: str) -> str:
    """Run SQL as the database superuser (peer authentication: root becomes `postgres`)."""
    command = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except subprocess.CalledProcessError as error:
        if os.geteuid() != 0:
            raise ClusterUnavailable(
                f"needs root (or a PostgreSQL superuser) to create its role: {error.stderr}"
            ) from error
        raise


def ensure_postgres(layout: Layout, password: str) -> None:
    version, name, _, online = postgres_cluster()
    if not online:
        if os.geteuid() != 0:
            raise ClusterUnavailable(f"PostgreSQL is stopped: pg_ctlcluster {version} {name} start")
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)
        (layout.state_dir / "postgres-started").write_text(f"{version} {name}\n")
    # The password is set on every start: it is the one in cluster.env, whatever came before.
    role_exists = as_postgres(f"SELECT 1 FROM pg_roles WHERE rolname = '{layout.role}'")
    verb = "ALTER" if role_exists else "CREATE"
    as_postgres(f"{verb} ROLE {layout.role} LOGIN PASSWORD '{password}'")
    if not as_postgres(f"SELECT 1 FROM pg_database WHERE datname = '{layout.database}'"):
        as_postgres(f"CREATE DATABASE {layout.database} OWNER {layout.role}")


# --- processes --------------------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process: a pid file names our process, not a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def record(layout: Layout, name: str, process: subprocess.Popen) -> None:
    layout.pid_dir.mkdir(parents=True, exist_ok=True)
    (layout.pid_dir / f"{name}.pid").write_text(f"{process.pid} {_start_time(process.pid)}\n")


def recorded(layout: Layout) -> dict[str, int]:
    """Processes from the pid files that are still running: {name: pid}."""
    alive = {}
    for pid_file in sorted(layout.pid_dir.glob("*.pid")) if layout.pid_dir.exists() else []:
        pid, started = pid_file.read_text().split()
        if _start_time(int(pid)) == started:
            alive[pid_file.stem] = int(pid)
        else:
            pid_file.unlink()  # gone already
    return alive


def stop(layout: Layout, processes: dict[str, int]) -> None:
    """SIGTERM to each process's own session (started detached: pid == process group), all at
    once so that their graceful stops overlap; SIGKILL to any still there after 20 s."""
    for pid in processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_start_time(pid) for pid in processes.values()):
        for pid in processes.values():
            _reap(pid)
        time.sleep(0.1)
    for name, pid in processes.items():
        if _start_time(pid) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        (layout.pid_dir / f"{name}.pid").unlink(missing_ok=True)


def _reap(pid: int) -> None:
    """A child of this very process (cluster started and stopped in one run, as in the tests)
    stays a zombie until waited for."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_for_redis(url: str, process: subprocess.Popen, log: Path) -> None:
    import redis

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited:\n{log.read_text()[-2000:]}")
        try:
            if redis.Redis.from_url(url).ping():
                return
        except redis.RedisError:
            time.sleep(0.1)
    raise RuntimeError(f"redis-server did not answer within 20 s:\n{log.read_text()[-2000:]}")


def redis_config(layout: Layout, password: str) -> Path:
    directory = layout.state_dir / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "redis.conf"
    config.touch(mode=0o600)  # holds the password
    # Locks live seconds: nothing to persist.
    config.write_text(
        f"port {layout.redis_port}\nbind 127.0.0.1\nprotected-mode yes\n"
        f'requirepass {password}\nsave ""\nappendonly no\ndir {directory}\n'
    )
    return config


def nginx_config(layout: Layout) -> Path:
    prefix = layout.state_dir / "nginx"
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in layout.rasa_ports)
    temp_paths = "".join(
        f"  {kind}_temp_path {prefix / 'temp' / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = prefix / "nginx.conf"
    config.write_text(f"""# Generated by scripts/cluster.py; regenerated on every cluster-up.
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
  access_log {prefix / "access.log"};
{temp_paths}
  # socket.io: a widget's polling requests and its WebSocket must reach the replica holding its
  # session. Behind another proxy, hash on the client address it forwards instead.
  upstream rasa_sticky {{
    hash $remote_addr consistent;
{servers}  }}
  # REST, Slack and the widget's files: any replica can answer any learner (shared tracker and
  # lock stores).
  upstream rasa_round_robin {{
{servers}    keepalive 16;
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; "" ""; }}

  server {{
    listen 127.0.0.1:{layout.nginx_port};
    client_max_body_size 1m;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    add_header X-Replica $upstream_addr always;  # which replica answered (tests, debugging)

    location /socket.io/ {{
      proxy_pass http://rasa_sticky;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }}
    # Only the channels: the widget's page and script, Slack's events, and REST, which answers
    # only callers with REST_API_TOKEN (leave `rest` out to keep it off the public port).
    location ~ ^/webhooks/(widget|slack|rest)/ {{
      proxy_pass http://rasa_round_robin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 60s;
    }}
    location = / {{
      proxy_pass http://rasa_round_robin;
    }}
    # Rasa's HTTP API (token-protected) stays on the replicas' own ports, off the public one.
    location / {{ return 404; }}
  }}
}}
""")
    return config


# --- up and down ------------------------------------------------------------------------------


def up(layout: Layout = Layout(), model: Path = DEFAULT_MODEL) -> dict[str, str]:
    """Start the cluster; returns its settings. Already up: says so and leaves it alone."""
    alive = recorded(layout)
    expected = {"redis", "nginx"} | {f"{kind}-{i}" for kind in ("rasa", "actions") for i in (1, 2)}
    if alive.keys() == expected:
        print(f"The cluster is already up: {layout.url}")
        return cluster_settings(layout)
    if alive:
        raise RuntimeError(f"Part of a cluster is running ({', '.join(alive)}): cluster-down first")
    ensure_installed()
    settings = cluster_settings(layout)
    logs = layout.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        _start(layout, model, settings, logs)
    except BaseException:
        down(layout, quiet=True)
        raise
    print(f"""The cluster is up (logs in {logs}):
  nginx      {layout.url}  (widget /webhooks/widget/, Slack, REST with REST_API_TOKEN)
  Rasa       {", ".join(layout.replica_urls)}  (HTTP API: RASA_API_TOKEN in {layout.secrets_file})
  actions    {", ".join(f"127.0.0.1:{port}" for port in layout.action_ports)}
  PostgreSQL 127.0.0.1:{postgres_port()}, database {layout.database}
  Redis      127.0.0.1:{layout.redis_port}
Stop it with: make cluster-down""")
    return settings


def _start(layout: Layout, model: Path, settings: dict[str, str], logs: Path) -> None:
    ensure_postgres(layout, make_url(settings["LEARNER_DB_URL"]).password)

    redis_password = urlsplit(settings["LOCK_STORE_URL"]).password
    redis = start_process(
        ["redis-server", str(redis_config(layout, redis_password))], logs / "redis.log",
        os.environ.copy(), detached=True,
    )  # fmt: skip
    record(layout, "redis", redis)
    wait_for_redis(settings["LOCK_STORE_URL"], redis, logs / "redis.log")

    # Built once here, so the two action servers starting at once find them current.
    ensure_knowledge_base(settings["KNOWLEDGE_DB_URL"], PROJECT_ROOT / "knowledge")
    migrate(settings["LEARNER_DB_URL"])

    env = rasa_env(
        **{name: value for name, value in settings.items() if name != "RASA_API_TOKEN"},
        COACH_VAR_DIR=str(layout.state_dir),
        SANIC_WORKERS="1",
        SANIC_GRACEFUL_SHUTDOWN_TIMEOUT="2",  # an open widget connection holds up a stop
    )
    started = []
    for replica, (rasa_port, actions_port) in enumerate(
        zip(layout.rasa_ports, layout.action_ports, strict=True), start=1
    ):
        actions = start_process(
            action_server_args(actions_port), logs / f"actions-{replica}.log", env, detached=True
        )
        record(layout, f"actions-{replica}", actions)
        endpoints = write_endpoints(
            layout.state_dir / f"endpoints-{replica}.yml", f"http://127.0.0.1:{actions_port}"
        )
        args = rasa_server_args(model, rasa_port, endpoints, settings["RASA_API_TOKEN"])
        rasa = start_process(args, logs / f"rasa-{replica}.log", env, detached=True)
        record(layout, f"rasa-{replica}", rasa)
        started += [
            (f"http://127.0.0.1:{actions_port}/health", actions, logs / f"actions-{replica}.log"),
            (f"http://127.0.0.1:{rasa_port}/", rasa, logs / f"rasa-{replica}.log"),
        ]
    for url, process, log in started:  # all four load at once
        wait_until_up(url, process, log, 300)

    prefix = layout.state_dir / "nginx"
    nginx = start_process(
        [executable("nginx"), "-p", str(prefix), "-c", str(nginx_config(layout)),
         "-e", str(prefix / "error.log"), "-g", "daemon off;"],
        logs / "nginx.log", os.environ.copy(), detached=True,
    )  # fmt: skip
    record(layout, "nginx", nginx)
    wait_until_up(f"{layout.url}/", nginx, logs / "nginx.log", 20)


def down(layout: Layout = Layout(), quiet: bool = False) -> None:
    """Stop what cluster-up started, front to back; nothing running is fine."""
    alive = recorded(layout)
    # The front first, so that no request reaches a replica that is going.
    stop(layout, {name: pid for name, pid in alive.items() if name == "nginx"})
    stop(layout, {name: pid for name, pid in alive.items() if name != "nginx"})
    marker = layout.state_dir / "postgres-started"
    if marker.exists():
        # PostgreSQL is the machine's: someone else may have started using it since cluster-up
        # started it (another cluster, a test run). Stopping it under them breaks their work.
        others = int(as_postgres(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ))  # fmt: skip
        if others:
            print(f"PostgreSQL left running: {others} other connection(s) use it.")
        else:
            version, name = marker.read_text().split()
            subprocess.run(["pg_ctlcluster", version, name, "stop"], check=False)
        marker.unlink()
    if not quiet:
        print(f"Stopped: {', '.join(alive) or 'nothing was running'}.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args()
    try:
        if args.command == "up":
            up()
        elif args.command == "down":
            down()
        else:
            alive = recorded(Layout())
            print("\n".join(f"{name}: pid {pid}" for name, pid in alive.items()) or "not running")
    except (ClusterUnavailable, RuntimeError, subprocess.CalledProcessError) as error:
        print(f"cluster {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
