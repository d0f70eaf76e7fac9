"""The learner database: profiles and milestones per sender, migrations, concurrent updates.

Runs on SQLite, and on PostgreSQL too when TEST_POSTGRES_URL names an empty database (.ci/run
starts one): the same code serves both.
"""

import os
import threading
import time
from dataclasses import replace
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from actions.kb_loader import build_knowledge_base
from actions.learner_store import (
    NotSaved,
    ProgressStore,
    alembic_config,
    current_revision,
    migrate,
)
from common.db import DeadlinePassed, engine_for, write_scope, writes_due_by
from common.learner_schema import Learner
from tests.conftest import KNOWLEDGE_DIR
from tests.support import refuse_writes, write_locked

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def learner_url(request, tmp_path):
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'learners.db'}"
    if not POSTGRES_URL:
        pytest.skip("set TEST_POSTGRES_URL to an empty PostgreSQL database (.ci/run does)")
    with engine_for(POSTGRES_URL).begin() as connection:
        for table in (
            "learner_goal_changes",
            "learner_goals",
            "learner_milestones",
            "learners",
            "alembic_version",
        ):
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


# Every write commits by its deadline or not at all, so that a learner is never told a write
# failed that lands later (the Rasa server stops waiting for an action after 2.6 s).


def test_a_write_still_waiting_for_a_lock_at_its_deadline_is_not_saved(store, learner_url):
    with write_locked(learner_url):
        with writes_due_by(time.monotonic() + 0.5), pytest.raises(NotSaved):
            store.save("ana", profile={"current_role": "nurse"}, milestones=["degree"])
        assert store.record("ana") is None  # reads go on meanwhile
    assert store.record("ana") is None  # and nothing of it lands once the lock is gone


def test_a_write_outside_an_action_waits_for_a_lock_within_the_same_deadline(store, learner_url):
    with write_locked(learner_url), pytest.raises(NotSaved):
        store.mark_done("ana", ["degree"])
    assert store.record("ana") is None


def test_a_write_due_before_it_starts_is_not_saved(store):
    with writes_due_by(time.monotonic()), pytest.raises(NotSaved):
        store.mark_done("ana", ["degree"])
    assert store.record("ana") is None


def test_a_transaction_still_open_at_its_deadline_is_rolled_back(store, learner_url):
    now = datetime.now()
    with writes_due_by(time.monotonic() + 0.2), pytest.raises(DeadlinePassed):
        with write_scope(learner_url) as session:
            session.add(Learner(sender_id="ana", created_at=now, updated_at=now))
            session.flush()
            time.sleep(0.3)  # the commit would come after the deadline
    assert store.record("ana") is None


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
    ana = "rest:ana"  # her id now carries the channel that stored it (a REST sender)
    assert store.record(ana).profile.current_role == "nurse"
    store.mark_done(ana, ["degree"])
    assert store.completed(ana) == {"degree"}
    migrate(url)  # running it again changes nothing
    assert store.completed(ana) == {"degree"}


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


# Learner ids as the channels stored them before ids carried their channel, and as the same
# learners' ids are now (common/learner_ids.py).
WIDGET_SESSION = "0f" * 16
IDS_BEFORE_AND_NOW = {
    "U0123ABCD": "slack:U0123ABCD",
    f"web-{WIDGET_SESSION}": f"web:{WIDGET_SESSION}",
    "shell-root": "shell:root",
    "ana": "rest:ana",
}


def store_at_0002(url: str) -> ProgressStore:
    """A learner database at revision 0002, before learner ids carried their channel (its tables
    are the ones ProgressStore still uses)."""
    migrate(url, "0002")
    return ProgressStore(url)


def test_learner_ids_get_their_channel_with_their_profiles_and_milestones(learner_url):
    old = store_at_0002(learner_url)
    for number, sender in enumerate(IDS_BEFORE_AND_NOW):
        old.save(
            sender,
            profile={"current_role": f"role of {sender}", "years_experience": float(number)},
            milestones=["degree", "certification"][: number % 2 + 1],
        )
    before = {sender: old.record(sender) for sender in IDS_BEFORE_AND_NOW}

    migrate(learner_url)
    store = ProgressStore(learner_url)
    for sender, now in IDS_BEFORE_AND_NOW.items():
        assert store.record(now) == replace(before[sender], sender_id=now)
        assert store.record(sender) is None

    migrate(learner_url)  # at the latest revision already: nothing changes
    for sender, now in IDS_BEFORE_AND_NOW.items():
        assert store.record(now) == replace(before[sender], sender_id=now)


def test_a_learner_already_under_the_new_id_keeps_that_profile_and_gains_the_milestones(
    learner_url,
):
    # E.g. a REST caller that already sent the prefixed id: the two rows are one learner.
    old = store_at_0002(learner_url)
    old.save("ana", profile={"current_role": "nurse"}, milestones=["degree"])
    old.save("rest:ana", profile={"current_role": "research nurse"}, milestones=["certification"])
    migrate(learner_url)
    store = ProgressStore(learner_url)
    assert store.record("ana") is None
    assert store.record("rest:ana").profile.current_role == "research nurse"
    assert store.completed("rest:ana") == {"degree", "certification"}


def test_an_id_migration_that_fails_part_way_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'learners.db'}"
    old = store_at_0002(url)
    old.save("ana", profile={"current_role": "nurse"}, milestones=["degree"])
    refuse_writes(url, "DELETE", "learners")  # the migration's last step
    with pytest.raises(OperationalError):
        migrate(url)
    assert current_revision(url) == "0002"
    assert old.record("rest:ana") is None
    assert old.completed("ana") == {"degree"}


def test_the_id_migration_is_not_undone(learner_url):
    # "rest:ana" may be "ana" from before or a learner who came since: stripping the channel
    # could give one learner another's record. A backup restores an older database.
    store_at_0002(learner_url).save("ana", milestones=["degree"])
    migrate(learner_url)
    with pytest.raises(NotImplementedError, match="backup"):
        command.downgrade(alembic_config(learner_url), "0002")
    assert current_revision(learner_url) != "0002"
    assert ProgressStore(learner_url).completed("rest:ana") == {"degree"}
