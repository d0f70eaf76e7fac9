"""Typo correction against the training vocabulary (addons/spelling.py)."""

import pytest

from addons.spelling import Speller, edit_distance

VOCABULARY = {
    "certifications": 12, "certification": 20, "education": 15, "requirements": 6,
    "management": 9, "manager": 30, "managers": 10, "networking": 8, "progression": 2,
    "hospital": 5, "degree": 25, "need": 40,
}  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("certifcations", "certifications"),  # a letter missing
        ("educaton", "education"),
        ("requirments", "requirements"),
        ("managment", "management"),
        ("manger", "manager"),
        ("netwroking", "networking"),  # two letters swapped
        ("progresion", "progression"),
        ("hosptial", "hospital"),
    ],
)
def test_a_misspelt_word_is_read_as_the_known_word(typed, meant):
    assert Speller(VOCABULARY).correct(typed) == meant


@pytest.mark.parametrize(
    "word",
    ["degree", "need", "mba", "gcp", "xyzzyq", "2024", "program", "nursing"],
)
def test_known_short_or_unlike_words_are_left_alone(word):
    assert Speller(VOCABULARY).correct(word) is None


def test_the_more_frequent_word_wins_a_tie():
    assert Speller({"manager": 30, "managed": 1}).correct("managex") == "manager"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("abc", "abc", 0), ("abc", "acb", 1), ("abc", "ab", 1), ("kitten", "sitting", 3)],
)
def test_edit_distance_counts_a_swap_as_one(a, b, distance):
    assert edit_distance(a, b) == distance
