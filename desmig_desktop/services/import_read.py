"""Reading an import file (JSON lines, CSV file or folder, XLSX) into rows, whatever it holds.

Whatever an officer feeds in — a 0-byte file, a PNG renamed ``.xlsx``, a truncated workbook, a
CSV saved by Excel on Indonesian Windows (semicolons, cp1252) — ends in rows to check or in one
``KnownError`` that names the file and says what is wrong; never in an "unexpected error".

What a file is comes from its first bytes (a zip is a workbook, ``{`` starts JSON lines), the
extension only breaks ties, so a workbook saved as ``.csv`` still imports. This module turns
bytes into tables (text decoding, CSV dialect, worksheets and their formulas) and JSON lines into
rows; what a table's headings and cells mean is ``import_rows``'s.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.errors import KnownError
from desmig_desktop.services.import_rows import (
    Formula,
    ImportFailed,
    ImportRow,
    Parsed,
    RowError,
    Table,
    empty_cell,
    key_of,
    tables_to_rows,
    where,
)

_KNOWN_KEYS = frozenset({"id"}.union(*(spec.keys for spec in ENTITIES.values())))
_DELIMITERS = (",", ";", "\t")
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and other old Office files)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_rows(path: Path, q: Questionnaire | None = None) -> Parsed:
    """Parse an import file (or CSV folder) into rows; ``KnownError`` naming the file if it cannot be read.
    ``q``: the questionnaire whose columns the file may have (the database's active one; default 1)."""
    if not path.exists():
        raise KnownError(_("Berkas tidak ditemukan: {path}", path=path))
    try:
        if path.is_dir():
            files = sorted(path.glob("*.csv"),
                           key=lambda p: (ENTITY_ORDER.index(p.stem) if p.stem in ENTITY_ORDER else 9, p.name))
            if not files:
                raise KnownError(_("Folder tidak berisi berkas CSV: {path}", path=path))
            parsed = tables_to_rows([t for f in files for t in _csv_tables(f, f.read_bytes())], q)
        else:
            parsed = _read_file(path, path.read_bytes(), q)
    except OSError as exc:
        raise KnownError(_("Berkas tidak bisa dibaca: {path} ({reason})", path=path,
                           reason=exc.strerror or exc)) from exc
    if not parsed.rows and not any(not p.warning for p in parsed.problems):
        raise KnownError(_("Berkas kosong, tidak ada data untuk diimpor: {path}", path=path))
    return parsed


def _read_file(path: Path, data: bytes, q: Questionnaire | None) -> Parsed:
    if not data.strip():
        return Parsed([], [])
    if data.startswith(_ZIP):
        return tables_to_rows(_xlsx_tables(path, data), q)
    if data.startswith(_OLE2):
        raise KnownError(_("Berkas Excel 97-2003 (.xls) tidak didukung: {path}. Simpan sebagai .xlsx atau CSV.",
                           path=path))
    text = _decode(path, data)
    if path.suffix.lower() != ".csv" and text.lstrip().startswith("{"):
        return Parsed(list(_jsonl_rows(text)), [])
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return Parsed(list(_jsonl_rows(text)), [])
    return tables_to_rows(_csv_tables(path, data, text), q)


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
        return sum(key_of(c) in _KNOWN_KEYS for c in cells), len(cells)

    return max(_DELIMITERS, key=score)


def _csv_tables(path: Path, data: bytes, text: str | None = None) -> list[Table]:
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
    return [Table(path.name, list(rows[0]), [(i, list(r)) for i, r in enumerate(rows[1:], start=2)])]


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the workbook holds a formula (the app's own exports never do)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return any(_FORMULA_TAG.search(zf.read(name)) for name in zf.namelist()
                   if name.startswith("xl/worksheets/") and name.endswith(".xml"))


def _xlsx_tables(path: Path, data: bytes) -> list[Table]:
    """Every worksheet's cell values (cached results, not formulas); one error for any unreadable workbook.

    A formula without a cached result would read as an empty cell ("Wajib diisi"); when the
    workbook has formulas at all, a second reading finds those and marks them as ``Formula``.
    """
    from openpyxl import load_workbook

    tables: list[Table] = []
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
                if header is None or all(empty_cell(c) for c in header):
                    if any(not empty_cell(c) for r in it for c in r):  # notes below an empty first row
                        tables.append(Table(ws.title, [], []))
                    continue
                tables.append(Table(ws.title, header, list(enumerate(it, start=2))))
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
            for v, f in zip(values, formulas, strict=False)] + values[len(formulas):]


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
