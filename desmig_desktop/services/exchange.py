"""Export to JSON lines / CSV / XLSX and import them back, all-or-nothing.

Layout: one record per JSON line (``{"entity", "id", "data", "version", "updated_at"}``); CSV: a
folder with one file per entity; XLSX: one sheet per entity. Spreadsheet headers are
``"<Indonesian label> [<key>]"`` so officers can read them and the importer can map them back.
Spreadsheet text goes through ``domain.sheetcell`` (never a formula when opened; read back
unchanged); reading a file is ``import_read``'s. Rows without an ``id`` create records. Rows with
a known ``id`` update that record with the changed fields only:

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
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain import sheetcell
from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, EntitySpec, Kind
from desmig_desktop.domain.household_checks import household_issues
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.programme import natural_id
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.domain.validation import validate
from desmig_desktop.errors import KnownError
from desmig_desktop.services.import_read import read_rows
from desmig_desktop.services.import_rows import COPY_COLUMNS, COPY_HEADERS, ImportFailed, ImportRow, RowError, headers
from desmig_desktop.services.privacy import mask_nik
from desmig_desktop.services.record_edits import changed_values, on_current_row
from desmig_desktop.store import questionnaire_store, records
from desmig_desktop.store.programme_refs import reference_problems
from desmig_desktop.store.queries import StoreLookup, children
from desmig_desktop.store.records import Base, Change

__all__ = ["FORMATS", "ImportFailed", "RowError", "default_report_path", "export", "headers", "import_file",
           "write_error_report"]
FORMATS = ("jsonl", "csv", "xlsx")
Progress = Callable[[int, int], bool]


# Per entity, the identity numbers a shared export masks: every NIK and No. KK field (a walk-in's
# NIK on a service record too), read from the specs.
_MASKED = {name: tuple(f.key for f in spec.fields if f.kind in (Kind.NIK, Kind.KK)) for name, spec in ENTITIES.items()}


def _live_rows(db: Database, q: Questionnaire, entity_name: str) -> Iterator[dict[str, Any]]:
    cur = db.execute(f"SELECT * FROM {entity_name} WHERE deleted = 0 ORDER BY created_at, id")
    names = [c[0] for c in cur.description]
    spec = q.entity(entity_name)
    for row in cur:
        yield records.from_db(entity_name, dict(zip(names, row)), spec)


def _cell(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def csv_line(values: Iterable[Any]) -> list[Any]:
    """One CSV line whose text cells cannot run as formulas when the file is opened."""
    return [sheetcell.csv_text(v) for v in values]


def xlsx_line(ws: Any, values: Iterable[Any]) -> list[Any]:
    """One row for a write-only sheet: every text a text cell (never a formula or an error value)."""
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            value = sheetcell.xlsx_text(value)
            if sheetcell.runs_as_formula(value):
                value = sheetcell.keep_as_text(WriteOnlyCell(ws, value=value))
        out.append(value)
    return out


def export(db: Database, fmt: str, out: Path, *, mask: bool = True, progress: Progress | None = None) -> int:
    """Write every live record to ``out``; returns the number of records written.

    By default NIK and KK are masked (``3201********0001``) so an export can be shared; only an
    export made with ``mask=False`` (``--full-nik``) carries full values and imports back losslessly.
    """
    if fmt not in FORMATS:
        raise KnownError(_("Format ekspor tidak dikenal: {fmt}", fmt=fmt))
    total = sum(db.execute(f"SELECT count(*) FROM {e} WHERE deleted = 0").fetchone()[0] for e in ENTITY_ORDER)
    written = 0
    # The columns of the questionnaire version this database is on. Answers a record keeps in
    # ``extra`` (questions of a later version) are not exported: a row never states them, so an
    # import of the file never blanks them (only the fields a row changes are written).
    q = questionnaire_store.active(db)

    def rows_of(entity_name: str) -> Iterator[dict[str, Any]]:
        nonlocal written
        for row in _live_rows(db, q, entity_name):
            if mask:
                for key in _MASKED[entity_name]:
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
                    keys = q.entity(name).keys
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
                    writer.writerow(csv_line([*headers(name, q), *COPY_HEADERS]))
                    keys = ("id", *q.entity(name).keys, *(k for _t, k in COPY_COLUMNS))
                    writer.writerows(csv_line(_cell(row.get(k)) for k in keys) for row in rows_of(name))
        else:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            for name in ENTITY_ORDER:
                ws = wb.create_sheet(name)
                ws.append(xlsx_line(ws, [*headers(name, q), *COPY_HEADERS]))
                keys = ("id", *q.entity(name).keys, *(k for _t, k in COPY_COLUMNS))
                for row in rows_of(name):
                    ws.append(xlsx_line(ws, (_cell(row.get(k)) for k in keys)))
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


def mask_option_label() -> str:
    """The export option (the GUI's checkbox) that masks NIK and No. KK; the import's hints name it."""
    return _("Samarkan NIK dan No. KK (untuk dibagikan)")


def import_file(db: Database, path: Path, *, valid_only: bool = False, progress: Progress | None = None,
                report: Path | None = None, gui: bool = False) -> dict[str, Any]:
    """Validate every row, then write all of them in one transaction (or none).

    With ``valid_only`` the invalid rows are skipped (their number is ``invalid``) instead of
    cancelling the whole import. With ``report``, every error and warning (a NIK another household
    already uses, an ignored sheet) is also written there (CSV, or XLSX for a ``.xlsx`` name) when
    there is any; the result's ``report`` says where, its ``problems`` lists them. ``gui``: hints
    name the app's options (the export's masking checkbox), not the command line's flags.

    An ``id`` that is neither a record of this laptop nor a UUID is a label local to the file
    (``RT-1``): the record gets a new id, and the file's references to that label (a member's
    ``household_id``) follow it. So new households and their members can be typed in Excel.
    """
    q = questionnaire_store.active(db)  # the version this database is on: its columns, its validation
    try:
        parsed = read_rows(path, q)
    except ImportFailed as exc:
        raise ImportFailed(exc.errors, _write_report(exc.errors, report)) from None
    rows = sorted(parsed.rows, key=lambda r: ENTITY_ORDER.index(r.entity))
    lookup = StoreLookup(db)
    labels = _labels(db, rows)
    errors = [p for p in parsed.problems if not p.warning]
    warnings = [p for p in parsed.problems if p.warning]
    changes: list[Change] = []
    origin: dict[str, ImportRow] = {}  # record id -> the row that wrote it
    known: set[str] = set()
    niks: dict[str, tuple[str, str | None, ImportRow]] = {}
    skipped = 0
    for n, row in enumerate(rows, start=1):
        row_errors = list(row.cell_errors) or _check_row(db, q, row, lookup, known, changes, labels, warnings, gui)
        if not row_errors and row.entity == "members":
            row_errors = _same_nik_in_file(db, row, changes, known, niks, warnings)
        errors.extend(row_errors)
        skipped += bool(row_errors)
        if not row_errors:
            origin[changes[-1].id] = row
        if progress is not None and n % 500 == 0 and not progress(n, len(rows)):
            raise KnownError(_("Impor dibatalkan, tidak ada data yang disimpan."))
    warnings.extend(_household_warnings(db, changes, origin))
    written = _write_report([*errors, *warnings], report)
    if errors and not valid_only:
        raise ImportFailed(errors, written, warnings)
    seqs = records.apply_changes(db, changes)
    return {"rows": len(rows), "imported": len(changes), "changed": len(seqs), "invalid": skipped,
            "errors": len(errors), "warnings": len(warnings), "report": str(written) if written else None,
            "problems": [*errors, *warnings]}


def _same_nik_in_file(db: Database, row: ImportRow, changes: list[Change], known: set[str],
                      niks: dict[str, tuple[str, str | None, ImportRow]], warnings: list[RowError]) -> list[RowError]:
    """The member just accepted (``changes[-1]``) against the NIKs of the members before it in the file.

    Twice in one household is refused, as the form refuses it; in two households it is a warning,
    as a NIK already held by a member of another household is.
    """
    change = changes[-1]
    values: dict[str, Any] = change.values
    if "nik" not in values or "household_id" not in values:  # an update carrying only what changed
        values = {**(records.get(db, "members", change.id) or {}), **values}
    nik, household = values.get("nik"), values.get("household_id")
    if not nik:
        return []
    first = niks.setdefault(nik, (change.id, household, row))
    if first[0] == change.id:
        return []
    if first[1] == household:
        changes.pop()
        known.discard(change.id)
        return [row.error("nik", _("NIK yang sama dipakai dua kali dalam rumah tangga ini ({where}).",
                                   where=first[2].where))]
    warnings.append(row.error("nik", _("NIK ini juga dipakai anggota rumah tangga lain dalam berkas ini ({where}).",
                                       where=first[2].where), warning=True))
    return []


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
            found = row.error(issue.field if row.entity == issue.entity else "-", issue.message, warning=True) if row else None
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


def _number_hint(row: ImportRow, key: str, gui: bool = False) -> str:
    if "********" in str(row.data.get(key) or "") and gui:
        return " " + _("Nilai ini disamarkan oleh ekspor; ekspor ulang tanpa centang \u201c{option}\u201d untuk "
                       "impor.", option=mask_option_label())
    if "********" in str(row.data.get(key) or ""):
        return " " + _("Nilai ini disamarkan oleh ekspor; ekspor ulang dengan NIK lengkap (--full-nik) untuk impor.")
    if key in row.typed_as_number and ENTITIES[row.entity].has(key) and \
            ENTITIES[row.entity].field(key).kind in (Kind.NIK, Kind.KK, Kind.PHONE, Kind.DIGITS):
        return " " + _("Sel ini berisi angka, bukan teks: Excel bisa membuang angka 0 di depan atau digit "
                       "terakhir. Format kolom sebagai Teks lalu ketik ulang.")
    return ""


def _check_row(db: Database, q: Questionnaire, row: ImportRow, lookup: StoreLookup, known: set[str],
               changes: list[Change], labels: dict[tuple[str, str], str],
               warnings: list[RowError], gui: bool = False) -> list[RowError]:
    spec = q.entity(row.entity)
    data = dict(row.data)
    for f in spec.fields:  # references to a label of this file follow the label's new id
        value = data.get(f.key)
        if f.kind is Kind.REF and isinstance(value, str) and (f.ref_entity or "", value.strip()) in labels:
            data[f.key] = labels[(f.ref_entity or "", value.strip())]
    # A record whose id follows from its values (a village's profile) takes that id when the row
    # has none of this laptop's: the import then completes the village's one profile.
    natural = natural_id(row.entity, data) if not row.id or (row.entity, row.id) in labels else None
    record_id = natural or labels.get((row.entity, row.id or ""), row.id) or new_id()
    if record_id in known:
        return [row.error("id", _("ID {id} muncul lebih dari sekali dalam berkas.", id=row.id))]
    current = records.get(db, row.entity, record_id) if row.id or natural else None
    live = current is not None and current["deleted"] == 0
    copy: Base | None = None
    if live and row.version is not None:
        try:
            copy = _exported_copy(db, spec, row, current or {}, int(row.version))
        except (TypeError, ValueError):
            return [row.error("server_version", _("Versi server harus bilangan bulat."))]
    keys: set[str] = set()
    if copy is not None and current is not None:
        merged, keys = on_current_row(row.entity, data, copy, current, spec)
    else:
        merged = {**{k: current[k] for k in spec.keys if live and current is not None}, **data}
    result = validate(row.entity, merged, record_id=record_id, lookup=lookup, questionnaire=q)
    errors = [row.error(i.field, i.message + _number_hint(row, i.field, gui)) for i in result.errors]
    for f in spec.fields:
        target = result.values.get(f.key) if f.kind is Kind.REF else None
        if target and target not in known and records.get(db, f.ref_entity or "", target) is None:
            errors.append(row.error(f.key, _("Merujuk data yang tidak ada.")))
    if not errors:  # the member served, an attendee...: of the record's village, as HQ requires
        errors = [row.error(key, why) for key, why in reference_problems(
            db, row.entity, result.values, current if live else None, unsaved=known)]
    if errors:
        return errors
    warnings.extend(row.error(i.field, i.message, warning=True) for i in result.warnings)
    known.add(record_id)
    if copy is not None and current is not None:
        changes.append(Change(row.entity, record_id, changed_values(result.values, keys, current), base=copy))
    else:
        changes.append(Change(row.entity, record_id, result.values))
    return []


def _exported_copy(db: Database, spec: EntitySpec, row: ImportRow, current: dict[str, Any], version: int) -> Base:
    """The record as it was when the row was exported: its version, and its current values with
    every local change since the row's ``updated_at`` (local edits and pulled ones alike, all in
    the history with that same clock) undone, newest first."""
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


def _write_report(problems: list[RowError], report: Path | None) -> Path | None:
    if not problems or report is None:
        return None
    write_error_report(problems, report)
    return report


def write_error_report(errors: Sequence[RowError], out: Path) -> None:
    """Every row error (and warning), one per line: sheet/file, row, column letter and heading, field, message.

    CSV (UTF-8 with BOM, for Excel) or, for a ``.xlsx`` name, a workbook. Text from the imported
    file (a heading, a sheet name) is written like any exported text: never as a formula.

    Raises:
        KnownError: the file cannot be written.
    """
    head = [_("Lembar/berkas"), _("Baris"), _("Kolom"), _("Judul kolom"), _("Isian"), _("Pesan")]
    lines = [[_printable(e.source), e.row, e.letter, _printable(e.header), _printable(e.column), _printable(
        _("Peringatan: {message}", message=e.message) if e.warning else e.message)] for e in errors]
    try:
        if out.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet(_("Kesalahan"))
            ws.append(xlsx_line(ws, head))
            for line in lines:
                ws.append(xlsx_line(ws, line))
            wb.save(out)
        else:
            with open(out, "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(csv_line(head))
                writer.writerows(csv_line("" if v is None else v for v in line) for line in lines)
    except OSError as exc:
        raise KnownError(_("Laporan kesalahan tidak bisa ditulis: {reason}", reason=exc.strerror or exc)) from exc


def _printable(text: str) -> str:
    """Text from the file (a heading, a value quoted in a message) without the control characters an XLSX
    cell cannot hold."""
    return "".join(c if c >= " " or c in "\t\n" else "\ufffd" for c in text)
