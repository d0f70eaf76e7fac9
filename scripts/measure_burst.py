"""Ten messages of one learner sent over REST at the same moment: how long until all ten are
answered (the issue's target: within 2 s in total). A measurement, not a test: it prints figures.

    python -m scripts.measure_burst [--rounds 5] [--messages 10]

Starts its own action server and Rasa server (scripts/local_servers.py) in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scripts.local_servers import RunningAssistant, running_assistant

QUESTION = "which certs would boost my cv?"


def burst_seconds(assistant: RunningAssistant, messages: int) -> tuple[float, list[str]]:
    """Seconds until every one of `messages` simultaneous messages of a new learner is answered,
    and the first line of each reply."""
    sender = f"burst-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, "hi")  # the conversation is under way, as a learner's would be

    def ask(_: int) -> str:
        replies = assistant.say(sender, QUESTION, timeout=120)
        return (replies[0].get("text") or "").split("\n")[0] if replies else "(no reply)"

    with ThreadPoolExecutor(max_workers=messages) as pool:
        started = time.perf_counter()
        firsts = list(pool.map(ask, range(messages)))
        return time.perf_counter() - started, firsts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work_dir:
        with running_assistant(work_dir=Path(work_dir)) as assistant:
            assistant.say("warm-up", QUESTION)  # a server's first message does one-off work
            totals = []
            for round_number in range(1, args.rounds + 1):
                seconds, firsts = burst_seconds(assistant, args.messages)
                totals.append(seconds)
                replies = ", ".join(f"{count} x {first!r}" for first, count in _counts(firsts))
                print(f"round {round_number}: {seconds:.2f} s for {args.messages} ({replies})")
    print(f"median {statistics.median(totals):.2f} s, max {max(totals):.2f} s")


def _counts(items: list[str]) -> list[tuple[str, int]]:
    return [(item, items.count(item)) for item in dict.fromkeys(items)]


if __name__ == "__main__":
    main()
