"""The monthly report PDF: a table that runs over a page break repeats its header row on the next
page (the open cases of a busy month fill several pages; a column of ages without its title is
unreadable on paper). Checked in the printed PDF with pdftotext, page by page, for every table."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from desmig_desktop.services.monthly_report import activity_header, case_header, monthly_report
from desmig_desktop.store import settings
from desmig_desktop.ui.monthly_pdf import write_pdf
from tests.reports import fixture, programme_fixture

ROW = re.compile(r"\d{2}/\d{2}/\d{4}\s")  # a line of the activity or the case table
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")


def _pages(pdf: Path) -> list[list[str]]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [[line.strip() for line in page.splitlines() if line.strip()] for page in text.split("\f") if page.strip()]


@pytest.mark.parametrize(("activities", "cases"), [(1, 120), (60, 1), (45, 45)])
def test_every_table_repeats_its_header_on_a_new_page(qapp: Any, db: Any, tmp_path: Path,
                                                       activities: int, cases: int) -> None:
    settings.put(db, "villages", [])
    fixture.load_desktop(db)
    programme_fixture.load_desktop(db)
    settings.put(db, "villages", [fixture.V1, fixture.V2])
    report = monthly_report(db, "2026-11")
    assert report.activities and report.cases
    long = dataclasses.replace(report, activities=(report.activities * activities)[:max(activities, 1)],
                               cases=(report.cases * cases)[:max(cases, 1)])  # a busy month: many rows
    out = tmp_path / "laporan.pdf"
    write_pdf(long, out)
    pages = _pages(out)
    assert len(pages) >= 3
    # the table a page starts inside (the heading above it was on an earlier page) and the title
    # cell its header row must show there (a short one: it stays on one line)
    headings = {"Kegiatan petugas": activity_header()[2], "Kasus terbuka": case_header()[2]}
    inside: str | None = None
    continued = 0
    for number, lines in enumerate(pages, 1):
        if inside is not None:
            before_heading = lines[:next((n for n, line in enumerate(lines) if line in headings), len(lines))]
            first_row = next((n for n, line in enumerate(before_heading) if ROW.match(line)), None)
            if first_row is not None:  # more rows of the table (each starts with its date), not the signatures
                continued += 1
                assert any(inside in line for line in before_heading[:first_row]), (number, inside, before_heading[:4])
        for line in lines:
            if line in headings:
                inside = headings[line]
    assert continued >= 1  # the test saw a table cross a page break
