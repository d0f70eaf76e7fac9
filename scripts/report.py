"""make report: the operators' report as one HTML file (common/report.py), from the conversation
store and the learner database the environment names (TRACKER_DB_URL, LEARNER_DB_URL).

    python -m scripts.report                                   # the last 30 days
    python -m scripts.report --since 2026-11-01 --until 2026-11-30 --out /tmp/november.html

Learners are hashed with REPORT_TOKEN as the key, as on the served page, so a hash in the file
opens the same conversation there; without REPORT_TOKEN a random key is used for this file only.
The file holds no learner id, but it does hold what learners wrote: keep it where the
conversation store is kept.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from datetime import date
from pathlib import Path

from common.db import printable
from common.report import MissingStore, Period, build_report, path_steps
from common.report_page import render_report
from common.settings import PROJECT_ROOT, load_settings

DEFAULT_OUT = PROJECT_ROOT / "results" / "report.html"


def period_of(since: date | None, until: date | None, days: int = 30) -> Period:
    last = until or Period.last_days(days).last_day
    return Period(since or Period.last_days(days, today=last).first_day, last)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the operators' report as HTML.")
    parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--until", type=date.fromisoformat, help="last day, included")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    period = period_of(args.since, args.until)
    if period.first_day > period.last_day:
        parser.error("--since is after --until")
    settings = load_settings()
    key = settings.report_token or secrets.token_hex(16)
    started = time.perf_counter()
    try:
        report = build_report(
            settings.tracker_db_url,
            settings.learner_db_url,
            period,
            key,
            path_steps(settings.knowledge_dir),
        )
    except MissingStore as error:
        print(f"No report: {error}. Is TRACKER_DB_URL the server's?", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_report(report), encoding="utf-8")
    print(
        f"{args.out}: {period.first_day} to {period.last_day}, {report.messages:,} messages from "
        f"{report.active_learners:,} learners ({printable(settings.tracker_db_url)}, "
        f"{printable(settings.learner_db_url)}), in {time.perf_counter() - started:.1f} s."
    )
    if not settings.report_token:
        print("REPORT_TOKEN is unset: learners' hashes in this file are of this run only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
