"""docs/measurements.md holds the figures, each section written by the command that measures it.

A section sits between `<!-- figures: NAME -->` and `<!-- /figures: NAME -->`; `publish()`
replaces what is between them with the new figures and a line saying when, where and by which
command they were measured. The prose around the markers is written by hand; the figures never
are, so the page always shows each command's latest run and nothing older.
"""

from __future__ import annotations

import os
import platform
import re
import time

from common.settings import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs" / "measurements.md"


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}"


def publish(section: str, command: str, figures: str) -> None:
    """Replace the figures of `section` on the measurements page."""
    page = PAGE.read_text(encoding="utf-8")
    markers = re.compile(
        rf"(<!-- figures: {re.escape(section)} -->\n).*?(<!-- /figures: {re.escape(section)} -->)",
        re.DOTALL,
    )
    if not markers.search(page):
        raise ValueError(f"{PAGE} has no markers for the figures of {section!r}")
    stamp = f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `{command}`."
    body = f"{stamp}\n\n{figures.strip()}\n"
    PAGE.write_text(markers.sub(lambda m: m.group(1) + body + m.group(2), page), encoding="utf-8")
    print(f"Written: the {section!r} figures of {PAGE}")
