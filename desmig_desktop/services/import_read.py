"""Reading an import file (JSON lines, CSV file or folder, XLSX) into rows, whatever it holds.

Whatever an officer feeds in — a 0-byte file, a PNG renamed ``.xlsx``, a truncated workbook, a
CSV saved by Excel on Indonesian Windows (semicolons, cp1252) — ends in rows to check or in one
``KnownError`` that names the file and says what is wrong; never in an "unexpected error".

What a file is comes from its first bytes (a zip is a workbook, ``{`` starts JSON lines), the
extension only breaks ties, so a workbook saved as ``.csv`` still imports. Problems that are not
one row's (an extra sheet of notes, an unknown column) are ``RowError`` s of row 1 of that sheet:
warnings when nothing is lost, errors otherwise. Spreadsheet cells go through
``domain.sheetcell``: the escape quote the exports put in front of ``=``, ``+``, ``-``… is
dropped, and an error value (``#REF!``) is refused instead of being read as data.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from desmig_desktop.domain import sheetcell
from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError

_HEADER_KEY = re.compile(r"\[([a-z_]+)\]\s*$")
_KNOWN_KEYS = frozenset({"id"}.union(*(spec.keys for spec in ENTITIES.values())))
_DELIMITERS = (",", ";", "\t")
MAX_CELL = 32_767  # the most characters an Excel cell holds; no field allows nearly as many
_NUMBERED_KINDS = (Kind.REF, Kind.DIGITS)  # kinds whose whole-number cell means its digits


@dataclass(frozen=True)
class RowError:
    """One problem of one row, located the way an officer finds it again in the file."""

    where: str  # "households baris 12" / "households.csv baris 3" / "baris 7" (JSON lines)
    column: str  # the field key, "-" when the row as a whole is wrong
    message: str
    source: str = ""  # sheet or CSV file name ("" for JSON lines)
    row: int | None = None  # 1-based row (line) number in that sheet or file
    header: str = ""  # the column's heading as written in the file
    letter: str = ""  # spreadsheet column letter (A, B, ...), when the column is in the file
    warning: bool = False  # reported, but the row is imported

    def __str__(self) -> str:
        return _("{where}, kolom {column}: {message}", where=self.where, column=self.column, message=self.message)


class ImportFailed(KnownError):
    def __init__(self, errors: list[RowError], report: Path | None = None,
                 warnings: list[RowError] | None = None) -> None:
        shown = "; ".join(str(e) for e in errors[:5])
        more = _(" (dan {count} kesalahan lain)", count=len(errors) - 5) if len(errors) > 5 else ""
        where = _(" Daftar lengkap kesalahan: {path}", path=report) if report is not None else ""
        super().__init__(_("Impor dibatalkan, tidak ada data yang disimpan. {errors}{more}", errors=shown, more=more)
                         + where)
        self.errors = errors
        self.report = report  # where the full list was written, if it was
        self.warnings = list(warnings or [])  # noticed before the import stopped (also in the report)


@dataclass(frozen=True)
class ImportRow:
    where: str
    entity: str
    id: str | None
    data: dict[str, Any]
    source: str = ""
    row: int | None = None
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (letter, heading)
    typed_as_number: frozenset[str] = frozenset()  # keys whose cell was a number in the sheet
    cell_errors: tuple[RowError, ...] = ()  # cells refused before validation (error values, overlong)
    version: Any = None  # the exported record's server_version, if the file has it
    updated_at: Any = None  # ... and its updated_at (which local changes came after the export)

    def error(self, key: str, message: str, *, warning: bool = False) -> RowError:
        letter, header = self.columns.get(key, ("", ""))
        if not header and key in ENTITIES[self.entity].keys:
            header = ENTITIES[self.entity].field(key).label_id
        return RowError(self.where, key, message, self.source, self.row, header, letter, warning)


@dataclass
class Parsed:
    """The rows of a file, and what was noticed about the file as a whole."""

    rows: list[ImportRow]
    problems: list[RowError]  # file-level: warnings (ignored sheets, empty columns) and errors


@dataclass(frozen=True)
class _Table:
    label: str  # sheet or CSV file name
    header: list[Any]
    body: list[tuple[int, list[Any]]]  # (row number, cells)


@dataclass(frozen=True)
class Formula:
    """A formula cell that carries no result (written by a program, never recalculated by a spreadsheet)."""

    text: str


# Columns an export writes after the questionnaire's: which copy of the record a row is (see
# ``exchange``). Optional on import: a file without them is read as before.
COPY_COLUMNS = (("Versi server", "server_version"), ("Diubah pada", "updated_at"))
COPY_HEADERS = [f"{t} [{k}]" for t, k in COPY_COLUMNS]
_COPY_KEYS = tuple(k for _t, k in COPY_COLUMNS)


def headers(entity_name: str) -> list[str]:
    spec = ENTITIES[entity_name]
    return ["ID [id]"] + [f"{f.label_id} [{f.key}]" for f in spec.fields]


def where(source: str, row: int) -> str:
    return _("{source} baris {row}", source=source, row=row) if source else _("baris {number}", number=row)


def _entity_for_headers(keys: list[str]) -> str | None:
    markers = {"head_name": "households", "relationship": "members", "country": "placements",
               "kbli_category": "businesses"}
    return next((markers[k] for k in keys if k in markers), None)


def _key_of(header: Any) -> str:
    text = str(header or "").strip()
    match = _HEADER_KEY.search(text)
    return match.group(1) if match else text


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


def _cell_value(entity_name: str, key: str, cell: Any) -> Any:
    """What a spreadsheet cell means for the questionnaire.

    Excel turns a typed date into a datetime and an id, code or RT into a number; both are undone
    here (a datetime in a date field, or at midnight, becomes its date; a whole number in an id or
    digits column becomes its digits). The escape quote of an exported text cell is dropped.
    """
    spec = ENTITIES[entity_name]
    kind = spec.field(key).kind if spec.has(key) else None
    if isinstance(cell, str):
        return sheetcell.restore(cell)
    if isinstance(cell, Formula):
        return None
    if isinstance(cell, dt.datetime) and (kind is Kind.DATE or cell.time() == dt.time()):
        return cell.date()
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and (
            key == "id" or kind in _NUMBERED_KINDS) and float(cell).is_integer():
        return str(int(cell))
    return cell


def _cell_problem(cell: Any) -> str | None:
    if isinstance(cell, Formula):
        return _("Sel berisi rumus tanpa hasil tersimpan ({formula}); ketik nilainya, atau salin lalu "
                 "Tempel Khusus → Nilai.", formula=cell.text[:60])
    if not isinstance(cell, str):
        return None
    if sheetcell.is_error_value(cell):
        return _("Sel berisi nilai galat spreadsheet ({value}), bukan data; perbaiki rumusnya atau ketik nilainya.",
                 value=cell.strip())
    if len(cell) > MAX_CELL:
        return _("Isi sel terlalu panjang ({count} karakter).", count=len(cell))
    return None


def _table_rows(table: _Table) -> tuple[str, list[ImportRow], list[RowError]] | None:
    """The rows of one sheet or CSV file; ``None`` when its headings are not an export's."""
    label = table.label
    header = [sheetcell.restore(h) for h in table.header]
    keys = [_key_of(h) for h in header]
    entity_name = _entity_for_headers(keys)
    if entity_name is None:
        return None
    spec = ENTITIES[entity_name]
    columns = {k: (_column_letter(i), str(h or "").strip()) for i, (k, h) in enumerate(zip(keys, header)) if k}
    problems: list[RowError] = []
    for index, key in enumerate(keys):
        if not key or key == "id" or spec.has(key) or key in _COPY_KEYS:
            continue
        letter, heading = _column_letter(index), str(header[index]).strip()
        empty = all(_empty(cells[index]) for _n, cells in table.body if index < len(cells))
        message = (_("Kolom {heading} tidak dikenal dan kosong; diabaikan.", heading=heading) if empty else
                   _("Kolom {heading} tidak dikenal: perbaiki judulnya (format ekspor: Label [kunci]) atau "
                     "hapus kolom ini.", heading=heading))
        problems.append(RowError(where(label, 1), key, message, label, 1, heading, letter, warning=empty))
        keys[index] = ""  # ignored from here on: its cells are no field's
    rows: list[ImportRow] = []
    for number, cells in table.body:
        if all(_empty(c) for c in cells):
            continue
        at = where(label, number)
        bad = tuple(RowError(at, k, message, label, number, columns[k][1], columns[k][0])
                    for k, c in zip(keys, cells) if k and (message := _cell_problem(c)) is not None)
        data = {k: _cell_value(entity_name, k, c) for k, c in zip(keys, cells) if k}
        numbers = frozenset(k for k, c in zip(keys, cells)
                            if k and isinstance(c, (int, float)) and not isinstance(c, bool))
        record_id = data.pop("id", None)
        copy = [data.pop(k, None) for k in _COPY_KEYS]
        rows.append(ImportRow(at, entity_name, str(record_id).strip() if record_id else None, data,
                              label, number, columns, numbers, bad, *(None if _empty(c) else c for c in copy)))
    return entity_name, rows, problems


def _headings(table: _Table, shown: int = 5, longest: int = 40) -> str:
    """The first headings of a table nobody recognised, quoted and shortened, for the officer to compare."""
    texts = [str(sheetcell.restore(h)).strip() for h in table.header if not _empty(h)]
    quoted = ", ".join(f'"{t[:longest]}{"…" if len(t) > longest else ""}"' for t in texts[:shown])
    return quoted + (" …" if len(texts) > shown else "") if quoted else _("(kosong)")


def _tables_to_rows(tables: list[_Table]) -> Parsed:
    """Rows of every recognised table; unrecognised ones are ignored with a warning, unless none is recognised."""
    rows: list[ImportRow] = []
    problems: list[RowError] = []
    unknown: list[_Table] = []
    for table in tables:
        found = _table_rows(table)
        if found is None:
            unknown.append(table)
            continue
        rows.extend(found[1])
        problems.extend(found[2])
    if unknown and len(unknown) == len(tables):
        raise ImportFailed([RowError(where(t.label, 1), "-", _(
            "Judul kolom tidak dikenali: {headings}. Pakai judul kolom dari berkas ekspor Desmig.",
            headings=_headings(t)), t.label, 1) for t in unknown])
    problems.extend(RowError(where(t.label, 1), "-", _(
        "Lembar/berkas ini bukan tabel ekspor (judul kolom tidak dikenali); diabaikan."), t.label, 1, warning=True)
        for t in unknown)
    return Parsed(rows, problems)


# -- what a file is ----------------------------------------------------------------------------
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and other old Office files)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_rows(path: Path) -> Parsed:
    """Parse an import file (or CSV folder) into rows; ``KnownError`` naming the file if it cannot be read."""
    if not path.exists():
        raise KnownError(_("Berkas tidak ditemukan: {path}", path=path))
    try:
        if path.is_dir():
            files = sorted(path.glob("*.csv"),
                           key=lambda p: (ENTITY_ORDER.index(p.stem) if p.stem in ENTITY_ORDER else 9, p.name))
            if not files:
                raise KnownError(_("Folder tidak berisi berkas CSV: {path}", path=path))
            parsed = _tables_to_rows([t for f in files for t in _csv_tables(f, f.read_bytes())])
        else:
            parsed = _read_file(path, path.read_bytes())
    except OSError as exc:
        raise KnownError(_("Berkas tidak bisa dibaca: {path} ({reason})", path=path,
                           reason=exc.strerror or exc)) from exc
    if not parsed.rows and not any(not p.warning for p in parsed.problems):
        raise KnownError(_("Berkas kosong, tidak ada data untuk diimpor: {path}", path=path))
    return parsed


def _read_file(path: Path, data: bytes) -> Parsed:
    if not data.strip():
        return Parsed([], [])
    if data.startswith(_ZIP):
        return _tables_to_rows(_xlsx_tables(path, data))
    if data.startswith(_OLE2):
        raise KnownError(_("Berkas Excel 97-2003 (.xls) tidak didukung: {path}. Simpan sebagai .xlsx atau CSV.",
                           path=path))
    text = _decode(path, data)
    if path.suffix.lower() != ".csv" and text.lstrip().startswith("{"):
        return Parsed(list(_jsonl_rows(text)), [])
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return Parsed(list(_jsonl_rows(text)), [])
    return _tables_to_rows(_csv_tables(path, data, text))


def _decode(path: Path, data: bytes) -> str:
    """Text of a CSV or JSON lines file: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252/latin-1.

    A file that mixes UTF-8 lines with lines in another encoding is refused (naming a line of
    each) rather than half garbled; binary data (NUL bytes) is refused too.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise KnownError(_("Berkas bukan teks yang bisa dibaca: {path}", path=path)) from None
    if b"\x00" in data:
        raise KnownError(_("Berkas bukan teks CSV, JSON lines atau XLSX (berisi data biner): {path}",
                           path=path))
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    utf8_line = other_line = 0
    for number, line in enumerate(body.splitlines(), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or number
        except UnicodeDecodeError:
            other_line = other_line or number
    if utf8_line or body is not data:
        raise KnownError(_("Berkas {path} mencampur dua pengodean teks (baris {utf8} UTF-8, baris {other} bukan); "
                           "simpan ulang sebagai CSV UTF-8.", path=path, utf8=utf8_line or 1, other=other_line))
    try:
        return body.decode("cp1252")  # Excel's "CSV" on Indonesian/Western Windows
    except UnicodeDecodeError:
        return body.decode("latin-1")


@contextlib.contextmanager
def _unlimited_fields() -> Iterator[None]:
    """csv refuses fields over 131,072 characters by raising mid-file; read them, refuse them per cell.

    The limit is process-wide; it is only ever raised here (to a C long even on Windows) and put back.
    """
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _delimiter(first_line: str) -> str:
    """Comma, semicolon (Excel's default where the decimal sign is a comma) or tab: the one whose
    headings are most recognisable, then the one that splits the heading line most."""
    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return sum(_key_of(c) in _KNOWN_KEYS for c in cells), len(cells)

    return max(_DELIMITERS, key=score)


def _csv_tables(path: Path, data: bytes, text: str | None = None) -> list[_Table]:
    text = _decode(path, data) if text is None else text
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return []
    first = text.splitlines()[0] if text else ""
    with _unlimited_fields():
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first)))
        except csv.Error as exc:
            raise KnownError(_("Berkas CSV tidak bisa dibaca: {path} ({reason})", path=path, reason=exc)) from None
    if not rows:
        return []
    return [_Table(path.name, list(rows[0]), [(i, list(r)) for i, r in enumerate(rows[1:], start=2)])]


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the workbook holds a formula (the app's own exports never do)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return any(_FORMULA_TAG.search(zf.read(name)) for name in zf.namelist()
                   if name.startswith("xl/worksheets/") and name.endswith(".xml"))


def _xlsx_tables(path: Path, data: bytes) -> list[_Table]:
    """Every worksheet's cell values (cached results, not formulas); one error for any unreadable workbook.

    A formula without a cached result would read as an empty cell ("Wajib diisi"); when the
    workbook has formulas at all, a second reading finds those and marks them as ``Formula``.
    """
    from openpyxl import load_workbook

    tables: list[_Table] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = None
        try:
            if _has_formulas(data):
                formulas = load_workbook(io.BytesIO(data), read_only=True)
            for ws in wb.worksheets:
                it: Iterator[list[Any]] = (list(r) for r in ws.iter_rows(values_only=True))
                if formulas is not None:
                    it = map(_unresolved, it, (list(r) for r in formulas[ws.title].iter_rows(values_only=True)))
                header = next(it, None)
                if header is None or all(_empty(c) for c in header):
                    if any(not _empty(c) for r in it for c in r):  # notes below an empty first row
                        tables.append(_Table(ws.title, [], []))
                    continue
                tables.append(_Table(ws.title, header, list(enumerate(it, start=2))))
        finally:
            wb.close()
            if formulas is not None:
                formulas.close()
    except Exception as exc:  # openpyxl, zipfile, zlib and the XML parser raise many unrelated types
        raise KnownError(_("Berkas XLSX tidak bisa dibaca (rusak atau bukan XLSX): {path}", path=path)) from exc
    return tables


def _unresolved(values: list[Any], formulas: list[Any]) -> list[Any]:
    """A row's values, with each formula that has no cached result as a ``Formula``."""
    return [Formula(f) if v is None and isinstance(f, str) and f.startswith("=") else v
            for v, f in zip(values, formulas)] + values[len(formulas):]


def _jsonl_rows(text: str) -> Iterator[ImportRow]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        at = where("", number)
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise ImportFailed([RowError(at, "-", _("Bukan JSON yang valid."), row=number)]) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("entity"), str) or obj["entity"] not in ENTITIES \
                or not isinstance(obj.get("data"), dict):
            raise ImportFailed([RowError(at, "entity", _("Baris harus berisi entity, id dan data."), row=number)])
        rid = obj.get("id")
        if rid is not None and not isinstance(rid, str):
            raise ImportFailed([RowError(at, "id", _("id harus teks."), row=number)])
        yield ImportRow(at, obj["entity"], rid, obj["data"], row=number, version=obj.get("version"),
                        updated_at=obj.get("updated_at"))
