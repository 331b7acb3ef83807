"""Export → import round trips and all-or-nothing imports."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.exchange import ImportFailed, export, headers, import_file
from desmig_desktop.services.import_rows import COPY_HEADERS
from desmig_desktop.store.db import connect

VILLAGES = ("32.01.05.2003", "35.02.01.2001")


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name in ENTITY_ORDER:
        cols = ", ".join(("id", *ENTITIES[name].keys))
        out[name] = [dict(zip(("id", *ENTITIES[name].keys), r))
                     for r in db.execute(f"SELECT {cols} FROM {name} WHERE deleted = 0 ORDER BY id")]
    return out


@pytest.fixture
def demo_db(db: Database) -> Database:
    generate_demo(db, 40, villages=VILLAGES, seed=7)
    return db


def fresh(tmp_path: Path, template_db: Path, name: str) -> Database:
    path = tmp_path / f"{name}.db"
    path.write_bytes(template_db.read_bytes())
    return connect(path)


@pytest.mark.parametrize("fmt, target", [("jsonl", "out.jsonl"), ("csv", "csvdir"), ("xlsx", "out.xlsx")])
def test_export_then_import_gives_identical_records(demo_db: Database, tmp_path: Path, template_db: Path,
                                                     fmt: str, target: str) -> None:
    out = tmp_path / target
    written = export(demo_db, fmt, out, mask=False)
    assert written == sum(len(v) for v in snapshot(demo_db).values())
    other = fresh(tmp_path, template_db, "other")
    result = import_file(other, out)
    assert result["imported"] == written and result["invalid"] == 0
    assert snapshot(other) == snapshot(demo_db)
    assert other.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == written


def test_csv_and_xlsx_headers_open_with_stdlib_and_openpyxl(demo_db: Database, tmp_path: Path) -> None:
    export(demo_db, "csv", tmp_path / "csv")
    with open(tmp_path / "csv" / "members.csv", newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [*headers("members"), *COPY_HEADERS]
    assert rows[0][:3] == ["ID [id]", "Rumah tangga [household_id]", "NIK [nik]"]
    assert len(rows) - 1 == demo_db.execute("SELECT count(*) FROM members").fetchone()[0]
    export(demo_db, "xlsx", tmp_path / "x.xlsx")
    wb = load_workbook(tmp_path / "x.xlsx", read_only=True)
    assert wb.sheetnames == list(ENTITY_ORDER)
    first = next(wb["businesses"].iter_rows(max_row=1, values_only=True))
    assert list(first) == [*headers("businesses"), *COPY_HEADERS]  # then which copy of the record each row is


def test_reimport_updates_only_changed_fields(demo_db: Database, tmp_path: Path) -> None:
    hid, name = demo_db.execute("SELECT id, head_name FROM households LIMIT 1").fetchone()
    before = demo_db.execute("SELECT max(op_seq) FROM sync_outbox").fetchone()[0]
    line = {"entity": "households", "id": hid, "data": {"notes": "dikunjungi ulang"}}
    (tmp_path / "edit.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    import_file(demo_db, tmp_path / "edit.jsonl")
    ops = demo_db.execute("SELECT record_id, fields FROM sync_outbox WHERE op_seq > ?", [before]).fetchall()
    assert ops == [(hid, '{"notes": "dikunjungi ulang"}')]
    assert demo_db.execute("SELECT head_name, notes FROM households WHERE id = ?", [hid]).fetchone() == (
        name, "dikunjungi ulang")


def test_one_bad_row_cancels_the_whole_import(demo_db: Database, tmp_path: Path, template_db: Path) -> None:
    export(demo_db, "jsonl", tmp_path / "all.jsonl", mask=False)
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[-1])
    bad["data"]["kbli_category"] = "Z"
    lines[-1] = json.dumps(bad)
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    other = fresh(tmp_path, template_db, "other")
    with pytest.raises(ImportFailed) as info:
        import_file(other, tmp_path / "bad.jsonl")
    assert info.value.errors[0].column == "kbli_category" and f"baris {len(lines)}" in info.value.errors[0].where
    assert snapshot(other) == {name: [] for name in ENTITY_ORDER}
    assert other.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == 0
    result = import_file(other, tmp_path / "bad.jsonl", valid_only=True)
    assert result["invalid"] == 1 and result["imported"] == len(lines) - 1


@pytest.mark.parametrize("content, fragment", [
    ("{not json\n", "JSON"),
    ('{"entity": "rockets", "id": "x", "data": {}}\n', "entity"),
    ('{"entity": "members", "id": 5, "data": {}}\n', "id"),
])
def test_malformed_lines(db: Database, tmp_path: Path, content: str, fragment: str) -> None:
    (tmp_path / "x.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(db, tmp_path / "x.jsonl")
    assert fragment in str(info.value)


def test_xlsx_row_errors_name_row_and_column(db: Database, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "households"
    ws.append(headers("households"))
    ws.append([None, "32.01.05.2003", None, None, None, None, "3201", "Budi", None, None, None, "2026-01-02", 1, None])
    wb.save(tmp_path / "h.xlsx")
    with pytest.raises(ImportFailed) as info:
        import_file(db, tmp_path / "h.xlsx")
    err = info.value.errors[0]
    assert (err.where, err.column) == ("households baris 2", "kk_number")


def test_masked_export(demo_db: Database, tmp_path: Path) -> None:
    export(demo_db, "jsonl", tmp_path / "m.jsonl", mask=True)
    text = (tmp_path / "m.jsonl").read_text(encoding="utf-8")
    import re
    assert not re.search(r"\b\d{16}\b", text) and "********" in text


def test_exports_mask_nik_by_default_and_say_so_on_import(demo_db: Database, tmp_path: Path,
                                                          template_db: Path) -> None:
    import re
    export(demo_db, "jsonl", tmp_path / "shared.jsonl")
    text = (tmp_path / "shared.jsonl").read_text(encoding="utf-8")
    assert not re.search(r"\d{16}", text)
    with pytest.raises(ImportFailed) as info:
        import_file(fresh(tmp_path, template_db, "other"), tmp_path / "shared.jsonl")
    assert "--full-nik" in str(info.value)
