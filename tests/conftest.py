"""Shared fixtures: temporary knowledge base and learner database, a tracker factory, a
dispatcher and the domain. The default database URLs point at throw-away files, so no test can
touch the checkout's var/ databases.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

_STARTED = time.time()
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="coach-tests-"))
os.environ["KNOWLEDGE_DB_URL"] = f"sqlite:///{_SESSION_DIR / 'knowledge.db'}"
os.environ["LEARNER_DB_URL"] = f"sqlite:///{_SESSION_DIR / 'learners.db'}"
os.environ["TRACKER_DB_URL"] = f"sqlite:///{_SESSION_DIR / 'conversations.db'}"
os.environ["COACH_VAR_DIR"] = str(_SESSION_DIR)  # the lock file and every other default
os.environ.pop("LOCK_STORE_URL", None)

# Before TensorFlow, as in scripts/quiet_rasa.py: 7 s less for each test that loads the model.
import skops.io  # noqa: E402, F401, I001
from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.kb_loader import build_knowledge_base  # noqa: E402
from actions.knowledge_base import KnowledgeBase  # noqa: E402
from actions.learner_store import ProgressStore, migrate  # noqa: E402
from common.settings import PROJECT_ROOT  # noqa: E402
from scripts.local_servers import DEFAULT_MODEL  # noqa: E402

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
SOURCES_DIR = KNOWLEDGE_DIR / "sources"  # the two source documents the facts come from
INTEGRATION_DIR = PROJECT_ROOT / "tests" / "integration"


@pytest.fixture(scope="session")
def built_kb_url(tmp_path_factory) -> str:
    """The knowledge base built from knowledge/ into a temporary SQLite file, once per run: the
    actions only read it (tests of the build itself build their own)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('kb') / 'knowledge.db'}"
    build_knowledge_base(url, KNOWLEDGE_DIR)
    return url


@pytest.fixture
def kb_url(built_kb_url, monkeypatch) -> str:
    """The knowledge base the actions use."""
    monkeypatch.setenv("KNOWLEDGE_DB_URL", built_kb_url)
    return built_kb_url


@pytest.fixture
def kb(kb_url) -> KnowledgeBase:
    return KnowledgeBase(kb_url)


@pytest.fixture
def learner_db_url(tmp_path, monkeypatch) -> str:
    """An empty learner database at the latest schema, used by the actions."""
    url = f"sqlite:///{tmp_path / 'learners.db'}"
    migrate(url)
    monkeypatch.setenv("LEARNER_DB_URL", url)
    return url


@pytest.fixture
def store(learner_db_url) -> ProgressStore:
    return ProgressStore(learner_db_url)


@pytest.fixture(scope="session")
def domain() -> dict:
    """domain.yml as the action server receives it."""
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def tracker():
    """Build a tracker whose latest message is `text` (with optional intent, NLU's intent
    ranking, entities and slots)."""

    def make(
        text: str,
        intent: str = "",
        entities: list[dict[str, Any]] | None = None,
        slots: dict[str, Any] | None = None,
        events: list[dict[str, Any]] | None = None,
        sender_id: str = "learner-1",
        intent_ranking: list[dict[str, Any]] | None = None,
        knowledge_ranking: list[tuple[str, float]] | None = None,
    ) -> Tracker:
        """knowledge_ranking: (entry key, cosine) as the Rasa server ranks the knowledge base's
        entries by meaning (addons/knowledge_ranking.py); none by default."""
        return Tracker(
            sender_id=sender_id,
            slots=slots or {},
            latest_message={
                "text": text,
                "intent": {"name": intent, "confidence": 1.0},
                "entities": entities or [],
                "intent_ranking": intent_ranking or [],
                "knowledge_ranking": [
                    {"entry": entry, "score": score} for entry, score in knowledge_ranking or []
                ],
            },
            events=events or [],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return make


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(items):
    """Tests that need the trained model are marked `model`: every one in tests/integration, and
    those marked by hand. Without a model they are skipped (`-m "not model"` leaves them out)."""
    trained = DEFAULT_MODEL.exists()
    for item in items:
        if INTEGRATION_DIR in item.path.parents:
            item.add_marker(pytest.mark.model)
        if not trained and item.get_closest_marker("model"):
            item.add_marker(pytest.mark.skip(reason="needs a trained model: make train"))


def pytest_terminal_summary(terminalreporter):
    """Show the held-out accuracy table when this run measured it."""
    table = PROJECT_ROOT / "results" / "heldout.txt"
    if table.exists() and table.stat().st_mtime > _STARTED:
        terminalreporter.write_sep("-", "held-out questions through the REST channel")
        terminalreporter.write(table.read_text())
