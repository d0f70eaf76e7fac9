"""make bench: the full assistant under 1, 10 and 50 concurrent conversations, beside Rasa's own
`rasa init` template bot measured in the same run on the same machine.

Each of N concurrent users talks through the REST channel, one message after the other (a closed
loop), one whole scripted conversation per simulated learner, then the next learner takes over.
Ours asks the knowledge base, states a background, reports milestones (progress writes) and asks
for its progress; the template bot gets its own small talk. Printed: latency p50/p95/p99,
throughput, errors, server start time and memory; written to docs/measurements.md and
results/bench.json.

Long conversations, for both bots in the same run: one learner's 400-message conversation (p50 per
band of 50 messages: does a message cost more the longer the conversation has run?), and 10
learners at once whose conversations are 100 messages long.

    python -m scripts.bench             # both bots (about 35 minutes: the template bot trains)
    python -m scripts.bench --ours      # ours alone, e.g. while profiling
    python -m scripts.bench --long      # only the long conversations, both bots
    python -m scripts.bench --memory    # each server's memory over 10,000 messages in 100
                                        # conversations (about 15 minutes)
    python -m scripts.bench --cluster   # one process vs the local cluster (make cluster-up's
                                        # layout: 2 replicas, nginx, PostgreSQL, Redis), at 10
                                        # and 50 users (about 8 minutes; needs root to install)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

from scripts import cluster
from scripts.local_servers import (
    BIN,
    DEFAULT_MODEL,
    PROJECT_ROOT,
    free_port,
    rasa_env,
    running_assistant,
    start_process,
    stop_process,
    wait_until_up,
)
from scripts.measurements_page import publish

RESULTS = PROJECT_ROOT / "results" / "bench.json"
USER_COUNTS = (1, 10, 50)
CLUSTER_USER_COUNTS = (10, 50)  # where a second replica could matter
RUN = uuid.uuid4().hex[:6]  # learners of this run: the cluster's database outlives a run
MESSAGES_PER_RUN = 300  # per user count: enough for a stable p95 in about a minute
WARM_UP_MESSAGES = 10  # TensorFlow traces its graphs on the first calls

OUR_CONVERSATION = [
    "hi",
    "what certifications should I get?",
    "I'm a nurse with a BSN",
    "I passed the CCRP",
    "I just joined ACRP",
    "show my progress",
    "what should I do next?",
    "which laws do I need to know?",
    "thanks, bye",
]
TEMPLATE_CONVERSATION = ["hello", "I am sad", "yes", "are you a bot?", "great", "bye"]
# A learner who keeps asking, in one session: questions, a follow-up, progress and next steps.
OUR_LONG_CONVERSATION = [
    "what certifications should I get?",
    "tell me more",
    "which laws do I need to know?",
    "what degree do I need?",
    "show my progress",
    "what should I do next?",
]
LONG_MESSAGES = 400
BAND = 50
LONG_USERS = 10
LONG_USER_MESSAGES = 100


@dataclass
class LoadResult:
    users: int
    messages: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    throughput: float  # messages answered per second


@dataclass
class LongResult:
    bot: str
    band_p50_ms: list[float]  # p50 of messages 1-50, 51-100, ... of one conversation
    errors: int
    load: LoadResult  # LONG_USERS learners at once, LONG_USER_MESSAGES messages each

    @property
    def growth(self) -> float:
        """p50 of the last band against the first: what a long conversation adds to a message."""
        return self.band_p50_ms[-1] / self.band_p50_ms[0]


@dataclass
class BotResult:
    bot: str
    start_seconds: float  # process launch to first answered message
    memory_mb: float  # resident, all of the bot's processes, after the heaviest load
    loads: list[LoadResult] = field(default_factory=list)
    long: LongResult | None = None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _conversation(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    script: list[str],
    count: int,
    latencies: list[float],
    errors: list[str],
    one_learner: bool = False,
) -> None:
    """One simulated learner after another: each holds the whole script, then the next begins;
    or, with one_learner, one learner goes round the script for all `count` messages."""
    for turn in range(count):
        learner = sender if one_learner else f"{sender}-{turn // len(script)}"
        started = time.perf_counter()
        try:
            async with session.post(
                url, json={"sender": learner, "message": script[turn % len(script)]}
            ) as response:
                replies = await response.json(content_type=None)
                if response.status != 200 or not replies:
                    errors.append(f"{response.status}: {str(replies)[:100]}")
                    continue
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            errors.append(repr(error))
            continue
        latencies.append(time.perf_counter() - started)


async def _load(
    url: str,
    headers: dict,
    script: list[str],
    users: int,
    messages: int,
    tag: str,
    one_learner: bool = False,
) -> LoadResult:
    per_user = max(1, messages // users)
    latencies: list[float] = []
    errors: list[str] = []
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=connector, headers=headers
    ) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _conversation(
                    session,
                    url,
                    f"bench-{RUN}-{tag}-{users}-{user}",
                    script,
                    per_user,
                    latencies,
                    errors,
                    one_learner,
                )
                for user in range(users)
            )
        )
        seconds = time.perf_counter() - started
    if errors:
        print(f"    {len(errors)} errors, e.g. {errors[0]}", file=sys.stderr)
    ms = [latency * 1000 for latency in latencies] or [float("nan")]
    return LoadResult(
        users=users,
        messages=users * per_user,
        errors=len(errors),
        seconds=round(seconds, 1),
        p50_ms=round(percentile(ms, 0.50), 1),
        p95_ms=round(percentile(ms, 0.95), 1),
        p99_ms=round(percentile(ms, 0.99), 1),
        throughput=round(len(latencies) / seconds, 1),
    )


def resident_mb(root_pids: list[int]) -> float:
    """Resident memory of these processes and all their descendants (e.g. Sanic workers)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    family = set(root_pids)
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    total_kb = 0
    for pid in family:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
    return round(total_kb / 1024)


def measure(
    bot: str,
    url: str,
    script: list[str],
    pids: list[int],
    start: float,
    user_counts: tuple[int, ...] = USER_COUNTS,
    headers: dict | None = None,
) -> BotResult:
    """headers: sent with every request (our REST channel's token)."""
    result = BotResult(bot=bot, start_seconds=round(start, 1), memory_mb=0)
    webhook = f"{url}/webhooks/rest/webhook"
    headers = headers or {}
    # Warm-up with two users at once: behind nginx, one on each replica.
    asyncio.run(_load(webhook, headers, script, 2, 2 * WARM_UP_MESSAGES, "warm-up"))
    for users in user_counts:
        load = asyncio.run(_load(webhook, headers, script, users, MESSAGES_PER_RUN, "load"))
        print(
            f"  {bot:<17} {users:>3} users: p50 {load.p50_ms:.0f} ms, p95 {load.p95_ms:.0f} ms, "
            f"{load.throughput:.1f} msg/s, {load.errors} errors"
        )
        result.loads.append(load)
    result.memory_mb = resident_mb(pids)
    return result


async def _one_long_conversation(url: str, headers: dict, script: list[str]) -> tuple:
    latencies: list[float] = []
    errors: list[str] = []
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=120), headers=headers
    ) as session:
        await _conversation(
            session, url, f"bench-{RUN}-long", script, LONG_MESSAGES, latencies, errors, True
        )
    return latencies, errors


def measure_long(bot: str, url: str, script: list[str], headers: dict | None = None) -> LongResult:
    webhook = f"{url}/webhooks/rest/webhook"
    headers = headers or {}
    latencies, errors = asyncio.run(_one_long_conversation(webhook, headers, script))
    bands = [
        [latency * 1000 for latency in latencies[start : start + BAND]]
        for start in range(0, LONG_MESSAGES, BAND)
    ]
    band_p50 = [round(percentile(band or [float("nan")], 0.5), 1) for band in bands]
    print(f"  {bot:<17} one {LONG_MESSAGES}-message conversation, p50 per {BAND}: {band_p50}")
    load = asyncio.run(
        _load(
            webhook,
            headers,
            script,
            LONG_USERS,
            LONG_USERS * LONG_USER_MESSAGES,
            "long",
            one_learner=True,
        )
    )
    print(
        f"  {bot:<17} {LONG_USERS} learners x {LONG_USER_MESSAGES} messages: "
        f"p50 {load.p50_ms:.0f} ms, {load.throughput:.1f} msg/s, {load.errors} errors"
    )
    return LongResult(bot=bot, band_p50_ms=band_p50, errors=len(errors), load=load)


MEMORY_LEARNERS = 100
MEMORY_MESSAGES = 10_000
MEMORY_CHECKPOINTS = (1_000, 2_500, 5_000, 7_500, 10_000)


def measure_memory(work_dir: Path) -> list[tuple[int, float, float]]:
    """The servers' resident memory as 100 learners' conversations grow to 100 messages each, 10
    learners at a time: (messages so far, Rasa server MB, action server MB) at each checkpoint."""
    print(f"Our assistant, memory over {MEMORY_MESSAGES:,} messages:")
    with running_assistant(work_dir=work_dir) as assistant:
        rasa_pid, actions_pid = assistant.pids()
        webhook = f"{assistant.url}/webhooks/rest/webhook"
        figures, sent = [], 0
        for checkpoint in MEMORY_CHECKPOINTS:
            # Each step continues the same 100 conversations (learner i of step k is learner i).
            messages = checkpoint - sent
            per_learner = messages // MEMORY_LEARNERS
            for group in range(0, MEMORY_LEARNERS, LONG_USERS):
                asyncio.run(
                    _load(
                        webhook,
                        assistant.rest_headers,
                        OUR_LONG_CONVERSATION,
                        LONG_USERS,
                        LONG_USERS * per_learner,
                        f"memory-{group}",
                        one_learner=True,
                    )
                )
            sent = checkpoint
            figures.append((sent, resident_mb([rasa_pid]), resident_mb([actions_pid])))
            print(
                f"  after {sent:>6,} messages: Rasa server {figures[-1][1]:.0f} MB, "
                f"action server {figures[-1][2]:.0f} MB"
            )
    return figures


def first_reply_seconds(url: str, launched: float, headers: dict | None = None) -> float:
    """Seconds from launch until the bot answers a message (model loaded, not just listening)."""
    import requests

    while True:
        try:
            response = requests.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": "bench-start", "message": "hello"},
                headers=headers,
                timeout=30,
            )
            if response.ok:
                return time.perf_counter() - launched
        except requests.RequestException:
            pass
        time.sleep(0.2)


def bench_ours(
    work_dir: Path, workers: int, user_counts: tuple[int, ...] = USER_COUNTS, long: bool = False
) -> BotResult:
    bot = f"coach ({workers} worker{'s' if workers > 1 else ''})"
    print(f"Our assistant, {bot} (REST, action server, knowledge base, progress writes):")
    launched = time.perf_counter()
    with running_assistant(work_dir=work_dir, env={"SANIC_WORKERS": str(workers)}) as assistant:
        headers = assistant.rest_headers
        start = first_reply_seconds(assistant.url, launched, headers)
        result = measure(
            bot, assistant.url, OUR_CONVERSATION, assistant.pids(), start, user_counts, headers
        )
        if long:
            result.long = measure_long(bot, assistant.url, OUR_LONG_CONVERSATION, headers)
        return result


def bench_cluster(work_dir: Path) -> BotResult:
    """make cluster-up's layout (on ports and a database of its own), measured through nginx."""
    bot = "coach, 2 replicas + nginx"
    print(f"Our assistant, {bot} (PostgreSQL, Redis lock store, REST round-robin):")
    layout = cluster.Layout.beside(work_dir, "coach_bench", port_offset=200)
    launched = time.perf_counter()
    try:
        settings = cluster.up(layout)
        headers = {"Authorization": f"Bearer {settings['REST_API_TOKEN']}"}
        start = first_reply_seconds(layout.url, launched, headers)
        pids = list(cluster.recorded(layout).values())
        return measure(bot, layout.url, OUR_CONVERSATION, pids, start, CLUSTER_USER_COUNTS, headers)
    finally:
        cluster.down(layout)


def train_template_bot(directory: Path, log: Path) -> Path:
    """`rasa init` as a new Rasa user runs it: the template project and its trained model."""
    print(f"Generating and training Rasa's template bot (rasa init; log in {log})...")
    with open(log, "w") as log_file:
        subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(directory)],
            cwd=directory,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=rasa_env(),
            check=True,
        )
    return next((directory / "models").glob("*.tar.gz"))


@contextmanager
def running_template_bot(directory: Path, model: Path) -> Iterator[tuple[str, int, float]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = directory / "rasa.log"
    launched = time.perf_counter()
    process = start_process(
        [str(BIN / "rasa"), "run", "--model", str(model), "--port", str(port)],
        log,
        rasa_env(),
        cwd=directory,
    )
    try:
        wait_until_up(f"{url}/", process, log, 240)
        yield url, process.pid, first_reply_seconds(url, launched)
    finally:
        stop_process(process)


def bench_template(
    work_dir: Path, user_counts: tuple[int, ...] = USER_COUNTS, long: bool = False
) -> BotResult:
    directory = work_dir / "template-bot"
    directory.mkdir()
    model = train_template_bot(directory, work_dir / "template-train.log")
    print("Rasa's template bot (rasa init, as generated):")
    with running_template_bot(directory, model) as (url, pid, start):
        result = measure("template", url, TEMPLATE_CONVERSATION, [pid], start, user_counts)
        if long:
            result.long = measure_long("template", url, TEMPLATE_CONVERSATION)
        return result


def table(results: list[BotResult]) -> str:
    lines = [
        "| bot | users | p50 ms | p95 ms | p99 ms | msg/s | errors | start s | memory MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for load in result.loads:
            lines.append(
                f"| {result.bot} | {load.users} | {load.p50_ms:.0f} | {load.p95_ms:.0f} | "
                f"{load.p99_ms:.0f} | {load.throughput:.1f} | {load.errors} | "
                f"{result.start_seconds:.0f} | {result.memory_mb:.0f} |"
            )
    return "\n".join(lines)


def ratios(results: list[BotResult]) -> str:
    """Each of our rows against the template bot's of the same run (issue 19's bars)."""
    template = next((result for result in results if result.bot == "template"), None)
    if template is None:
        return ""

    def load(result: BotResult, users: int) -> LoadResult | None:
        return next((load for load in result.loads if load.users == users), None)

    def ratio(ours: float | None, theirs: float | None) -> str:
        return f"{ours / theirs:.2f}" if ours and theirs else "-"

    lines = [
        "Against the template bot in the same run (ours / template):",
        "",
        "| bot | p50, 1 learner | msg/s, 10 learners | long: msg/s, 10 learners "
        "| long: p50, 10 learners | long: last band / first, ours and template's |",
        "|---|---|---|---|---|---|",
    ]
    for ours in results:
        if ours is template:
            continue
        one, ten = load(ours, 1), load(ours, 10)
        their_one, their_ten = load(template, 1), load(template, 10)
        cells = [
            ratio(one and one.p50_ms, their_one and their_one.p50_ms),
            ratio(ten and ten.throughput, their_ten and their_ten.throughput),
        ]
        if ours.long and template.long:
            cells += [
                ratio(ours.long.load.throughput, template.long.load.throughput),
                ratio(ours.long.load.p50_ms, template.long.load.p50_ms),
                f"{ours.long.growth:.2f}x, {template.long.growth:.2f}x",
            ]
        else:
            cells += ["-", "-", "-"]
        lines.append(f"| {ours.bot} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def long_table(results: list[BotResult]) -> str:
    longs = [result.long for result in results if result.long]
    if not longs:
        return ""
    bands = [f"{start + 1}-{start + BAND}" for start in range(0, LONG_MESSAGES, BAND)]
    lines = [
        f"p50 ms by position in one {LONG_MESSAGES}-message conversation:",
        "",
        "| bot | " + " | ".join(bands) + f" | {bands[-1]} / {bands[0]} |",
        "|---" * (len(bands) + 2) + "|",
    ]
    for long in longs:
        cells = " | ".join(f"{p50:.0f}" for p50 in long.band_p50_ms)
        lines.append(f"| {long.bot} | {cells} | {long.growth:.2f}x |")
    lines += [
        "",
        f"{LONG_USERS} learners at once, conversations of {LONG_USER_MESSAGES} messages:",
        "",
        "| bot | p50 ms | p95 ms | msg/s | errors |",
        "|---|---|---|---|---|",
    ]
    for long in longs:
        load = long.load
        lines.append(
            f"| {long.bot} | {load.p50_ms:.0f} | {load.p95_ms:.0f} | {load.throughput:.1f} | "
            f"{load.errors + long.errors} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ours", action="store_true", help="skip the template bot")
    parser.add_argument(
        "--cluster", action="store_true", help="one process vs the local cluster, 10 and 50 users"
    )
    parser.add_argument(
        "--long", action="store_true", help="only the long conversations (both bots, one worker)"
    )
    parser.add_argument(
        "--memory", action="store_true", help="each server's memory over 10,000 messages"
    )
    args = parser.parse_args()
    if not DEFAULT_MODEL.exists():
        print("No trained model: run `make train` first.", file=sys.stderr)
        return 1

    if args.memory:
        with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
            figures = measure_memory(Path(tmp))
        rasa_first, actions_first = figures[0][1], figures[0][2]
        rows = "\n".join(
            f"| {sent:,} | {rasa:.0f} | {(rasa - rasa_first) / rasa_first:+.1%} "
            f"| {actions:.0f} | {(actions - actions_first) / actions_first:+.1%} |"
            for sent, rasa, actions in figures
        )
        table_text = (
            f"Resident memory of each server, {MEMORY_LEARNERS} learners' conversations "
            f"growing to {MEMORY_MESSAGES // MEMORY_LEARNERS} messages each:\n\n"
            "| messages | Rasa server MB | against the first 1,000 | action server MB "
            "| against the first 1,000 |\n|---|---|---|---|---|\n" + rows
        )
        print("\n" + table_text)
        publish("memory", "python -m scripts.bench --memory", table_text)
        return 0

    results = []
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        if args.cluster:
            # One process as `make run` starts it (SQLite), then the cluster, in the same run.
            results.append(bench_ours(Path(tmp) / "coach-1", 1, CLUSTER_USER_COUNTS))
            results.append(bench_cluster(Path(tmp) / "cluster"))
        elif args.long:
            results.append(bench_template(Path(tmp), (), long=True))
            results.append(bench_ours(Path(tmp) / "coach-1", 1, (), long=True))
        else:
            if not args.ours:
                results.append(bench_template(Path(tmp), long=True))
            # One worker is how `make run` starts it; two (SANIC_WORKERS=2) for comparison.
            for workers in (1, 2):
                results.append(bench_ours(Path(tmp) / f"coach-{workers}", workers, long=True))
    print("\n" + table(results) + "\n\n" + long_table(results) + "\n\n" + ratios(results))
    figures = (
        f"{table(results)}\n\n{MESSAGES_PER_RUN} messages per row.\n\n{long_table(results)}"
        f"\n\n{ratios(results)}"
    )
    if args.cluster:
        publish("speed-cluster", "make bench-cluster", figures)
    elif not (args.ours or args.long):
        publish("speed", "make bench", figures)

    output = RESULTS.with_name("bench_cluster.json") if args.cluster else RESULTS
    RESULTS.parent.mkdir(exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "measured": time.strftime("%Y-%m-%d %H:%M"),
                "machine": f"{os.cpu_count()} cores, {platform.platform()}",
                "messages_per_run": MESSAGES_PER_RUN,
                "bots": [asdict(result) for result in results],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nWritten: {output.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
