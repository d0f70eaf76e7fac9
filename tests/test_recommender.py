"""Next steps follow the career path and never advise what the learner already has."""

import pytest

from actions.recommender import effective_completed, next_milestones, progress


@pytest.fixture
def path(kb):
    return kb.path()


def keys(steps):
    return [step.key for step in steps]


def test_a_new_learner_starts_at_the_beginning(path):
    assert keys(next_milestones(path, set())) == keys(path[:3])


def test_what_is_done_is_never_suggested_and_the_path_order_is_kept(path):
    done = {"degree", "certification", "leadership"}
    suggested = keys(next_milestones(path, done))
    assert suggested == [key for key in keys(path) if key not in done][:3]
    assert not done & set(suggested)


def test_a_masters_implies_a_bachelors(path):
    assert effective_completed({"graduate_degree"}) == {"graduate_degree", "degree"}
    assert "degree" not in keys(next_milestones(path, {"graduate_degree"}))


def test_between_one_and_three_suggestions_until_everything_is_done(path):
    all_keys = set(keys(path))
    last = path[-1].key
    assert len(next_milestones(path, set())) == 3
    assert keys(next_milestones(path, all_keys - {last})) == [last]
    assert next_milestones(path, all_keys) == []


def test_progress_counts_done_and_to_do(path):
    state = progress(path, {"degree", "graduate_degree", "leadership"})
    assert len(state.done) == 3 and len(state.to_do) == len(path) - 3
    assert progress(path, set()).percent == 0
    assert progress(path, keys(path)).percent == 100


def test_progress_is_a_rounded_percentage(path):
    four_steps = path[:4]
    assert progress(four_steps, keys(four_steps[:1])).percent == 25
    assert progress(path[:3], keys(path[:1])).percent == 33
    assert progress(path[:3], keys(path[:2])).percent == 67
