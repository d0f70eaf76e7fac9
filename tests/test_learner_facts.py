"""Reading a learner's education from a free statement (actions/learner_facts.py)."""

import pytest

from actions.learner_facts import parse_education


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I have a bachelor's in nursing", "bachelor"),
        ("bachelors", "bachelor"),
        ("an undergraduate degree", "bachelor"),
        ("a BA in biology", "bachelor"),
        ("BSc chemistry", "bachelor"),
        ("a BS", "bachelor"),
        ("my BSN", "bachelor"),
        ("a PhD", "doctorate"),
        ("no degree yet", "none"),
        # Found by tests/integration/test_fuzz.py: "banana" was read as a BA.
        ("banana 3.14 []", None),
        ("I have a basic understanding", None),
        ("absolutely", None),
        ("bsod", None),
    ],
)
def test_degree_abbreviations_count_only_as_whole_words(text, level):
    assert parse_education(text, []).get("education_level") == level
