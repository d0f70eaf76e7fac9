"""Configuration from environment variables, read in one place.

Values are read on each call (not at import) so tests and operators can point a running
process's next lookup elsewhere simply by setting the variable before it starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    knowledge_db_url: str  # rebuildable content built from knowledge/
    knowledge_dir: Path  # the human-editable YAML the knowledge base is built from
    learner_db_url: str  # learners' profiles and progress: precious, migrated, never rebuilt
    slack_bot_token: str  # Slack is off unless both of these are set
    slack_signing_secret: str
    slack_api_url: str  # Slack's Web API; tests point it at a local stand-in
    slack_deliveries_db_url: str  # Slack events already answered, shared by every worker
    rest_api_token: str  # REST is off unless set; callers send "Authorization: Bearer <token>"
    tracker_db_url: str  # conversation history (Rasa's SQL tracker store)
    lock_store_url: str  # "" = a SQLite file on this machine; redis://... = shared by replicas
    locks_db_path: Path  # the SQLite lock file when lock_store_url is "" and workers > 1
    sanic_workers: int  # Rasa server processes on one port (Rasa reads SANIC_WORKERS itself)
    cache_dir: Path  # derived data a start can reuse (the example questions' vectors)
    # The operators' report page is off unless set; it is also the key of learners' hashes.
    report_token: str
    today: str  # "" = the machine's date; YYYY-MM-DD moves the goals' clock (tests, demos)
    goal_reminder_seconds: float  # how often Slack's goal reminders are looked for


def load_settings() -> Settings:
    var_dir = Path(os.environ.get("COACH_VAR_DIR", PROJECT_ROOT / "var"))
    return Settings(
        knowledge_db_url=os.environ.get(
            "KNOWLEDGE_DB_URL", f"sqlite:///{var_dir / 'knowledge.db'}"
        ),
        knowledge_dir=Path(os.environ.get("KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge")),
        learner_db_url=os.environ.get("LEARNER_DB_URL", f"sqlite:///{var_dir / 'learners.db'}"),
        slack_bot_token=os.environ.get("SLACK_BOT_TOKEN", ""),
        slack_signing_secret=os.environ.get("SLACK_SIGNING_SECRET", ""),
        slack_api_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
        slack_deliveries_db_url=os.environ.get(
            "SLACK_DELIVERIES_DB_URL", f"sqlite:///{var_dir / 'slack_deliveries.db'}"
        ),
        rest_api_token=os.environ.get("REST_API_TOKEN", ""),
        tracker_db_url=os.environ.get(
            "TRACKER_DB_URL", f"sqlite:///{var_dir / 'conversations.db'}"
        ),
        lock_store_url=os.environ.get("LOCK_STORE_URL", ""),
        locks_db_path=var_dir / "locks.db",
        sanic_workers=_int(os.environ.get("SANIC_WORKERS", ""), default=1),
        cache_dir=Path(os.environ.get("COACH_CACHE_DIR", PROJECT_ROOT / "models" / "cache")),
        report_token=os.environ.get("REPORT_TOKEN", ""),
        today=os.environ.get("COACH_TODAY", ""),
        goal_reminder_seconds=float(os.environ.get("GOAL_REMINDER_SECONDS", "") or 300),
    )


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default
