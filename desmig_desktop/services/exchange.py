"""Export to JSON lines / CSV / XLSX and import them back, all-or-nothing.

Layout: one record per JSON line (``{"entity", "id", "data"}``); CSV: a folder with one file per
entity; XLSX: one sheet per entity. Spreadsheet headers are ``"<Indonesian label> [<key>]"`` so
officers can read them and the importer can map them back. Rows with a known ``id`` update that
record with the changed fields only; rows without one create records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, Kind
from desmig_desktop.domain.household_checks import household_issues
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.validation import validate
from desmig_desktop.errors import KnownError
from desmig_desktop.services.privacy import mask_nik
from desmig_desktop.store import records
from desmig_desktop.store.queries import StoreLookup, children
from desmig_desktop.store.records import Change

FORMATS = ("jsonl", "csv", "xlsx")
_HEADER_KEY = re.compile(r"\[([a-z_]+)\]\s*$")
Progress = Callable[[int, int], bool]


def headers(entity_name: str) -> list[str]:
    spec = ENTITIES[entity_name]
    return ["ID [id]"] + [f"{f.label_id} [{f.key}]" for f in spec.fields]


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
                        fh.write(json.dumps({"entity": name, "id": row["id"], "data": data}, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            tmp.mkdir(parents=True, exist_ok=True)
            for name in ENTITY_ORDER:
                with open(tmp / f"{name}.csv", "w", newline="", encoding="utf-8-sig") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(headers(name))
                    keys = ("id", *ENTITIES[name].keys)
                    writer.writerows([_cell(row.get(k)) for k in keys] for row in rows_of(name))
        else:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            for name in ENTITY_ORDER:
                ws = wb.create_sheet(name)
                ws.append(headers(name))
                keys = ("id", *ENTITIES[name].keys)
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
        yield ImportRow(_where(label, number), entity_name, str(record_id).strip() if record_id else None, data,
                        label, number, columns, numbers)


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
            yield ImportRow(where, obj["entity"], rid, obj["data"], row=number)


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
    warnings: list[RowError] = []
    changes: list[Change] = []
    origin: dict[str, ImportRow] = {}  # record id -> the row that wrote it
    known: set[str] = set()
    for n, row in enumerate(rows, start=1):
        row_errors = _check_row(db, row, lookup, known, changes, labels, warnings)
        errors.extend(row_errors)
        if not row_errors:
            origin[changes[-1].id] = row
        if progress is not None and n % 500 == 0 and not progress(n, len(rows)):
            raise KnownError(_("Impor dibatalkan, tidak ada data yang disimpan."))
    warnings.extend(_household_warnings(db, changes, origin))
    written = _write_report(errors + [_as_warning(w) for w in warnings], report)
    if errors and not valid_only:
        raise ImportFailed(errors, written)
    seqs = records.apply_changes(db, changes)
    return {"rows": len(rows), "imported": len(changes), "changed": len(seqs), "invalid": len(errors),
            "warnings": len(warnings), "report": str(written) if written else None}


def _as_warning(w: RowError) -> RowError:
    return replace(w, message=_("Peringatan: {text}", text=w.message))


def _household_warnings(db: Database, changes: list[Change], origin: dict[str, ImportRow]) -> list[RowError]:
    """The household-level soft checks (one head of household) on every household the import
    touches, over its stored members with the imported ones laid over them. Reported beside the
    row that wrote the record concerned (or the household's row, or one of its members' rows)."""
    imported = {c.id: c.values for c in changes if c.entity == "members"}
    households = {c.id for c in changes if c.entity == "households"}
    households |= {v["household_id"] for v in imported.values() if v.get("household_id")}
    by_household: dict[str, dict[str, dict[str, Any]]] = {h: {} for h in households}
    ordered = sorted(households)
    for start in range(0, len(ordered), 500):
        for m in children(db, "members", "household_id", ordered[start:start + 500]):
            by_household[m["household_id"]][m["id"]] = m
    for mid, values in imported.items():
        if values.get("household_id") in by_household:
            by_household[values["household_id"]].setdefault(mid, {}).update({**values, "id": mid})
    out: list[RowError] = []
    for hid in ordered:
        members = by_household[hid]
        for issue in household_issues(hid, list(members.values())):
            row = origin.get(issue.record_id) or origin.get(hid) or next(
                (origin[m] for m in members if m in origin), None)
            found = row.error(issue.field if row.entity == issue.entity else "-", issue.message) if row else None
            if found is not None and found not in out:  # a stored head and an imported one: one line
                out.append(found)
    return out


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
               changes: list[Change], labels: dict[tuple[str, str], str],
               warnings: list[RowError] | None = None) -> list[RowError]:
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
    base = {k: current[k] for k in spec.keys if current is not None and current["deleted"] == 0}
    merged = {**base, **data}
    result = validate(row.entity, merged, record_id=record_id, lookup=lookup)
    errors = [row.error(i.field, i.message + _number_hint(row, i.field)) for i in result.errors]
    for f in spec.fields:
        target = result.values.get(f.key) if f.kind is Kind.REF else None
        if target and target not in known and records.get(db, f.ref_entity or "", target) is None:
            errors.append(row.error(f.key, _("Merujuk data yang tidak ada.")))
    if errors:
        return errors
    if warnings is not None:  # soft warnings are reported, never silently dropped
        warnings.extend(row.error(i.field, i.message) for i in result.warnings)
    known.add(record_id)
    changes.append(Change(row.entity, record_id, result.values))
    return []


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
