"""Issue 14 §2: spreadsheets the app writes never carry a live formula, and read back unchanged.

Every writer is checked (desktop export CSV/XLSX, the import error report, the HQ dashboard's
downloads, the desktop dashboard's table export) with a table of hostile texts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlite_utils import Database

from desmig_desktop.domain import sheetcell
from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER
from desmig_desktop.services.exchange import ImportFailed, export, headers, import_file
from desmig_desktop.store.db import connect

VILLAGE = "32.01.05.2003"
HOSTILE = [
    '=HYPERLINK("http://evil.example","klik")',
    "=cmd|' /C calc'!A0",
    "+62 Budi",
    "-Budi",
    "@SUM(A1:A9)",
    "'Ali",
    "''Dua kutip",
    "=1+1",
    "Budi '=biasa",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name in ENTITY_ORDER:
        cols = ", ".join(("id", *ENTITIES[name].keys))
        out[name] = [dict(zip(("id", *ENTITIES[name].keys), r))
                     for r in db.execute(f"SELECT {cols} FROM {name} WHERE deleted = 0 ORDER BY id")]
    return out


def fresh(tmp_path: Path, template_db: Path, name: str) -> Database:
    path = tmp_path / f"{name}.db"
    path.write_bytes(template_db.read_bytes())
    return connect(path)


@pytest.fixture
def hostile_db(db: Database, tmp_path: Path) -> Database:
    """One household per hostile text, as head name, hamlet and notes; phones starting with +62."""
    lines = []
    for n, text in enumerate(HOSTILE):
        lines.append({"entity": "households", "id": f"h{n}", "data": {
            "village_code": VILLAGE, "head_name": text, "hamlet": text[:100], "notes": text, "rt": "1",
            "phone": "+6281234567" + str(n), "visited_on": "2024-05-01", "consent": True}})
        lines.append({"entity": "members", "id": f"m{n}", "data": {
            "household_id": f"h{n}", "name": text, "sex": "L", "relationship": "kepala", "migration_status": "bukan",
            "occupation": text}})
    (tmp_path / "seed.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    assert import_file(db, tmp_path / "seed.jsonl")["invalid"] == 0
    return db


def csv_cells(folder: Path) -> Iterator[str]:
    for path in folder.glob("*.csv"):
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for line in csv.reader(fh):
                yield from line


def xlsx_cells(path: Path) -> Iterator[Any]:
    wb = load_workbook(path)  # formulas as formulas (data_type "f"), not their cached values
    for ws in wb.worksheets:
        for line in ws.iter_rows():
            yield from line


def test_csv_export_neutralises_every_formula_and_imports_back_unchanged(
        hostile_db: Database, tmp_path: Path, template_db: Path) -> None:
    export(hostile_db, "csv", tmp_path / "csv", mask=False)
    cells = list(csv_cells(tmp_path / "csv"))
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    assert "'" + HOSTILE[0] in cells and "'+6281234567" + "0" in cells and "'''Dua kutip" in cells
    other = fresh(tmp_path, template_db, "other")
    assert import_file(other, tmp_path / "csv")["invalid"] == 0
    assert snapshot(other) == snapshot(hostile_db)


def test_xlsx_export_writes_text_cells_and_imports_back_unchanged(
        hostile_db: Database, tmp_path: Path, template_db: Path) -> None:
    export(hostile_db, "xlsx", tmp_path / "out.xlsx", mask=False)
    cells = list(xlsx_cells(tmp_path / "out.xlsx"))
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(HOSTILE) - {"'Ali", "''Dua kutip"} <= texts and {"''Ali", "'''Dua kutip"} <= texts
    # quote-prefixed, so editing the cell in Excel (F2, Enter) keeps it text
    assert all(c.quotePrefix for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_START))
    other = fresh(tmp_path, template_db, "other")
    result = import_file(other, tmp_path / "out.xlsx")
    assert (result["invalid"], result["imported"]) == (0, 2 * len(HOSTILE))
    assert snapshot(other) == snapshot(hostile_db)


def test_a_csv_saved_again_as_xlsx_by_excel_keeps_its_quotes_and_still_imports(
        hostile_db: Database, tmp_path: Path, template_db: Path) -> None:
    """Excel shows the CSV's escape quote as text; a workbook saved from it is read the same way."""
    export(hostile_db, "csv", tmp_path / "csv", mask=False)
    wb = Workbook()
    wb.remove(wb.active)
    for name in ("households", "members"):
        ws = wb.create_sheet(name)
        with open(tmp_path / "csv" / f"{name}.csv", newline="", encoding="utf-8-sig") as fh:
            for line in csv.reader(fh):
                ws.append(line)
                for cell in ws[ws.max_row]:
                    cell.data_type = "s"
    wb.save(tmp_path / "from-csv.xlsx")
    other = fresh(tmp_path, template_db, "other")
    assert import_file(other, tmp_path / "from-csv.xlsx")["invalid"] == 0
    assert snapshot(other)["households"] == snapshot(hostile_db)["households"]


@pytest.mark.parametrize("value", ["#VALUE!", "#REF!", "#N/A", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "Err:509"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_error_values_in_a_text_field_are_refused(db: Database, tmp_path: Path, value: str, fmt: str) -> None:
    line = ["RT-1", VILLAGE, None, None, None, None, None, value, None, None, None, "2024-05-01", 1, None,
            None, None, None, None]
    assert len(line) == len(headers("households"))
    if fmt == "csv":
        path = tmp_path / "households.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([headers("households"), line])
    else:
        wb = Workbook()
        wb.active.title = "households"
        wb.active.append(headers("households"))
        wb.active.append(line)
        path = tmp_path / "h.xlsx"
        wb.save(path)
    with pytest.raises(ImportFailed) as info:
        import_file(db, path)
    [err] = info.value.errors
    assert err.column == "head_name" and err.row == 2 and "nilai galat" in err.message and value in err.message
    assert db.execute("SELECT count(*) FROM households").fetchone()[0] == 0


def test_the_error_report_neutralises_text_from_the_file(db: Database, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "=HYPERLINK(1)"[:31].replace("(", "x").replace(")", "x")  # a sheet name cannot hold ()
    ws = wb.active
    ws.append([*headers("households"), '=HYPERLINK("http://evil.example","klik") [evil]'])
    ws.cell(row=1, column=ws.max_column).data_type = "s"  # typed as text (as the officer's Excel may)
    ws.append(["RT-1", VILLAGE, None, None, None, None, None, "Budi", None, None, None, "2024-05-01", 1, None,
               None, None, None, None, "isi"])
    wb.save(tmp_path / "in.xlsx")
    for report in (tmp_path / "r.csv", tmp_path / "r.xlsx"):
        with pytest.raises(ImportFailed):
            import_file(db, tmp_path / "in.xlsx", report=report)
    with open(tmp_path / "r.csv", newline="", encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert not [c for line in lines for c in line if c.startswith(FORMULA_START)]
    assert lines[1][3] == """'=HYPERLINK("http://evil.example","klik") [evil]"""
    cells = list(xlsx_cells(tmp_path / "r.xlsx"))
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    assert '=HYPERLINK("http://evil.example","klik") [evil]' in {c.value for c in cells}


def _report(name: str) -> dict[str, Any]:
    row = {"code": "32.01", "name": name, "households": 3}
    return {"level": "regency", "rows": [row], "totals": {"households": 3}}


@pytest.mark.parametrize("name", HOSTILE)
def test_hq_dashboard_downloads_carry_no_formula(name: str) -> None:
    import io

    from desmig_server.web.table import to_csv, to_xlsx

    lines = list(csv.reader(io.StringIO(to_csv(_report(name)).decode("utf-8-sig"))))
    assert not [c for line in lines for c in line if c.startswith(FORMULA_START)]
    assert lines[1][:2] == ["32.01", name if not name.startswith((*FORMULA_START, "'")) else "'" + name]
    wb = load_workbook(io.BytesIO(to_xlsx(_report(name), title=name, user=name)))
    cells = [c for ws in wb.worksheets for line in ws.iter_rows() for c in line]
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    assert wb["Rekap"]["B2"].value == name and wb["Keterangan"]["B1"].value == name


@pytest.mark.parametrize("name", HOSTILE)
def test_desktop_dashboard_table_exports_carry_no_formula(name: str, tmp_path: Path) -> None:
    from desmig_desktop.ui.dashboard.exporting import TableExport, write_csv, write_xlsx

    table = TableExport(title=name, headers=["Kode", "Desa", "Rumah tangga"], rows=[["32.01", name, 3]],
                        total_row=["", "Jumlah", 3])
    write_csv(table, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8-sig") as fh:
        assert not [c for line in csv.reader(fh) for c in line if c.startswith(FORMULA_START)]
    write_xlsx(table, tmp_path / "t.xlsx")
    cells = list(xlsx_cells(tmp_path / "t.xlsx"))
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    assert {name} <= {c.value for c in cells}


# Any text a record can hold (no control characters but tab and newline), hostile starts favoured.
record_texts = st.one_of(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n")),
                         st.sampled_from(["=", "+", "-", "@", "\t", "'", "''", "#", "Err:"]).flatmap(
                             lambda start: st.text(st.characters(blacklist_categories=("Cs", "Cc"))).map(
                                 lambda rest: start + rest))).filter(lambda t: not sheetcell.is_error_value(t))


@settings(max_examples=150, deadline=None)
@given(text=record_texts)
def test_any_text_survives_the_csv_and_xlsx_writers_and_the_reader(tmp_path_factory: pytest.TempPathFactory,
                                                                   text: str) -> None:
    """The class of the round-trip bug: whatever the text, the file holds no formula and reads back equal."""
    from desmig_desktop.services.exchange import csv_line, xlsx_line
    from desmig_desktop.services.import_read import read_rows

    folder = tmp_path_factory.mktemp("prop")
    row = ["RT-1", VILLAGE, None, None, None, None, None, text, None, None, None, "2024-05-01", 1, None]
    with open(folder / "households.csv", "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows([csv_line(headers("households")), csv_line(row)])
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("households")
    ws.append(xlsx_line(ws, headers("households")))
    ws.append(xlsx_line(ws, row))
    wb.save(folder / "h.xlsx")
    assert not [c for c in csv_cells(folder) if c.startswith(FORMULA_START)]
    assert not [c.coordinate for c in xlsx_cells(folder / "h.xlsx") if c.data_type in ("f", "e")]
    for path in (folder / "households.csv", folder / "h.xlsx"):
        [got] = read_rows(path).rows
        assert (got.data["head_name"] or None) == (text or None) and not got.cell_errors  # "" is no value
