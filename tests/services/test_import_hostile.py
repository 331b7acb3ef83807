"""Issue 14 §3: an import never crashes, and says what is wrong in the officer's terms.

A table of hostile files goes through ``desmig import`` (the CLI's ``main``): each ends in a clean
import or exit code 1 with a one-line reason on stderr (DESIGN §6), never "unexpected error".
Then one test per finding, through the service.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlite_utils import Database

from desmig_desktop.cli import main
from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.validation import validate
from desmig_desktop.services.exchange import ImportFailed, export, headers, import_file
from desmig_desktop.store.db import connect

VILLAGE = "32.01.05.2003"
NIK = "3201051205900001"
NIK_2 = "3201055206920002"


def line(entity: str, **values: Any) -> list[Any]:
    """A row in the export's column order (``ID [id]`` first)."""
    return [values.get(h.rsplit("[", 1)[1].rstrip("]")) for h in headers(entity)]


def household(label: str, name: str = "Sumarni", **values: Any) -> list[Any]:
    values = {"village_code": VILLAGE, "visited_on": "2024-05-01", "consent": 1, **values}
    return line("households", id=label, head_name=name, **values)


def member(household_label: str, name: str = "Sumarni", **values: Any) -> list[Any]:
    values = {"sex": "P", "relationship": "kepala", "migration_status": "bukan", **values}
    return line("members", household_id=household_label, name=name, **values)


def csv_text(rows: list[list[Any]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(["" if v is None else v for v in r] for r in rows)
    return out.getvalue()


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD_CSV = csv_text([headers("households"), household("A")])
GOOD_XLSX = workbook({"households": [headers("households"), household("A")]})
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def _zip_not_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("foto.txt", "bukan lembar kerja")
    return out.getvalue()


def _huge_field() -> bytes:
    return csv_text([headers("households"), household("A", name="x" * 200_000), household("B")]).encode()


def _mixed_encodings() -> bytes:
    return (csv_text([headers("households"), household("A", name="José")]).encode("utf-8")
            + csv_text([household("B", name="Müller")]).encode("cp1252"))


def _formula_with_cached_result() -> bytes:
    """A workbook as Excel saves it: the formula and its result (openpyxl cannot compute one, so it is patched in)."""
    xlsx = workbook({"households": [headers("households"), household("A", name="=CONCAT(\"Sum\",\"arni\")")]})
    source, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = content.replace(b'<c r="H2"><f>', b'<c r="H2" t="str"><f>').replace(
                    b"</f><v />", b"</f><v>Sumarni</v>")
                assert b"<v>Sumarni</v>" in content
            zf.writestr(item, content)
    return out.getvalue()


def _duplicate_ids() -> bytes:
    return csv_text([headers("households"), household("A"), household("A", name="Dua")]).encode()


# (name, file name, bytes, exit code, fragment of the one line on stderr or stdout)
HOSTILE: list[tuple[str, str, Callable[[], bytes], int, str]] = [
    ("0-byte csv", "kosong.csv", lambda: b"", 1, "Berkas kosong"),
    ("0-byte xlsx", "kosong.xlsx", lambda: b"", 1, "Berkas kosong"),
    ("0-byte jsonl", "kosong.jsonl", lambda: b"", 1, "Berkas kosong"),
    ("headers only", "judul.csv", lambda: csv_text([headers("households")]).encode(), 1, "Berkas kosong"),
    ("empty workbook", "kosong2.xlsx", lambda: workbook({"Sheet": []}), 1, "Berkas kosong"),
    ("png renamed xlsx", "foto.xlsx", lambda: PNG, 1, "data biner"),
    ("png renamed csv", "foto.csv", lambda: PNG, 1, "data biner"),
    ("zip that is not xlsx", "arsip.xlsx", _zip_not_xlsx, 1, "tidak bisa dibaca"),
    ("truncated xlsx", "potong.xlsx", lambda: GOOD_XLSX[: len(GOOD_XLSX) // 2], 1, "tidak bisa dibaca"),
    ("truncated xlsx tail", "ekor.xlsx", lambda: GOOD_XLSX[:-40], 1, "tidak bisa dibaca"),
    ("old excel", "lama.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, 1, "97-2003"),
    ("xlsx named csv", "salah.csv", lambda: GOOD_XLSX, 0, "1 data diimpor"),
    ("csv named xlsx", "salah.xlsx", lambda: GOOD_CSV.encode(), 0, "1 data diimpor"),
    ("csv named txt", "data.txt", lambda: GOOD_CSV.encode(), 0, "1 data diimpor"),
    ("formula in xlsx", "rumus.xlsx", lambda: workbook({"households": [headers("households"), household(
        "A", name='=HYPERLINK("http://evil.example","klik")')]}), 1, "rumus tanpa hasil tersimpan"),
    ("formula with a result", "hasil.xlsx", _formula_with_cached_result, 0, "1 data diimpor"),
    ("error value in xlsx", "galat.xlsx", lambda: workbook({"households": [headers("households"), household(
        "A", name="#N/A")]}), 1, "nilai galat"),
    ("huge field", "besar.csv", _huge_field, 1, "terlalu panjang"),
    ("mixed encodings", "campur.csv", _mixed_encodings, 1, "campur.csv mencampur dua pengodean"),
    ("cp1252", "ansi.csv", lambda: csv_text([headers("households"), household("A", name="José")]).encode("cp1252"),
     0, "1 data diimpor"),
    ("utf-16", "unicode.csv", lambda: csv_text([headers("households"), household("A")]).encode("utf-16"),
     0, "1 data diimpor"),
    ("utf-8 bom semicolons", "titikkoma.csv",
     lambda: csv_text([headers("households"), household("A")], ";").encode("utf-8-sig"), 0, "1 data diimpor"),
    ("duplicate ids", "ganda.csv", _duplicate_ids, 1, "muncul lebih dari sekali"),
    ("nested json", "dalam.jsonl", lambda: b"[" * 100_000, 1, "Bukan JSON"),
    ("json entity a list", "daftar.jsonl", lambda: b'{"entity": [], "id": "x", "data": {}}\n', 1, "entity"),
    ("not a table", "asing.csv", lambda: b"Nama;Alamat\nx;y\n", 1, "Judul kolom tidak dikenali"),
]


@pytest.mark.parametrize("name, filename, content, code, fragment", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_end_in_one_line_or_a_clean_import(data_dir: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str], name: str,
                                                         filename: str, content: Callable[[], bytes], code: int,
                                                         fragment: str) -> None:
    path = tmp_path / filename
    path.write_bytes(content())
    got = main(["--data-dir", str(data_dir), "import", str(path)])
    out, err = capsys.readouterr()
    assert "tak terduga" not in err and "Traceback" not in err
    assert got == code, err
    if code == 1:
        assert err.count("\n") == 1 and err.startswith("desmig: ") and fragment in err and out == ""
    else:
        assert err == "" and fragment in out
    db = connect(data_dir / "desmig.db")
    households = db.execute("SELECT count(*) FROM households").fetchone()[0]
    db.conn.close()
    assert households == (1 if code == 0 else 0)


# -- one test per finding -----------------------------------------------------------------------
def xlsx_file(tmp_path: Path, name: str, sheets: dict[str, list[list[Any]]]) -> Path:
    path = tmp_path / name
    path.write_bytes(workbook(sheets))
    return path


def names(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT head_name FROM households ORDER BY head_name")]


@pytest.mark.parametrize("cell", [dt.datetime(2024, 2, 1, 8, 30), dt.datetime(2024, 2, 1, 23, 59, 59),
                                  dt.datetime(2024, 2, 1)])
def test_a_date_cell_with_a_time_gives_its_date(db: Database, tmp_path: Path, cell: dt.datetime) -> None:
    path = xlsx_file(tmp_path, "tgl.xlsx", {"households": [headers("households"), household("A", visited_on=cell)],
                                            "members": [headers("members"), member("A", birth_date=cell)]})
    assert import_file(db, path)["invalid"] == 0
    assert db.execute("SELECT visited_on FROM households").fetchone()[0] == "2024-02-01"
    assert db.execute("SELECT birth_date FROM members").fetchone()[0] == "2024-02-01"


def test_a_datetime_is_a_date_for_validation_too() -> None:
    raw = {"village_code": VILLAGE, "head_name": "X", "visited_on": dt.datetime(2024, 2, 1, 8, 30), "consent": True}
    assert validate("households", raw).values["visited_on"] == "2024-02-01"


def test_a_field_longer_than_the_csv_limit_is_one_row_error(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "besar.csv"
    path.write_bytes(_huge_field())
    with pytest.raises(ImportFailed) as info:
        import_file(db, path)
    [err] = info.value.errors
    assert (err.row, err.column, err.letter) == (2, "head_name", "H") and "200000 karakter" in err.message
    result = import_file(db, path, valid_only=True)
    assert (result["imported"], result["invalid"]) == (1, 1) and names(db) == ["Sumarni"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_separator_is_detected(db: Database, tmp_path: Path, delimiter: str) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "households.csv").write_text(csv_text([headers("households"), household("A", name="Budi, S.Pd"),
                                                     household("B", name="Wati; Bu")], delimiter), encoding="utf-8")
    (folder / "members.csv").write_text(csv_text([headers("members"), member("A", name="Budi, S.Pd", sex="L"),
                                                  member("B", name="Wati; Bu")], delimiter), encoding="utf-8")
    result = import_file(db, folder)
    assert (result["imported"], result["invalid"]) == (4, 0)
    assert names(db) == ["Budi, S.Pd", "Wati; Bu"]


def test_extra_sheets_and_empty_unknown_columns_are_ignored_with_a_warning(db: Database, tmp_path: Path) -> None:
    path = xlsx_file(tmp_path, "catatan.xlsx", {
        "households": [[*headers("households"), "Keterangan", None], household("A"), household("B", name="Darto")],
        "Catatan": [["Kunjungan ulang minggu depan"], ["Pak RT minta salinan"]],
        "Ringkasan": [[None], [None, "jumlah: 2"]],
    })
    result = import_file(db, path, report=tmp_path / "laporan.csv")
    # 3 about the file, and one per household imported without any member (issue 20 §6)
    assert (result["imported"], result["invalid"], result["errors"], result["warnings"]) == (2, 0, 0, 5)
    with open(tmp_path / "laporan.csv", newline="", encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))[1:]
    about_file = [r for r in lines if "belum punya anggota" not in r[5]]
    assert sorted((r[0], r[2], r[3]) for r in about_file) == [
        ("Catatan", "", ""), ("Ringkasan", "", ""), ("households", "S", "Keterangan")]
    assert sorted((r[0], r[1]) for r in lines if r not in about_file) == [("households", "2"), ("households", "3")]
    assert all(r[5].startswith("Peringatan: ") for r in lines) and "diabaikan" in about_file[0][5]


def test_an_unknown_column_with_data_is_one_error_not_one_per_row(db: Database, tmp_path: Path) -> None:
    path = xlsx_file(tmp_path, "salahketik.xlsx", {
        "households": [[*headers("households"), "Nama ibu [nama_ibu]"], [*household("A"), "Siti"],
                       [*household("B"), "Tini"], [*household("C"), None]]})
    with pytest.raises(ImportFailed) as info:
        import_file(db, path)
    [err] = info.value.errors
    assert (err.row, err.letter, err.header) == (1, "S", "Nama ibu [nama_ibu]") and "tidak dikenal" in err.message


def test_an_empty_file_says_so(db: Database, tmp_path: Path) -> None:
    for name, content in (("a.csv", b""), ("b.jsonl", b"\n\n"), ("c.csv", b"\xef\xbb\xbf")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(Exception) as info:
            import_file(db, tmp_path / name)
        assert "Berkas kosong" in str(info.value) and name in str(info.value)


def test_a_cp1252_csv_is_decoded(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "ansi.csv"
    path.write_bytes(csv_text([headers("households"), household("A", name="José Müller–Ñ")], ";").encode("cp1252"))
    assert import_file(db, path)["imported"] == 1
    assert names(db) == ["José Müller–Ñ"]


def test_an_encoding_error_names_the_file_not_the_folder(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "households.csv").write_text(csv_text([headers("households"), household("A")]), encoding="utf-8")
    (folder / "members.csv").write_bytes(csv_text([headers("members"), member("A", name="José")]).encode("utf-8")
                                         + csv_text([member("A", name="Müller")]).encode("cp1252"))
    with pytest.raises(Exception) as info:
        import_file(db, folder)
    assert str(folder / "members.csv") in str(info.value)


@pytest.mark.parametrize("rt, rw, stored", [(12, 6, ("012", "006")), ("7", "1", ("007", "001")),
                                            (12.0, "006", ("012", "006")), ("123", 0, ("123", "000"))])
def test_rt_rw_typed_as_numbers_are_zero_padded(db: Database, tmp_path: Path, rt: Any, rw: Any,
                                                stored: tuple[str, str]) -> None:
    path = xlsx_file(tmp_path, "rt.xlsx", {"households": [headers("households"), household("A", rt=rt, rw=rw)]})
    assert import_file(db, path)["invalid"] == 0
    assert db.execute("SELECT rt, rw FROM households").fetchone() == stored


def test_the_form_pads_rt_rw_the_same_way() -> None:
    spec = ENTITIES["households"]
    raw = {"village_code": VILLAGE, "head_name": "X", "visited_on": "2024-05-01", "consent": True, "rt": "7", "rw": 12}
    values = validate("households", raw).values
    assert (values["rt"], values["rw"]) == ("007", "012")
    assert spec.field("rt").zero_pad == 3 and not validate("households", {**raw, "rt": "1234"}).ok


def test_valid_only_counts_skipped_rows_not_errors(data_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = xlsx_file(tmp_path, "campur.xlsx", {"households": [
        headers("households"), household("A"),
        line("households", id="B", village_code="3201052003", head_name=None, visited_on="2999-01-01", consent=1)]})
    assert main(["--data-dir", str(data_dir), "import", str(path), "--valid-only"]) == 0
    out, _err = capsys.readouterr()
    assert "1 data diimpor (1 baris tidak valid dilewati)." in out
    assert "3 kesalahan" in out


def test_duplicate_niks_in_the_file_and_in_the_store_are_reported(db: Database, tmp_path: Path) -> None:
    lines = [{"entity": "households", "id": "old", "data": {"village_code": VILLAGE, "head_name": "Lama",
                                                          "visited_on": "2024-05-01", "consent": True}},
             {"entity": "members", "id": "m-old", "data": {"household_id": "old", "name": "Lama", "sex": "L",
                                                           "relationship": "kepala", "migration_status": "bukan",
                                                           "nik": NIK}}]
    (tmp_path / "old.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    import_file(db, tmp_path / "old.jsonl")
    path = xlsx_file(tmp_path, "baru.xlsx", {
        "households": [headers("households"), household("A"), household("B", name="Darto")],
        "members": [headers("members"), member("A", sex="L", nik=NIK),
                    member("A", name="Wati", nik=NIK_2, relationship="anak"), member("B", name="Dewi", nik=NIK_2)]})
    result = import_file(db, path, report=tmp_path / "laporan.csv")
    assert (result["imported"], result["invalid"], result["warnings"]) == (5, 0, 2)
    with open(tmp_path / "laporan.csv", newline="", encoding="utf-8-sig") as fh:
        lines_ = {(r[0], r[1], r[4]): r[5] for r in list(csv.reader(fh))[1:]}
    assert "sudah dipakai anggota di rumah tangga lain" in lines_[("members", "2", "nik")]
    assert "members baris 3" in lines_[("members", "4", "nik")] and "berkas ini" in lines_[("members", "4", "nik")]


def test_the_same_nik_twice_in_one_household_of_the_file_is_refused(db: Database, tmp_path: Path) -> None:
    path = xlsx_file(tmp_path, "ganda.xlsx", {
        "households": [headers("households"), household("A")],
        "members": [headers("members"), member("A", nik=NIK_2),
                    member("A", name="Wati", nik=NIK_2, relationship="anak")]})
    with pytest.raises(ImportFailed) as info:
        import_file(db, path)
    [err] = info.value.errors
    assert (err.row, err.column) == (3, "nik") and "dua kali dalam rumah tangga ini" in err.message
    result = import_file(db, path, valid_only=True)
    assert (result["imported"], result["invalid"]) == (2, 1)
    assert db.execute("SELECT count(*) FROM members").fetchone()[0] == 1


def test_warnings_reach_the_cli(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = xlsx_file(tmp_path, "dua.xlsx", {
        "households": [headers("households"), household("A"), household("B", name="Darto")],
        "members": [headers("members"), member("A", sex="L", nik=NIK), member("B", name="Darto", sex="L", nik=NIK)]})
    assert main(["--data-dir", str(data_dir), "import", str(path)]) == 0
    out, _err = capsys.readouterr()
    assert "0 kesalahan dan 1 peringatan" in out and str(tmp_path / "dua-kesalahan.csv") in out


def test_an_own_export_with_rt_and_dates_round_trips(db: Database, tmp_path: Path, template_db: Path) -> None:
    path = xlsx_file(tmp_path, "in.xlsx", {"households": [headers("households"),
                                                          household("A", rt=5, rw=2, name="-Budi")]})
    import_file(db, path)
    export(db, "xlsx", tmp_path / "out.xlsx", mask=False)
    sheet = load_workbook(tmp_path / "out.xlsx")["households"]
    assert [c.value for c in sheet[2]][3:5] == ["005", "002"]
