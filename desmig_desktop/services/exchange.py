"""Export to JSON lines / CSV / XLSX and import them back, all-or-nothing.

Layout: one record per JSON line (``{"entity", "id", "data", "version", "updated_at"}``); CSV: a
folder with one file per entity; XLSX: one sheet per entity. Spreadsheet headers are
``"<Indonesian label> [<key>]"`` so officers can read them and the importer can map them back.
Rows without an ``id`` create records. Rows with a known ``id`` update that record with the
changed fields only:

* An exported row carries the record's ``version`` (``server_version``) and ``updated_at``: the
  file is a copy of the record at that moment. Changed means changed relative to that copy (the
  stored values then are the current ones with the local history since ``updated_at`` rolled
  back), sent with that version as base — so a correction a sync pulled after the export is
  neither overwritten by the file's stale value nor re-sent (see ``households``).
* A row without a version (typed by hand, an export from before versions were written) states
  the record as it should be now: the fields that differ from the stored record are changed,
  on its current version.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.validation import validate
from desmig_desktop.errors import KnownError
from desmig_desktop.services.households import changed_values, on_current_row
from desmig_desktop.services.privacy import mask_nik
from desmig_desktop.store import records
from desmig_desktop.store.queries import StoreLookup
from desmig_desktop.store.records import Base, Change

FORMATS = ("jsonl", "csv", "xlsx")
_HEADER_KEY = re.compile(r"\[([a-z_]+)\]\s*$")
Progress = Callable[[int, int], bool]


# Columns after the questionnaire's: which copy of the record a row is (see the module docstring).
COPY_COLUMNS = (("Versi server", "server_version"), ("Diubah pada", "updated_at"))


def headers(entity_name: str) -> list[str]:
    spec = ENTITIES[entity_name]
    return ["ID [id]"] + [f"{f.label_id} [{f.key}]" for f in spec.fields] + [f"{t} [{k}]" for t, k in COPY_COLUMNS]


def _live_rows(db: Database, entity_name: str) -> Iterator[dict[str, Any]]:
    cur = db.execute(f"SELECT * FROM {entity_name} WHERE deleted = 0 ORDER BY created_at, id")
    names = [c[0] for c in cur.description]
    for row in cur:
        yield records.from_db(entity_name, dict(zip(names, row)))


def _cell(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def export(db: Database, fmt: str, out: Path, *, mask: bool = True, progress: Progress | None = None) -> int:
    """Write every live record to ``out``; returns the number of records written.

    By default NIK and KK are masked (``3201********0001``) so an export can be shared; only an
    export made with ``mask=False`` (``--full-nik``) carries full values and imports back losslessly.
    """
    if fmt not in FORMATS:
        raise KnownError(_("Format ekspor tidak dikenal: {fmt}", fmt=fmt))
    total = sum(db.execute(f"SELECT count(*) FROM {e} WHERE deleted = 0").fetchone()[0] for e in ENTITY_ORDER)
    written = 0

    def rows_of(entity_name: str) -> Iterator[dict[str, Any]]:
        nonlocal written
        for row in _live_rows(db, entity_name):
            if mask:
                for key in ("nik", "kk_number"):
                    if row.get(key):
                        row[key] = mask_nik(row[key])
            written += 1
            if progress is not None and written % 500 == 0 and not progress(written, total):
                raise KnownError(_("Ekspor dibatalkan."))
            yield row

    tmp = out.with_name(out.name + ".part")
    try:
        if fmt == "jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                for name in ENTITY_ORDER:
                    keys = ENTITIES[name].keys
                    for row in rows_of(name):
                        data = {k: row[k] for k in keys if row.get(k) is not None}
                        fh.write(json.dumps({"entity": name, "id": row["id"], "data": data,
                                             "version": row["server_version"], "updated_at": row["updated_at"]},
                                            ensure_ascii=False) + "\n")
        elif fmt == "csv":
            tmp.mkdir(parents=True, exist_ok=True)
            for name in ENTITY_ORDER:
                with open(tmp / f"{name}.csv", "w", newline="", encoding="utf-8-sig") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(headers(name))
                    keys = ("id", *ENTITIES[name].keys, *(k for _t, k in COPY_COLUMNS))
                    writer.writerows([_cell(row.get(k)) for k in keys] for row in rows_of(name))
        else:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            for name in ENTITY_ORDER:
                ws = wb.create_sheet(name)
                ws.append(headers(name))
                keys = ("id", *ENTITIES[name].keys, *(k for _t, k in COPY_COLUMNS))
                for row in rows_of(name):
                    ws.append([_cell(row.get(k)) for k in keys])
            wb.save(tmp)
        if out.is_dir() and fmt == "csv":
            for child in out.iterdir():
                child.unlink()
            out.rmdir()
        tmp.replace(out)
    except OSError as exc:
        raise KnownError(_("Tidak bisa menulis berkas ekspor: {reason}", reason=exc.strerror or exc)) from exc
    finally:
        _remove(tmp)
    return written


def _remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    elif path.exists():
        path.unlink()


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

    def __str__(self) -> str:
        return _("{where}, kolom {column}: {message}", where=self.where, column=self.column, message=self.message)


class ImportFailed(KnownError):
    def __init__(self, errors: list[RowError], report: Path | None = None) -> None:
        shown = "; ".join(str(e) for e in errors[:5])
        more = _(" (dan {count} kesalahan lain)", count=len(errors) - 5) if len(errors) > 5 else ""
        where = _(" Daftar lengkap kesalahan: {path}", path=report) if report is not None else ""
        super().__init__(_("Impor dibatalkan, tidak ada data yang disimpan. {errors}{more}", errors=shown, more=more)
                         + where)
        self.errors = errors
        self.report = report  # where the full list was written, if it was


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
    version: Any = None  # the exported record's server_version, if the file has it
    updated_at: Any = None  # ... and its updated_at (which local changes came after the export)

    def error(self, key: str, message: str) -> RowError:
        letter, header = self.columns.get(key, ("", ""))
        if not header and key in ENTITIES[self.entity].keys:
            header = ENTITIES[self.entity].field(key).label_id
        return RowError(self.where, key, message, self.source, self.row, header, letter)


def _where(source: str, row: int) -> str:
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


_ID_KINDS = (Kind.REF,)


def _cell_value(entity_name: str, key: str, cell: Any) -> Any:
    """What a spreadsheet cell means for the questionnaire.

    Excel turns a typed date into a datetime and an id or code into a number; both are undone
    here (a midnight datetime becomes a date; a whole number in an id column becomes its digits).
    """
    if isinstance(cell, dt.datetime) and cell.time() == dt.time():
        return cell.date()
    spec = ENTITIES[entity_name]
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and (
            key == "id" or (spec.has(key) and spec.field(key).kind in _ID_KINDS)) and float(cell).is_integer():
        return str(int(cell))
    return cell


def _table_rows(label: str, header: list[Any], body: Iterable[tuple[int, list[Any]]]) -> Iterator[ImportRow]:
    keys = [_key_of(h) for h in header]
    entity_name = _entity_for_headers(keys)
    if entity_name is None:
        raise ImportFailed([RowError(_where(label, 1), "-", _("Judul kolom tidak dikenali."), label, 1)])
    columns = {k: (_column_letter(i), str(h or "").strip()) for i, (k, h) in enumerate(zip(keys, header)) if k}
    for number, cells in body:
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        data = {k: _cell_value(entity_name, k, c) for k, c in zip(keys, cells) if k}
        numbers = frozenset(k for k, c in zip(keys, cells)
                            if k and isinstance(c, (int, float)) and not isinstance(c, bool))
        record_id = data.pop("id", None)
        copy = [data.pop(k, None) for _t, k in COPY_COLUMNS]
        yield ImportRow(_where(label, number), entity_name, str(record_id).strip() if record_id else None, data,
                        label, number, columns, numbers, *(None if c in (None, "") else c for c in copy))


def read_rows(path: Path) -> list[ImportRow]:
    """Parse an import file (or CSV folder) into rows; ``KnownError`` if it cannot be read."""
    if not path.exists():
        raise KnownError(_("Berkas tidak ditemukan: {path}", path=path))
    try:
        if path.is_dir():
            files = sorted(path.glob("*.csv"), key=lambda p: ENTITY_ORDER.index(p.stem) if p.stem in ENTITY_ORDER else 9)
            if not files:
                raise KnownError(_("Folder tidak berisi berkas CSV: {path}", path=path))
            return [row for f in files for row in _csv_rows(f)]
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return list(_csv_rows(path))
        if suffix == ".xlsx":
            return _xlsx_rows(path)
        return list(_jsonl_rows(path))
    except UnicodeDecodeError as exc:
        raise KnownError(_("Berkas bukan teks UTF-8: {path}", path=path)) from exc


def _csv_rows(path: Path) -> Iterator[ImportRow]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        yield from _table_rows(path.name, header, ((i, row) for i, row in enumerate(reader, start=2)))


def _xlsx_rows(path: Path) -> list[ImportRow]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a corrupt file
        raise KnownError(_("Berkas XLSX tidak bisa dibaca: {path}", path=path)) from exc
    out: list[ImportRow] = []
    for ws in wb.worksheets:
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            continue
        body = ((i, list(r)) for i, r in enumerate(it, start=2))
        out.extend(_table_rows(ws.title, list(header), body))
    wb.close()
    return out


def _jsonl_rows(path: Path) -> Iterator[ImportRow]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = _where("", number)
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise ImportFailed([RowError(where, "-", _("Bukan JSON yang valid."), row=number)]) from None
            if not isinstance(obj, dict) or obj.get("entity") not in ENTITIES or not isinstance(obj.get("data"), dict):
                raise ImportFailed([RowError(where, "entity", _("Baris harus berisi entity, id dan data."), row=number)])
            rid = obj.get("id")
            if rid is not None and not isinstance(rid, str):
                raise ImportFailed([RowError(where, "id", _("id harus teks."), row=number)])
            yield ImportRow(where, obj["entity"], rid, obj["data"], row=number, version=obj.get("version"),
                            updated_at=obj.get("updated_at"))


def import_file(db: Database, path: Path, *, valid_only: bool = False, progress: Progress | None = None,
                report: Path | None = None) -> dict[str, Any]:
    """Validate every row, then write all of them in one transaction (or none).

    With ``valid_only`` the invalid rows are skipped (and counted in ``invalid``) instead of
    cancelling the whole import. With ``report``, every row error is also written there (CSV,
    or XLSX for a ``.xlsx`` name) when there is any; the result's ``report`` says where.

    An ``id`` that is neither a record of this laptop nor a UUID is a label local to the file
    (``RT-1``): the record gets a new id, and the file's references to that label (a member's
    ``household_id``) follow it. So new households and their members can be typed in Excel.
    """
    try:
        rows = read_rows(path)
    except ImportFailed as exc:
        raise ImportFailed(exc.errors, _write_report(exc.errors, report)) from None
    rows.sort(key=lambda r: ENTITY_ORDER.index(r.entity))
    lookup = StoreLookup(db)
    labels = _labels(db, rows)
    errors: list[RowError] = []
    changes: list[Change] = []
    known: set[str] = set()
    for n, row in enumerate(rows, start=1):
        row_errors = _check_row(db, row, lookup, known, changes, labels)
        errors.extend(row_errors)
        if progress is not None and n % 500 == 0 and not progress(n, len(rows)):
            raise KnownError(_("Impor dibatalkan, tidak ada data yang disimpan."))
    written = _write_report(errors, report)
    if errors and not valid_only:
        raise ImportFailed(errors, written)
    seqs = records.apply_changes(db, changes)
    return {"rows": len(rows), "imported": len(changes), "changed": len(seqs), "invalid": len(errors),
            "report": str(written) if written else None}


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _labels(db: Database, rows: list[ImportRow]) -> dict[tuple[str, str], str]:
    """(entity, label) -> new id, for ids that name no record here and are not UUIDs."""
    out: dict[tuple[str, str], str] = {}
    for row in rows:
        if row.id and (row.entity, row.id) not in out and not _is_uuid(row.id) \
                and records.get(db, row.entity, row.id) is None:
            out[(row.entity, row.id)] = new_id()
    return out


def _number_hint(row: ImportRow, key: str) -> str:
    if "********" in str(row.data.get(key) or ""):
        return " " + _("Nilai ini disamarkan oleh ekspor; ekspor ulang dengan NIK lengkap (--full-nik) untuk impor.")
    if key in row.typed_as_number and ENTITIES[row.entity].has(key) and \
            ENTITIES[row.entity].field(key).kind in (Kind.NIK, Kind.KK, Kind.PHONE, Kind.DIGITS):
        return " " + _("Sel ini berisi angka, bukan teks: Excel bisa membuang angka 0 di depan atau digit "
                       "terakhir. Format kolom sebagai Teks lalu ketik ulang.")
    return ""


def _check_row(db: Database, row: ImportRow, lookup: StoreLookup, known: set[str],
               changes: list[Change], labels: dict[tuple[str, str], str]) -> list[RowError]:
    spec = ENTITIES[row.entity]
    data = dict(row.data)
    for f in spec.fields:  # references to a label of this file follow the label's new id
        value = data.get(f.key)
        if f.kind is Kind.REF and isinstance(value, str) and (f.ref_entity or "", value.strip()) in labels:
            data[f.key] = labels[(f.ref_entity or "", value.strip())]
    record_id = labels.get((row.entity, row.id or ""), row.id) or new_id()
    if record_id in known:
        return [row.error("id", _("ID {id} muncul lebih dari sekali dalam berkas.", id=row.id))]
    current = records.get(db, row.entity, record_id) if row.id else None
    live = current is not None and current["deleted"] == 0
    copy: Base | None = None
    if live and row.version is not None:
        try:
            copy = _exported_copy(db, row, current or {}, int(row.version))
        except (TypeError, ValueError):
            return [row.error("server_version", _("Versi server harus bilangan bulat."))]
    if copy is not None and current is not None:
        merged, keys = on_current_row(row.entity, data, copy, current)
    else:
        merged = {**{k: current[k] for k in spec.keys if live and current is not None}, **data}
    result = validate(row.entity, merged, record_id=record_id, lookup=lookup)
    errors = [row.error(i.field, i.message + _number_hint(row, i.field)) for i in result.errors]
    for f in spec.fields:
        target = result.values.get(f.key) if f.kind is Kind.REF else None
        if target and target not in known and records.get(db, f.ref_entity or "", target) is None:
            errors.append(row.error(f.key, _("Merujuk data yang tidak ada.")))
    if errors:
        return errors
    known.add(record_id)
    if copy is not None and current is not None:
        changes.append(Change(row.entity, record_id, changed_values(result.values, keys, current), base=copy))
    else:
        changes.append(Change(row.entity, record_id, result.values))
    return []


def _exported_copy(db: Database, row: ImportRow, current: dict[str, Any], version: int) -> Base:
    """The record as it was when the row was exported: its version, and its current values with
    every local change since the row's ``updated_at`` (local edits and pulled ones alike, all in
    the history with that same clock) undone, newest first."""
    spec = ENTITIES[row.entity]
    values = {k: current.get(k) for k in spec.keys}
    if row.updated_at:
        since = str(row.updated_at)
        for change in reversed(records.history(db, row.entity, str(current["id"]))):
            if change["at"] > since and change["field"] in values:
                values[change["field"]] = change["old"]
    return Base(min(version, int(current["server_version"])), values)


# -- the error report ---------------------------------------------------------------------------
def default_report_path(path: Path) -> Path:
    """Where ``desmig import`` writes the error list by default: next to the input."""
    return path.parent / f"{path.stem if path.is_file() else path.name}-kesalahan.csv"


def _write_report(errors: list[RowError], report: Path | None) -> Path | None:
    if not errors or report is None:
        return None
    write_error_report(errors, report)
    return report


def write_error_report(errors: list[RowError], out: Path) -> None:
    """Every row error, one per line: sheet/file, row, column letter and heading, field, message.

    CSV (UTF-8 with BOM, for Excel) or, for a ``.xlsx`` name, a workbook.

    Raises:
        KnownError: the file cannot be written.
    """
    head = [_("Lembar/berkas"), _("Baris"), _("Kolom"), _("Judul kolom"), _("Isian"), _("Pesan")]
    lines = [[e.source, e.row, e.letter, e.header, e.column, e.message] for e in errors]
    try:
        if out.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet(_("Kesalahan"))
            ws.append(head)
            for line in lines:
                ws.append(line)
            wb.save(out)
        else:
            with open(out, "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(head)
                writer.writerows(["" if v is None else v for v in line] for line in lines)
    except OSError as exc:
        raise KnownError(_("Laporan kesalahan tidak bisa ditulis: {reason}", reason=exc.strerror or exc)) from exc
