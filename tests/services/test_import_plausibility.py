"""Issue 20 §6 at import: a household with no members, a head younger than 15, a married child,
a foreign phone number and a point far from the village are reported (warnings never stop an
import), each on the row that wrote the record concerned."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from desmig_desktop.services.exchange import import_file
from desmig_desktop.store import records

VILLAGE = "32.01.05.2003"


def _lines(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    return "".join(json.dumps({"entity": e, "id": i, "data": d}) + "\n" for e, i, d in rows)


def _household(label: str, **over: Any) -> tuple[str, str, dict[str, Any]]:
    return ("households", label, {"village_code": VILLAGE, "head_name": "Budi", "visited_on": "2026-01-02",
                                  "consent": True, **over})


def _member(label: str, household: str, relationship: str, **over: Any) -> tuple[str, str, dict[str, Any]]:
    return ("members", label, {"household_id": household, "name": f"Anggota {label}", "sex": "L",
                               "relationship": relationship, "migration_status": "bukan", **over})


def test_implausible_households_are_reported_at_import(db: Database, tmp_path: Path) -> None:
    ten = (dt.date.today() - dt.timedelta(days=365 * 10 + 5)).isoformat()
    source = tmp_path / "rt.jsonl"
    source.write_text(_lines([
        _household("RT-1"),  # line 1: nobody listed
        _household("RT-2", phone="+60 12-345 6789", latitude=3.5952, longitude=98.6722),  # line 2: Medan
        _member("A-1", "RT-2", "kepala", birth_date=ten),  # line 3: a head of ten
        _member("A-2", "RT-2", "anak", birth_date=ten, marital_status="kawin"),  # line 4: married at ten
    ]), encoding="utf-8")
    report = tmp_path / "laporan.csv"
    result = import_file(db, source, report=report)
    assert (result["imported"], result["invalid"], result["errors"]) == (4, 0, 0)
    with open(report, encoding="utf-8-sig", newline="") as fh:
        found = {(r["Baris"], r["Isian"]): r["Pesan"] for r in csv.DictReader(fh)}
    assert "belum punya anggota" in found[("1", "head_name")]
    assert "di luar provinsi desa ini" in found[("2", "latitude")]
    assert "Kepala keluarga berusia 10 tahun" in found[("3", "birth_date")]
    assert "Status perkawinan Kawin" in found[("4", "marital_status")]
    assert len(found) == 4 and result["warnings"] == 4
    stored = [h for h in db["households"].rows if h["phone"]]
    assert [h["phone"] for h in stored] == ["+60123456789"]
    assert records.get(db, "households", stored[0]["id"])["latitude"] == 3.5952
