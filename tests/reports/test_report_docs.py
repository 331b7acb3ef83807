"""The README's "Report figures" names every report key, and only those (docs tested against code)."""

from __future__ import annotations

import re
from pathlib import Path

from desmig_desktop.domain.report_spec import METRICS, REPORT_KEYS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_report_key() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Report figures", 1)[1].split("\n### ", 1)[0]
    named = set(re.findall(r"`([a-z_]+)`", section))
    assert set(REPORT_KEYS) <= named, set(REPORT_KEYS) - named
    assert {k for k in named if "_" in k or k in REPORT_KEYS} - set(REPORT_KEYS) == set()


def test_every_figure_says_how_it_is_counted_in_both_languages() -> None:
    for m in METRICS:
        assert m.label_id and m.label_en and m.counted_id.endswith(".") and m.counted_en.endswith("."), m.key
