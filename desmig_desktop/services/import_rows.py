"""Import rows: what a sheet's headings and cells mean, and the problems found on the way.

A table (one worksheet or CSV file, as read by ``import_read``) is recognised as an export of
one entity by its headings (``Label [key]``); each body row becomes an ``ImportRow`` of field
values. Problems that are not one row's (an extra sheet of notes, an unknown column) are
``RowError`` s of row 1 of that sheet: warnings when nothing is lost, errors otherwise.
Spreadsheet cells go through ``domain.sheetcell``: the escape quote the exports put in front of
``=``, ``+``, ``-``… is dropped, and an error value (``#REF!``) is refused instead of being read
as data. The export writes its headings with ``headers`` and ``COPY_HEADERS`` from here too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desmig_desktop.domain import sheetcell
from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, EntitySpec, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.errors import KnownError

_HEADER_KEY = re.compile(r"\[([a-z][a-z0-9_]*)\]\s*$")  # a field key (``questionnaire_check.NAME``)
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
class Table:
    """One worksheet or CSV file as read: its heading row and its body rows."""

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


def headers(entity_name: str, q: Questionnaire | None = None) -> list[str]:
    """An export's headings of ``entity_name`` under ``q`` (the database's active questionnaire;
    default version 1)."""
    spec = q.entity(entity_name) if q is not None else ENTITIES[entity_name]
    return ["ID [id]"] + [f"{f.label_id} [{f.key}]" for f in spec.fields]


def where(source: str, row: int) -> str:
    return _("{source} baris {row}", source=source, row=row) if source else _("baris {number}", number=row)


def _entity_for_headers(keys: list[str], label: str = "") -> str | None:
    """The entity a table's headings are an export of: the one naming most of them, with fewest
    headings it does not have; a tie goes to the entity the sheet or file is named after, then
    to the first in ``ENTITY_ORDER``. ``None`` when no heading is any entity's field.

    Entities share keys (a village profile has a village code, a head's name and notes like a
    household; a service has a status like a business), so one key alone cannot say which."""
    named = {k for k in keys if k and k != "id" and k not in _COPY_KEYS}
    stem = label[:-4] if label.lower().endswith(".csv") else label
    best: str | None = None
    best_score: tuple[int, bool, int] | None = None
    for place, name in enumerate(ENTITY_ORDER):
        spec = ENTITIES[name]
        hits = sum(1 for k in named if spec.has(k))
        if not hits:
            continue
        score = (hits - (len(named) - hits), name == stem, -place)
        if best_score is None or score > best_score:
            best, best_score = name, score
    return best


def key_of(header: Any) -> str:
    """The field key of a heading: ``key`` of ``Label [key]``, else the heading itself."""
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


def empty_cell(cell: Any) -> bool:
    """Nothing in the cell: ``None`` or only whitespace."""
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


def _cell_value(spec: EntitySpec, key: str, cell: Any) -> Any:
    """What a spreadsheet cell means for the questionnaire.

    Excel turns a typed date into a datetime and an id, code or RT into a number; both are undone
    here (a datetime in a date field, or at midnight, becomes its date; a whole number in an id or
    digits column becomes its digits). The escape quote of an exported text cell is dropped.
    """
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


def _table_rows(table: Table, q: Questionnaire | None) -> tuple[str, list[ImportRow], list[RowError]] | None:
    """The rows of one sheet or CSV file; ``None`` when its headings are not an export's."""
    label = table.label
    header = [sheetcell.restore(h) for h in table.header]
    keys = [key_of(h) for h in header]
    entity_name = _entity_for_headers(keys, label)
    if entity_name is None:
        return None
    spec = q.entity(entity_name) if q is not None else ENTITIES[entity_name]
    columns = {k: (_column_letter(i), str(h or "").strip()) for i, (k, h) in enumerate(zip(keys, header, strict=True)) if k}
    problems: list[RowError] = []
    for index, key in enumerate(keys):
        if not key or key == "id" or spec.has(key) or key in _COPY_KEYS:
            continue
        letter, heading = _column_letter(index), str(header[index]).strip()
        empty = all(empty_cell(cells[index]) for _n, cells in table.body if index < len(cells))
        message = (_("Kolom {heading} tidak dikenal dan kosong; diabaikan.", heading=heading) if empty else
                   _("Kolom {heading} tidak dikenal: perbaiki judulnya (format ekspor: Label [kunci]) atau "
                     "hapus kolom ini.", heading=heading))
        problems.append(RowError(where(label, 1), key, message, label, 1, heading, letter, warning=empty))
        keys[index] = ""  # ignored from here on: its cells are no field's
    rows: list[ImportRow] = []
    for number, cells in table.body:
        if all(empty_cell(c) for c in cells):
            continue
        at = where(label, number)
        # a row may be shorter or longer than the heading row (CSV): zip stops at the shorter
        bad = tuple(RowError(at, k, problem, label, number, columns[k][1], columns[k][0])
                    for k, c in zip(keys, cells, strict=False) if k and (problem := _cell_problem(c)) is not None)
        data = {k: _cell_value(spec, k, c) for k, c in zip(keys, cells, strict=False) if k}
        numbers = frozenset(k for k, c in zip(keys, cells, strict=False)
                            if k and isinstance(c, (int, float)) and not isinstance(c, bool))
        record_id = data.pop("id", None)
        copy = [data.pop(k, None) for k in _COPY_KEYS]
        rows.append(ImportRow(at, entity_name, str(record_id).strip() if record_id else None, data,
                              label, number, columns, numbers, bad, *(None if empty_cell(c) else c for c in copy)))
    return entity_name, rows, problems


def _headings(table: Table, shown: int = 5, longest: int = 40) -> str:
    """The first headings of a table nobody recognised, quoted and shortened, for the officer to compare."""
    texts = [str(sheetcell.restore(h)).strip() for h in table.header if not empty_cell(h)]
    quoted = ", ".join(f'"{t[:longest]}{"…" if len(t) > longest else ""}"' for t in texts[:shown])
    return quoted + (" …" if len(texts) > shown else "") if quoted else _("(kosong)")


def tables_to_rows(tables: list[Table], q: Questionnaire | None = None) -> Parsed:
    """Rows of every recognised table; unrecognised ones are ignored with a warning, unless none is recognised.
    ``q``: the questionnaire whose columns a table may have (default version 1)."""
    rows: list[ImportRow] = []
    problems: list[RowError] = []
    unknown: list[Table] = []
    for table in tables:
        found = _table_rows(table, q)
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
