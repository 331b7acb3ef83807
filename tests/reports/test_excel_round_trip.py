"""Officers keep lists in Excel: export, edit in a spreadsheet, import back — with a per-row error
report (sheet, row, column, message in Bahasa Indonesia), all-or-nothing unless ``--valid-only``."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from desmig_desktop.cli import main
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.exchange import ImportFailed, export, headers, import_file
from desmig_desktop.store.db import connect

VILLAGE = "32.01.05.2003"
REPORT_HEAD = ["Lembar/berkas", "Baris", "Kolom", "Judul kolom", "Isian", "Pesan"]


def cli(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def count(db: Any, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()[0])


def sheet_row(entity: str, **values: Any) -> list[Any]:
    """A row in the export's column order (``ID [id]`` first)."""
    return [values.get(h.rsplit("[", 1)[1].rstrip("]")) for h in headers(entity)]


def new_workbook(households: list[list[Any]], members: list[list[Any]]) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "households"
    ws.append(headers("households"))
    for line in households:
        ws.append(line)
    ws = wb.create_sheet("members")
    ws.append(headers("members"))
    for line in members:
        ws.append(line)
    return wb


def read_report(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def store(data_dir: Path) -> Any:
    db = connect(data_dir / "desmig.db")
    yield db
    db.conn.close()


def test_new_households_typed_in_excel_with_labels_and_date_cells(store: Any, tmp_path: Path) -> None:
    wb = new_workbook(
        [sheet_row("households", id="RT-1", village_code=VILLAGE, head_name="Sumarni",
                   visited_on=dt.datetime(2024, 5, 1), consent=1),  # Excel made the date a datetime
         sheet_row("households", id=2, village_code=VILLAGE, head_name="Darto", visited_on="02/05/2024", consent=1)],
        [sheet_row("members", household_id="RT-1", name="Sumarni", sex="P", relationship="kepala",
                   migration_status="pmi_purna"),
         sheet_row("members", household_id="RT-1", name="Wati", sex="P", relationship="anak",
                   migration_status="pmi_aktif"),
         sheet_row("members", household_id=2, name="Darto", sex="L", relationship="kepala",
                   migration_status="calon_pmi")])
    wb.save(tmp_path / "baru.xlsx")
    result = import_file(store, tmp_path / "baru.xlsx", report=tmp_path / "r.csv")
    assert (result["imported"], result["invalid"], result["report"]) == (5, 0, None)
    assert not (tmp_path / "r.csv").exists()
    homes = dict(store.execute("SELECT head_name, id FROM households").fetchall())
    assert all(len(hid) == 36 and hid not in ("RT-1", "2") for hid in homes.values())  # labels became UUIDs
    assert store.execute("SELECT visited_on FROM households WHERE head_name = 'Sumarni'").fetchone()[0] == "2024-05-01"
    assert sorted(store.execute("SELECT name, household_id FROM members").fetchall()) == [
        ("Darto", homes["Darto"]), ("Sumarni", homes["Sumarni"]), ("Wati", homes["Sumarni"])]
    assert store.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == 5


def test_export_edit_in_excel_and_import_back_updates_only_what_changed(store: Any, tmp_path: Path) -> None:
    generate_demo(store, 6, villages=[VILLAGE], seed=3)
    export(store, "xlsx", tmp_path / "data.xlsx", mask=False)
    wb = load_workbook(tmp_path / "data.xlsx")
    ws = wb["households"]
    head = [c.value for c in ws[1]]
    ws.cell(row=2, column=head.index("Catatan [notes]") + 1, value="dikunjungi ulang")
    hid = ws.cell(row=2, column=1).value
    ws.append(sheet_row("households", id="baru", village_code=VILLAGE, head_name="Baru", visited_on="2024-06-01",
                        consent=1))
    wb.save(tmp_path / "data.xlsx")
    before = store.execute("SELECT max(op_seq) FROM sync_outbox").fetchone()[0]
    result = import_file(store, tmp_path / "data.xlsx")
    assert result["invalid"] == 0 and count(store, "households") == 7
    ops = store.execute("SELECT record_id, fields FROM sync_outbox WHERE op_seq > ? AND entity = 'households'",
                        [before]).fetchall()
    assert (hid, '{"notes": "dikunjungi ulang"}') in ops and len(ops) == 2  # the edit + the new household


def test_cli_all_or_nothing_with_a_full_error_report_next_to_the_input(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = new_workbook(
        [sheet_row("households", id="A", village_code=VILLAGE, head_name="Baik", visited_on="2024-05-01", consent=1),
         sheet_row("households", id="B", village_code="3201052003", head_name="Kode BPS", visited_on="2024-05-01",
                   consent=1)],
        [sheet_row("members", household_id="A", nik=3201010101900001, name="Angka", sex="P",
                   relationship="kepala", migration_status="bukan"),
         sheet_row("members", household_id="A", name="Tanpa status", sex="L", relationship="anak"),
         sheet_row("members", household_id="Z", name="Yatim", sex="L", relationship="anak", migration_status="bukan")])
    wb.save(tmp_path / "daftar.xlsx")
    code, out, err = cli(capsys, data_dir, "import", str(tmp_path / "daftar.xlsx"))
    report = tmp_path / "daftar-kesalahan.csv"
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "Impor dibatalkan, tidak ada data yang disimpan." in err and str(report) in err
    lines = read_report(report)
    assert lines[0] == REPORT_HEAD
    by_place = {(line[0], line[1], line[4]): line for line in lines[1:]}
    assert by_place[("households", "3", "village_code")][2:4] == ["B", "Desa/kelurahan [village_code]"]
    assert "bukan kode BPS" in by_place[("households", "3", "village_code")][5]
    nik = by_place[("members", "2", "nik")]
    assert nik[2:4] == ["C", "NIK [nik]"] and "Format kolom sebagai Teks" in nik[5]
    assert by_place[("members", "3", "migration_status")][3] == "Status migrasi [migration_status]"
    assert by_place[("members", "4", "household_id")][5] == "Merujuk data yang tidak ada."
    # every member of A was refused, so A as it would be stored has none: a warning (issue 20 §6)
    assert "belum punya anggota" in by_place[("households", "2", "head_name")][5]
    assert len(lines) == 1 + 5
    db = connect(data_dir / "desmig.db")
    assert count(db, "households") == 0 and db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == 0
    db.conn.close()


def test_cli_valid_only_imports_the_rest_and_reports_as_xlsx(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = new_workbook(
        [sheet_row("households", id="A", village_code=VILLAGE, head_name="Baik", visited_on="2024-05-01", consent=1),
         sheet_row("households", id="B", village_code=VILLAGE, head_name="Masa depan", visited_on="2999-01-01",
                   consent=1)],
        [sheet_row("members", household_id="A", name="Ani", sex="P", relationship="kepala", migration_status="bukan"),
         sheet_row("members", household_id="B", name="Ikut B", sex="L", relationship="anak", migration_status="bukan")])
    wb.save(tmp_path / "daftar.xlsx")
    out_report = tmp_path / "laporan" / "salah.xlsx"
    out_report.parent.mkdir()
    code, out, err = cli(capsys, data_dir, "import", str(tmp_path / "daftar.xlsx"), "--valid-only",
                         "--report", str(out_report))
    assert code == 0 and err == ""
    assert "2 data diimpor (2 baris tidak valid dilewati)." in out and str(out_report) in out
    rows = [list(r) for r in load_workbook(out_report)["Kesalahan"].iter_rows(values_only=True)]
    assert rows[0] == REPORT_HEAD
    assert [(r[0], r[1], r[2], r[4]) for r in rows[1:]] == [
        ("households", 3, "L", "visited_on"), ("members", 3, "B", "household_id")]
    assert rows[1][5] == "Tanggal tidak boleh di masa depan."
    db = connect(data_dir / "desmig.db")
    assert [r[0] for r in db.execute("SELECT head_name FROM households")] == ["Baik"]
    assert [r[0] for r in db.execute("SELECT name FROM members")] == ["Ani"]
    db.conn.close()


def test_csv_folder_errors_name_the_file_and_duplicate_ids(store: Any, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    with open(folder / "households.csv", "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers("households"))
        writer.writerow(sheet_row("households", id="A", village_code=VILLAGE, head_name="Satu",
                                  visited_on="2024-05-01", consent="1"))
        writer.writerow(sheet_row("households", id="A", village_code=VILLAGE, head_name="Dua",
                                  visited_on="2024-05-01", consent="1"))
    with pytest.raises(ImportFailed) as info:
        import_file(store, folder, report=tmp_path / "csv-kesalahan.csv")
    err = info.value.errors[0]
    assert (err.where, err.source, err.row, err.column, err.letter) == (
        "households.csv baris 3", "households.csv", 3, "id", "A")
    assert "muncul lebih dari sekali" in err.message and info.value.report == tmp_path / "csv-kesalahan.csv"
    assert read_report(tmp_path / "csv-kesalahan.csv")[1][:3] == ["households.csv", "3", "A"]
    assert count(store, "households") == 0


def test_unreadable_headers_are_reported_too(store: Any, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["Nama", "Alamat"])
    wb.active.append(["x", "y"])
    wb.save(tmp_path / "asing.xlsx")
    with pytest.raises(ImportFailed) as info:
        import_file(store, tmp_path / "asing.xlsx", report=tmp_path / "asing-kesalahan.csv")
    # the headings found are named, so the officer can compare them with an export's (issue 20 §10)
    assert 'Judul kolom tidak dikenali: "Nama", "Alamat".' in str(info.value)
    assert "asing-kesalahan.csv" in str(info.value)
    assert read_report(tmp_path / "asing-kesalahan.csv")[1][:2] == ["Sheet", "1"]
