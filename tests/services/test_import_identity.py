"""Issue 14 §4 at import: household-level and identity warnings are reported, never dropped;
hard identity rules refuse the row like any other error."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from desmig_desktop.cli import main
from desmig_desktop.services.exchange import ImportFailed, import_file
from desmig_desktop.services.households import HouseholdGraph, save_household

VILLAGE = "32.01.05.2003"


def _lines(records: list[tuple[str, str, dict[str, Any]]]) -> str:
    return "".join(json.dumps({"entity": e, "id": i, "data": d}) + "\n" for e, i, d in records)


def _household(label: str, **over: Any) -> tuple[str, str, dict[str, Any]]:
    data = {"village_code": VILLAGE, "head_name": "Budi", "visited_on": "2026-01-02", "consent": True, **over}
    return ("households", label, data)


def _member(label: str, household: str, relationship: str, **over: Any) -> tuple[str, str, dict[str, Any]]:
    data = {"household_id": household, "name": f"Anggota {label}", "sex": "L", "relationship": relationship,
            "migration_status": "bukan", **over}
    return ("members", label, data)


def _report(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_household_and_member_warnings_are_imported_and_reported(db: Database, tmp_path: Path) -> None:
    baby = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    source = tmp_path / "rt.jsonl"
    source.write_text(_lines([
        _household("RT-1"),  # line 1: its members have no head (said on the household's row)
        _household("RT-2", kk_number="3201053002200001"),  # line 2: KK issued on 30 February
        _member("A-1", "RT-1", "anak"),  # line 3
        _member("A-2", "RT-2", "kepala"),  # line 4
        _member("A-3", "RT-2", "kepala"),  # line 5: a second head
        _member("A-4", "RT-2", "anak", birth_date=baby, education="sd"),  # line 6: SD at one year old
    ]), encoding="utf-8")
    report = tmp_path / "laporan.csv"
    result = import_file(db, source, report=report)
    assert result["imported"] == 6 and result["invalid"] == 0  # warnings never stop an import
    assert result["warnings"] == 5 and result["report"] == str(report)
    rows = [(r["Baris"], r["Isian"], r["Pesan"]) for r in _report(report)]
    assert all(message.startswith("Peringatan: ") for _row, _field, message in rows)
    by_line = {(line, field) for line, field, _message in rows}
    assert by_line == {("1", "head_name"), ("2", "kk_number"), ("4", "relationship"), ("5", "relationship"),
                       ("6", "education")}
    assert any("kepala keluarga" in m and line == "1" for line, _f, m in rows)
    assert not any("3201053002200001" in m for _l, _f, m in rows)


def test_importing_a_member_into_a_stored_household_counts_its_stored_head(db: Database, tmp_path: Path) -> None:
    graph = HouseholdGraph({"village_code": VILLAGE, "head_name": "Budi", "visited_on": "2026-01-02",
                            "consent": True}, [{"name": "Budi", "sex": "L", "relationship": "kepala",
                                                "migration_status": "bukan"}])
    household_id = save_household(db, graph).household_id
    source = tmp_path / "tambah.jsonl"
    source.write_text(_lines([_member("B-1", household_id, "anak")]), encoding="utf-8")
    assert import_file(db, source)["warnings"] == 0  # the stored head counts
    source.write_text(_lines([_member("B-2", household_id, "kepala")]), encoding="utf-8")
    result = import_file(db, source, report=tmp_path / "r.csv")
    assert result["warnings"] == 1 and result["imported"] == 1  # the stored head and the new one
    [row] = _report(tmp_path / "r.csv")
    assert row["Baris"] == "1" and "2 anggota" in row["Pesan"]


@pytest.mark.parametrize("data, field", [
    ({"nik": "3201053002900001"}, "nik"),  # 30 February 1990
    ({"nik": "9901050512900001"}, "nik"),  # province 99
])
def test_hard_identity_rules_refuse_the_row(db: Database, tmp_path: Path, data: dict[str, Any], field: str) -> None:
    source = tmp_path / "x.jsonl"
    source.write_text(_lines([_household("RT-1"), _member("A-1", "RT-1", "kepala", **data)]), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(db, source)
    assert [(e.row, e.column) for e in info.value.errors] == [(2, field)]


def test_a_placement_in_indonesia_refuses_the_row(db: Database, tmp_path: Path) -> None:
    source = tmp_path / "x.jsonl"
    source.write_text(_lines([_household("RT-1"), _member("A-1", "RT-1", "kepala", migration_status="pmi_purna"),
                              ("placements", "P-1", {"member_id": "A-1", "country": "ID", "job": "prt"})]),
                      encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(db, source)
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "country")]


def test_cli_import_says_how_many_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESMIG_ALLOW_PLAINTEXT", "1")
    source = tmp_path / "rt.jsonl"
    source.write_text(_lines([_household("RT-1"), _member("A-1", "RT-1", "anak")]), encoding="utf-8")
    assert main(["--data-dir", str(tmp_path / "home"), "import", str(source)]) == 0
    out = capsys.readouterr().out
    assert "2 data diimpor" in out and "1 peringatan" in out
