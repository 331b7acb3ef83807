"""``desmig monthly-report`` and the report's period options: bad arguments are refused before the
database opens (exit 2, one line naming the option, no file), and the PDF (read back with
pdftotext) and the XLSX carry the hand-counted figures, activity log and open cases of
``programme_fixture`` for the officer's villages."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from desmig_desktop.cli import main

from . import fixture, programme_fixture
from .fixture import V1, V2

OFFICER = "Siti Petugas"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loaded_dir(data_dir: Path) -> Path:
    """The fixture's records in the data dir, recorded by an officer of V1 and V2."""
    from desmig_desktop.store import settings
    from desmig_desktop.store.db import connect

    db = connect(data_dir / "desmig.db")
    fixture.load_desktop(db)
    programme_fixture.load_desktop(db)
    settings.put(db, "officer_name", OFFICER)
    settings.put(db, "villages", [V1, V2])
    db.conn.close()
    return data_dir


BAD_ARGUMENTS = [
    (["report", "--month", "2026-13"], "--month"),
    (["report", "--month", "2026-1"], "--month"),
    (["report", "--month", "26-11"], "--month"),
    (["report", "--month", ""], "--month"),
    (["report", "--month", "2026-11-01"], "--month"),
    (["report", "--month", "١٢٣٤-١١"], "--month"),  # Arabic-Indic digits match \d, not a month
    (["report", "--from", "2026-02-30"], "--from"),
    (["report", "--from", "2026/11/01"], "--from"),
    (["report", "--to", "besok"], "--to"),
    (["report", "--to", "2026-11-1"], "--to"),
    (["report", "--from", "2026-11-05", "--to", "2026-11-01"], "--from"),
    (["report", "--month", "2026-11", "--from", "2026-11-01"], "--month"),
    (["monthly-report", "--month", "2026-00", "--out", "x.pdf"], "--month"),
    (["monthly-report", "--month", "11-2026", "--out", "x.pdf"], "--month"),
    (["monthly-report", "--month", "2026-11", "--out", "laporan.doc"], "--out"),
    (["monthly-report", "--month", "2026-11", "--out", "laporan"], "--out"),
    (["monthly-report", "--month", "2026-11", "--out", "laporan.pdf.txt"], "--out"),
]


@pytest.mark.parametrize(("args", "option"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_the_database_opens(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             args: list[str], option: str) -> None:
    home = tmp_path / "home"  # no database at all: a refused argument never reaches it
    argv = [a.replace("x.pdf", str(tmp_path / "x.pdf")) for a in args]
    code, out, err = run(capsys, "--data-dir", str(home), *argv)
    assert code == 2 and out == ""
    assert err.startswith("desmig: ") and option in err and len(err.strip().splitlines()) == 1
    assert not (home / "desmig.db").exists() and not list(tmp_path.glob("x*")) and not list(tmp_path.glob("lap*"))


@pytest.mark.parametrize("missing", ["--month", "--out"])
def test_monthly_report_needs_month_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str], missing: str) -> None:
    args = {"--month": "2026-11", "--out": str(tmp_path / "x.pdf")}
    del args[missing]
    with pytest.raises(SystemExit) as exc:
        main(["--data-dir", str(tmp_path), "monthly-report", *(v for kv in args.items() for v in kv)])
    assert exc.value.code == 2 and missing in capsys.readouterr().err


def test_report_period_options_reach_the_figures(loaded_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, out, _err = run(capsys, "--data-dir", str(loaded_dir), "report", "--level", "village", "--month", "2026-11",
                          "--json")
    assert code == 0
    report = json.loads(out)
    assert report["period"] == {"from": "2026-11-01", "to": "2026-11-30"}
    assert report["totals"]["service_records"] == programme_fixture.EXPECTED_TOTALS["service_records"]
    code, out, _err = run(capsys, "--data-dir", str(loaded_dir), "report", "--level", "village", "--from",
                          "2026-11-20", "--json")
    assert code == 0 and json.loads(out)["period"] == {"from": "2026-11-20", "to": None}
    assert json.loads(out)["totals"]["service_records"] == 3  # s2 (V1), s5, s6 (V2)


# What November 2026 holds for V1 and V2 (programme_fixture): label, V1, V2, total.
FIGURES = [
    ("Layanan migrasi", 2, 2, 4),
    ("Layanan/kasus terbuka", 3, 2, 5),
    ("Anak PMI", 2, 2, 4),  # k6 (a grandchild) is no child of PMI (domain.programme.CHILD_OF_PMI)
    ("Anak PMI ikut pengasuhan bersama", 2, 1, 3),
    ("Kegiatan pengasuhan bersama", 2, 1, 3),
    ("Koperasi/kelompok usaha aktif", 1, 1, 2),
    ("Anggota koperasi/kelompok aktif", 2, 1, 3),
    ("Kegiatan petugas", 2, 0, 2),
    ("Nilai dukungan usaha", "Rp 2.000.000", "Rp 0", "Rp 2.000.000"),
]
# The open cases by the month's end, oldest first: served on, village, age in days (s6 came after).
CASES = [("01/06/2026", "Pondok Rajeg", 182), ("15/09/2026", "Pondok Rajeg", 76), ("31/10/2026", "Karadenan", 30),
         ("01/11/2026", "Karadenan", 29), ("20/11/2026", "Pondok Rajeg", 10)]
ACTIVITIES = [("04/11/2026", "Pondok Rajeg"), ("25/11/2026", "Pondok Rajeg")]  # not V2's of 2 December


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils, scripts/apt.sh) missing")
def test_monthly_pdf_shows_the_months_numbers(loaded_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "laporan-2026-11.pdf"
    code, said, _err = run(capsys, "--data-dir", str(loaded_dir), "monthly-report", "--month", "2026-11",
                           "--out", str(out))
    assert code == 0 and "2 desa, 2 kegiatan, 5 kasus terbuka" in said
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    lines = [re.sub(r"\s{2,}", " | ", line.strip()) for line in text.splitlines()]
    assert "Laporan Bulanan Petugas Desmigratif — November 2026" in text
    assert OFFICER in text and "01/11/2026 – 30/11/2026" in text
    for label, *values in FIGURES:
        assert " | ".join([label, *(str(v) for v in values)]) in lines, label
    case_lines = [line for line in lines if re.match(r"\d\d/\d\d/2026 \| (Pondok Rajeg|Karadenan) \| .*(Terbuka|Sedang)",
                                                      line)]
    assert [(line.split(" | ")[0], line.split(" | ")[1], int(line.split(" | ")[-1])) for line in case_lines] == CASES
    assert [tuple(line.split(" | ")[:2]) for line in lines
            if re.match(r"\d\d/\d\d/2026 \| .* \| Rapat koordinasi", line)] == ACTIVITIES
    assert "Wanaherang" not in text  # V3 is not the officer's


def test_monthly_xlsx_cells(loaded_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "laporan.XLSX"
    assert run(capsys, "--data-dir", str(loaded_dir), "monthly-report", "--month", "2026-11", "--out", str(out))[0] == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["Angka", "Kegiatan petugas", "Kasus terbuka"]
    sheet = [_trimmed([c.value for c in row]) for row in wb["Angka"].iter_rows()]
    assert sheet[1] == ["Petugas", OFFICER] and sheet[2][1:] == [dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 30)]
    assert sheet[4] == ["Angka", "Pondok Rajeg", "Karadenan", "Jumlah"]
    rows: dict[str, list[Any]] = {str(r[0]).strip(): r[1:] for r in sheet[5:]}
    for label, *values in FIGURES:
        want = [int(re.sub(r"\D", "", v)) if isinstance(v, str) else v for v in values]
        assert rows[label] == want, label
    assert rows["Kasus terbuka 90 hari atau lebih"] == [1, 0, 1]
    cases = [_trimmed([c.value for c in row]) for row in wb["Kasus terbuka"].iter_rows(min_row=2)]
    assert [(r[0].strftime("%d/%m/%Y"), r[1], r[-1]) for r in cases] == CASES
    activities = [[c.value for c in row] for row in wb["Kegiatan petugas"].iter_rows(min_row=2)]
    assert [(r[0].strftime("%d/%m/%Y"), r[1]) for r in activities] == ACTIVITIES
    assert all(r[5] == 12 for r in activities)  # attendance: a number


def _trimmed(values: list[Any]) -> list[Any]:
    """A sheet row without the empty cells after its last value (rows are as wide as the widest)."""
    while values and values[-1] is None:
        values.pop()
    return values
