"""The region names against a second source (issue 14 §5): what ``resources/LICENSES.md`` says
about the differences is what ``scripts/compare_regions.py`` found, and still true of
``resources/regions.csv``.

The second source (npm ``idn-area-data`` 4.0.1) cannot be installed by the test suite (no
network, no Node.js in CI), so the comparison's output is committed in
``docs/regions-crosscheck.csv``; with ``DESMIG_IDN_AREA_DATA`` set to an unpacked copy of the
package the comparison runs again here and must give exactly that file.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("compare_regions", ROOT / "scripts" / "compare_regions.py")
assert _spec is not None and _spec.loader is not None
compare_regions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_regions)

LICENSES = (ROOT / "resources" / "LICENSES.md").read_text(encoding="utf-8")


def crosscheck() -> list[dict[str, str]]:
    with compare_regions.OUT.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_listed_difference_is_still_true_of_regions_csv() -> None:
    here = compare_regions.read_here()
    rows = crosscheck()
    assert rows and [r["code"] for r in rows] == sorted({r["code"] for r in rows})
    for row in rows:
        level, name = here[row["code"]]
        assert (str(level), name) == (row["level"], row["name"]), row["code"]
        assert row["idn_area_data_name"] != name
        assert compare_regions.kind_of(name, row["idn_area_data_name"]) == row["difference"], row["code"]


@pytest.mark.parametrize(("here", "there", "kind"), [
    ("Ja'an", 'Ja"an', "punctuation"), ("Urek-Urek", "Urek - Urek", "punctuation"), ("Teuw", "Teuw*", "punctuation"),
    ("Lamuk", "lamuk", "case"), ("Limbangan", "Bl. Limbangan", "words"),
    ("Nanggala Sanpiak Satu", "Nanggala Sanpiak Salu", "words"), ("Baru Waki", "Baru", "words"),
])
def test_kinds_of_difference(here: str, there: str, kind: str) -> None:
    assert compare_regions.kind_of(here, there) == kind


def test_licenses_states_the_real_differences() -> None:
    """The counts, and every name that differs in letters or words with both spellings."""
    rows = crosscheck()
    counts = {k: sum(1 for r in rows if r["difference"] == k) for k in ("case", "punctuation", "words")}
    said = " ".join(LICENSES.split())
    assert f"differs in {len(rows)} names" in said
    assert f"{counts['case']} in letter case only" in said
    assert f"{counts['punctuation']} in punctuation or spacing only" in said
    assert f"{counts['words']} in letters or words" in said
    assert "punctuation/spacing variants" not in said  # the old claim that nothing else differed
    table = dict(re.findall(r"^\s*\| (\d[\d.]*)[^|]*\| [^|]+\| ([^|]+?) \|$", LICENSES, re.M))
    words = {r["code"]: r for r in rows if r["difference"] == "words"}
    assert set(table) == set(words)
    for code, row in words.items():
        assert table[code].startswith(row["idn_area_data_name"]), code
        assert f"| {row['name']} |" in LICENSES, code


@pytest.mark.skipif(not os.environ.get("DESMIG_IDN_AREA_DATA"),
                    reason="set DESMIG_IDN_AREA_DATA to an unpacked idn-area-data 4.0.1 (see scripts/compare_regions.py)")
def test_the_comparison_gives_the_committed_file() -> None:
    there = compare_regions.read_there(Path(os.environ["DESMIG_IDN_AREA_DATA"]))
    rows = compare_regions.compare(compare_regions.read_here(), there)
    assert compare_regions.render(rows) == compare_regions.OUT.read_text(encoding="utf-8")
