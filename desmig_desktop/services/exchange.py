"""Export to JSON lines / CSV / XLSX and import them back, all-or-nothing.

Layout: one record per JSON line (``{"entity", "id", "data"}``); CSV: a folder with one file per
entity; XLSX: one sheet per entity. Spreadsheet headers are ``"<Indonesian label> [<key>]"`` so
officers can read them and the importer can map them back. Rows with a known ``id`` update that
record with the changed fields only; rows without one create records.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.validation import validate
from desmig_desktop.errors import KnownError
from desmig_desktop.services.privacy import mask_nik
from desmig_desktop.store import records
from desmig_desktop.store.queries import StoreLookup
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


def export(db: Database, fmt: str, out: Path, *, mask: bool = False, progress: Progress | None = None) -> int:
    """Write every live record to ``out``; returns the number of records written.

    ``mask`` replaces NIK and KK digits with ``*`` (for sharing); an unmasked export can be
    imported back losslessly.
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
    where: str  # "baris 12" / "households.csv baris 3"
    column: str
    message: str

    def __str__(self) -> str:
        return _("{where}, kolom {column}: {message}", where=self.where, column=self.column, message=self.message)


class ImportFailed(KnownError):
    def __init__(self, errors: list[RowError]) -> None:
        shown = "; ".join(str(e) for e in errors[:5])
        more = _(" (dan {count} kesalahan lain)", count=len(errors) - 5) if len(errors) > 5 else ""
        super().__init__(_("Impor dibatalkan, tidak ada data yang disimpan. {errors}{more}", errors=shown, more=more))
        self.errors = errors


@dataclass(frozen=True)
class ImportRow:
    where: str
    entity: str
    id: str | None
    data: dict[str, Any]


def _entity_for_headers(keys: list[str]) -> str | None:
    markers = {"head_name": "households", "relationship": "members", "country": "placements",
               "kbli_category": "businesses"}
    return next((markers[k] for k in keys if k in markers), None)


def _key_of(header: Any) -> str:
    text = str(header or "").strip()
    match = _HEADER_KEY.search(text)
    return match.group(1) if match else text


def _table_rows(label: str, header: list[Any], body: Iterable[tuple[int, list[Any]]]) -> Iterator[ImportRow]:
    keys = [_key_of(h) for h in header]
    entity_name = _entity_for_headers(keys)
    if entity_name is None:
        raise ImportFailed([RowError(f"{label} baris 1", "-", _("Judul kolom tidak dikenali."))])
    for number, cells in body:
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        data = {k: c for k, c in zip(keys, cells) if k}
        record_id = data.pop("id", None)
        yield ImportRow(f"{label} baris {number}", entity_name, str(record_id).strip() if record_id else None, data)


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
            where = _("baris {number}", number=number)
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise ImportFailed([RowError(where, "-", _("Bukan JSON yang valid."))]) from None
            if not isinstance(obj, dict) or obj.get("entity") not in ENTITIES or not isinstance(obj.get("data"), dict):
                raise ImportFailed([RowError(where, "entity", _("Baris harus berisi entity, id dan data."))])
            rid = obj.get("id")
            if rid is not None and not isinstance(rid, str):
                raise ImportFailed([RowError(where, "id", _("id harus teks."))])
            yield ImportRow(where, obj["entity"], rid, obj["data"])


def import_file(db: Database, path: Path, *, valid_only: bool = False,
                progress: Progress | None = None) -> dict[str, int]:
    """Validate every row, then write all of them in one transaction (or none).

    With ``valid_only`` the invalid rows are skipped (and listed in ``errors``) instead of
    cancelling the whole import.
    """
    rows = read_rows(path)
    rows.sort(key=lambda r: ENTITY_ORDER.index(r.entity))
    lookup = StoreLookup(db)
    errors: list[RowError] = []
    changes: list[Change] = []
    known: set[str] = set()
    for n, row in enumerate(rows, start=1):
        row_errors = _check_row(db, row, lookup, known, changes)
        errors.extend(row_errors)
        if progress is not None and n % 500 == 0 and not progress(n, len(rows)):
            raise KnownError(_("Impor dibatalkan, tidak ada data yang disimpan."))
    if errors and not valid_only:
        raise ImportFailed(errors)
    seqs = records.apply_changes(db, changes)
    return {"rows": len(rows), "imported": len(changes), "changed": len(seqs), "invalid": len(errors)}


def _check_row(db: Database, row: ImportRow, lookup: StoreLookup, known: set[str],
               changes: list[Change]) -> list[RowError]:
    spec = ENTITIES[row.entity]
    current = records.get(db, row.entity, row.id) if row.id else None
    base = {k: current[k] for k in spec.keys if current is not None and current["deleted"] == 0}
    merged = {**base, **row.data}
    record_id = row.id or new_id()
    result = validate(row.entity, merged, record_id=record_id, lookup=lookup)
    errors = [RowError(row.where, i.field, i.message) for i in result.errors]
    for f in spec.fields:
        target = result.values.get(f.key) if f.kind is Kind.REF else None
        if target and target not in known and records.get(db, f.ref_entity or "", target) is None:
            errors.append(RowError(row.where, f.key, _("Merujuk data yang tidak ada.")))
    if errors:
        return errors
    known.add(record_id)
    changes.append(Change(row.entity, record_id, result.values))
    return []
