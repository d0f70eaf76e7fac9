"""The measurements page keeps its hand-written text; each command replaces only its figures."""

import pytest

from scripts import measurements_page

PAGE = """# Measurements

Prose about speed.

<!-- figures: speed -->
Measured long ago.

| old | table |
<!-- /figures: speed -->

Prose after.
"""


@pytest.fixture
def page(tmp_path, monkeypatch):
    path = tmp_path / "measurements.md"
    path.write_text(PAGE)
    monkeypatch.setattr(measurements_page, "PAGE", path)
    return path


def test_publishing_replaces_only_the_sections_figures(page):
    measurements_page.publish("speed", "make bench", "| new | table |")
    text = page.read_text()
    assert "| new | table |" in text and "| old | table |" not in text
    assert "by `make bench`." in text
    assert text.startswith("# Measurements\n\nProse about speed.\n\n<!-- figures: speed -->\n")
    assert text.endswith("<!-- /figures: speed -->\n\nProse after.\n")


def test_a_section_without_markers_is_refused(page):
    with pytest.raises(ValueError, match="understanding"):
        measurements_page.publish("understanding", "make evaluate", "figures")
    assert page.read_text() == PAGE


@pytest.mark.parametrize(
    "section",
    ["understanding", "answers", "nlu-pipelines", "speed", "speed-cluster", "memory", "goals"],
)
def test_the_real_page_has_a_place_for_each_commands_figures(section):
    text = measurements_page.PAGE.read_text()
    assert f"<!-- figures: {section} -->" in text and f"<!-- /figures: {section} -->" in text
