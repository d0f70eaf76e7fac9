"""Next steps follow the career path and never advise what the learner already has."""

import pytest

from actions.recommender import effective_completed, next_milestones, progress


@pytest.fixture
def path(kb):
    return kb.path()


def keys(steps):
    return [step.key for step in steps]


def test_a_new_learner_starts_at_the_beginning(path):
    assert keys(next_milestones(path, set())) == ["degree", "graduate_degree", "certification"]


def test_what_is_done_is_never_suggested(path):
    done = {"degree", "certification", "leadership"}
    suggested = keys(next_milestones(path, done))
    assert suggested == ["graduate_degree", "clinical_experience", "compliance"]
    assert not done & set(suggested)


def test_a_masters_implies_a_bachelors(path):
    assert effective_completed({"graduate_degree"}) == {"graduate_degree", "degree"}
    assert "degree" not in keys(next_milestones(path, {"graduate_degree"}))


def test_between_one_and_three_suggestions_until_everything_is_done(path):
    all_keys = {step.key for step in path}
    assert len(next_milestones(path, set())) == 3
    assert keys(next_milestones(path, all_keys - {"job_search_ready"})) == ["job_search_ready"]
    assert next_milestones(path, all_keys) == []


def test_progress_counts_done_and_to_do(path):
    state = progress(path, {"degree", "graduate_degree", "leadership"})
    assert len(state.done) == 3 and len(state.to_do) == len(path) - 3
    assert state.percent == 30
    assert progress(path, set()).percent == 0
