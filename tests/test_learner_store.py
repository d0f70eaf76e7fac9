"""The learner database: profiles and milestones per sender, migrations, concurrent updates.

Runs on SQLite, and on PostgreSQL too when TEST_POSTGRES_URL names an empty database (.ci/run
starts one): the same code serves both.
"""

import os
import threading
from datetime import datetime

import pytest
from sqlalchemy import inspect, text

from actions.kb_loader import build_knowledge_base
from actions.learner_store import ProgressStore, migrate
from common.db import engine_for
from tests.conftest import KNOWLEDGE_DIR

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def learner_url(request, tmp_path):
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'learners.db'}"
    if not POSTGRES_URL:
        pytest.skip("set TEST_POSTGRES_URL to an empty PostgreSQL database (.ci/run does)")
    with engine_for(POSTGRES_URL).begin() as connection:
        for table in ("learner_milestones", "learners", "alembic_version"):
            connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    return POSTGRES_URL


@pytest.fixture
def store(learner_url):
    migrate(learner_url)
    return ProgressStore(learner_url)


def test_a_new_learner_has_no_record(store):
    assert store.record("nobody") is None
    assert store.completed("nobody") == set()


def test_profile_fields_are_updated_one_by_one(store):
    store.update_profile("ana", education_level="bachelor", education_field="nursing")
    store.update_profile("ana", years_experience=2.0)
    profile = store.record("ana").profile
    assert profile.known() == {
        "education_level": "bachelor",
        "education_field": "nursing",
        "years_experience": 2.0,
    }


def test_unknown_profile_fields_are_refused(store):
    with pytest.raises(ValueError, match="not profile fields"):
        store.update_profile("ana", favourite_colour="blue")


def test_milestones_are_marked_once_and_can_be_undone(store):
    assert store.mark_done("ana", ["degree", "certification", "degree"]) == [
        "degree",
        "certification",
    ]
    assert store.mark_done("ana", ["degree"]) == []
    assert store.mark_not_done("ana", ["certification", "leadership"]) == ["certification"]
    assert store.completed("ana") == {"degree"}
    assert isinstance(store.record("ana").completed["degree"], datetime)


def test_learners_are_kept_apart(store):
    store.mark_done("ana", ["degree"])
    store.update_profile("ana", current_role="nurse")
    assert store.record("ben") is None
    store.mark_done("ben", ["leadership"])
    assert store.completed("ana") == {"degree"}
    assert store.completed("ben") == {"leadership"}


def test_reset_keeps_the_profile_and_delete_erases_everything(store):
    store.update_profile("ana", current_role="nurse")
    store.mark_done("ana", ["degree", "leadership"])
    assert store.reset_progress("ana") == 2
    assert store.record("ana").profile.current_role == "nurse"
    assert store.completed("ana") == set()

    store.mark_done("ana", ["degree"])
    assert store.delete_learner("ana") is True
    assert store.record("ana") is None
    assert store.completed("ana") == set()
    assert store.delete_learner("ana") is False


def test_rebuilding_the_knowledge_base_never_touches_learners(tmp_path):
    # Even when both live in the same database file.
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate(url)
    store = ProgressStore(url)
    store.update_profile("ana", current_role="nurse")
    store.mark_done("ana", ["degree"])
    build_knowledge_base(url, KNOWLEDGE_DIR)
    build_knowledge_base(url, KNOWLEDGE_DIR)
    assert store.completed("ana") == {"degree"}
    assert store.record("ana").profile.current_role == "nurse"


def test_a_profile_and_milestones_are_saved_together(store):
    added = store.save("ana", profile={"current_role": "nurse"}, milestones=["degree", "degree"])
    assert added == ["degree"]
    record = store.record("ana")
    assert record.profile.current_role == "nurse"
    assert set(record.completed) == {"degree"}


def test_migrates_an_empty_database_to_the_latest_schema(learner_url):
    migrate(learner_url)
    tables = set(inspect(engine_for(learner_url)).get_table_names())
    assert {"learners", "learner_milestones", "alembic_version"} <= tables


def test_upgrades_a_database_at_the_previous_schema_keeping_its_learners(learner_url):
    url = learner_url
    migrate(url, "0001")  # an operator's database from before milestones existed
    with engine_for(url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO learners (sender_id, current_job, created_at, updated_at)"
                " VALUES ('ana', 'nurse', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    migrate(url)
    store = ProgressStore(url)
    assert store.record("ana").profile.current_role == "nurse"
    store.mark_done("ana", ["degree"])
    assert store.completed("ana") == {"degree"}
    migrate(url)  # running it again changes nothing
    assert store.completed("ana") == {"degree"}


def test_concurrent_updates_to_the_same_learner_lose_nothing(store):
    milestones = [
        "degree",
        "graduate_degree",
        "certification",
        "clinical_experience",
        "leadership",
        "compliance",
        "professional_organisation",
        "continuing_education",
    ]
    fields = {
        "education_level": "bachelor",
        "education_field": "nursing",
        "current_role": "nurse",
        "years_experience": 3.0,
        "target_role": "Clinical Program Manager",
        "preferred_setting": "hospitals",
    }
    errors = []
    start = threading.Barrier(len(milestones) + len(fields))

    def run(work):
        try:
            start.wait()
            work()
        except Exception as error:  # collected and reported below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(lambda m=m: store.mark_done("ana", [m]),))
        for m in milestones
    ] + [
        threading.Thread(target=run, args=(lambda k=k, v=v: store.update_profile("ana", **{k: v}),))
        for k, v in fields.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert store.completed("ana") == set(milestones)
    assert store.record("ana").profile.known() == fields
