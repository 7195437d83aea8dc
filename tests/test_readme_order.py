"""The README reads in a newcomer's order, and its integrator section is complete: what a new
project must add is all there (the startproject test applies its blocks), speed comes late and
short, with the full figures one link away."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
ORDER = [
    "Two commands",
    "Add Inbox to your project",
    "Sending",
    "Kinds and preferences",
    "Email and digests",
    "Web Push, offline and the installable app",
    "Real time",
    "Configuration",
    "Security",
    "Production",
    "Speed",
]


def sections() -> dict[str, str]:
    parts = re.split(r"(?m)^## ", README)[1:]
    return {part.split("\n", 1)[0].strip(): part for part in parts}


def test_sections_come_in_a_newcomer_s_order():
    titles = [title for title in sections() if title in ORDER]
    assert titles == ORDER


def test_the_integrator_section_names_everything_a_new_project_needs():
    section = sections()["Add Inbox to your project"]
    for needed in (
        "pip install build",
        "INBOX_SITE_URL",
        "MAILERS",
        "INBOX_KINDS_MODULE",
        'include("django.contrib.auth.urls")',
        "MIGRATION_MODULES",
    ):
        assert needed in section, needed


def test_speed_is_a_short_table_with_the_full_figures_linked():
    speed = sections()["Speed"]
    assert len(speed.splitlines()) <= 25
    assert "docs/performance.md" in speed
    assert (ROOT / "docs" / "performance.md").read_text().count("\n|") >= 15  # the whole table moved there
