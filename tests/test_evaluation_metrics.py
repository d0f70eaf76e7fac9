"""The measuring instruments of scripts/evaluate.py and scripts/evaluate_answers.py, checked on
cases worked out by hand."""

import pytest

from scripts.evaluate import PIPELINES, adopted_pipeline, entity_f1, intent_f1, percentile
from scripts.evaluate_answers import ANSWER_WITHIN, answered


def test_intent_f1_weighted_and_macro():
    truth = ["a", "a", "a", "b"]
    predicted = ["a", "a", "b", "b"]
    scores = intent_f1(truth, predicted)
    # a: P=1, R=2/3, F1=0.8 (support 3); b: P=1/2, R=1, F1=2/3 (support 1)
    assert scores["macro"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert scores["weighted"] == pytest.approx((0.8 * 3 + 2 / 3) / 4)


def test_entity_f1_needs_the_exact_span_and_type():
    truth = [[(0, 4, "degree")], [(7, 11, "certification")], []]
    predicted = [[(0, 4, "degree")], [(7, 12, "certification")], [(0, 3, "degree")]]
    scores = entity_f1(truth, predicted)
    # degree: tp 1, fp 1, fn 0 -> F1 2/3; certification: tp 0 -> F1 0
    assert scores["per_type"] == {"degree": pytest.approx(2 / 3), "certification": 0.0}
    assert scores["macro"] == pytest.approx(1 / 3)
    assert scores["micro"] == pytest.approx(2 * 1 / (2 * 1 + 2 + 1))


def test_a_duplicate_prediction_of_the_same_span_counts_once():
    truth = [[(0, 4, "degree")]]
    assert entity_f1(truth, [[(0, 4, "degree"), (0, 4, "degree")]])["micro"] == 1.0


@pytest.mark.parametrize(("q", "expected"), [(0.5, 3), (0.95, 5), (0.0, 1)])
def test_percentile(q, expected):
    assert percentile([5, 1, 4, 2, 3], q) == expected


def test_config_yml_uses_one_of_the_compared_pipelines():
    assert (PIPELINES / f"{adopted_pipeline()}.yml").exists()


TEXTS = {"a.fact": "A bachelor's degree is typically required.", "b.fact": "Join ACRP."}
BACHELORS = TEXTS["a.fact"]
ONE = {"answers": ["a.fact"]}
TWO_PARTS = {"parts": [["a.fact"], ["b.fact"]]}


@pytest.mark.parametrize(
    ("reply", "question", "right"),
    [
        (f"It depends: {BACHELORS.lower()}", ONE, True),  # after a lead, in any case
        ("x" * ANSWER_WITHIN + BACHELORS, ONE, False),  # too late: after an overview
        (f"Join   ACRP.\n{BACHELORS}", TWO_PARTS, True),  # each part, in any order
        (BACHELORS, TWO_PARTS, False),  # one part unanswered
        ("Something else entirely.", {"answers": ["a.fact", "b.fact"]}, False),
    ],
)
def test_an_answer_counts_when_its_fact_comes_first(reply, question, right):
    assert answered(reply, question, TEXTS) is right
