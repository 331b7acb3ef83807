"""Writing the dashboard's table to XLSX or CSV, as a background job (no Qt here).

The job gets plain data — the headers and rows exactly as shown — so the worker never reads
the database. The file is written beside its target and renamed into place, so a failure leaves
no half-written file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from desmig_desktop.domain import sheetcell
from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.handle import Database

Progress = Callable[[int, int], bool]
MONEY_FORMAT = '"Rp" #,##0'


@dataclass(frozen=True)
class TableExport:
    title: str  # e.g. "Laporan per desa — Kedungreja, Cilacap"
    headers: list[str]
    rows: list[list[Any]]
    money_columns: frozenset[int] = frozenset()  # 0-based column numbers holding rupiah
    total_row: list[Any] | None = None  # the figures of the whole area, last


def write_csv(table: TableExport, out: Path) -> int:
    """Comma-separated, UTF-8 with a BOM (Excel then reads the accents); numbers unformatted, text never a formula."""
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([sheetcell.csv_text(h) for h in table.headers])
        writer.writerows([[sheetcell.csv_text("" if v is None else v) for v in row] for row in _all_rows(table)])
    return len(table.rows)


def write_xlsx(table: TableExport, out: Path) -> int:
    """One sheet: a title line, the bold header (frozen), the rows, the bold total; rupiah formatted."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = cast(Worksheet, wb.active)  # a new Workbook starts with one worksheet, the active one
    ws.title = _("Laporan")
    ws.append([table.title])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append(table.headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "C3"
    for row in _all_rows(table):
        ws.append(row)
    for line in ws.iter_rows():
        for cell in line:  # a region name or title is text, never a formula
            sheetcell.keep_as_text(cell)
    if table.total_row is not None:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    for column in table.money_columns:
        for (cell,) in ws.iter_rows(min_row=3, min_col=column + 1, max_col=column + 1):
            cell.number_format = MONEY_FORMAT
    for n, header in enumerate(table.headers):
        cells = [header, *(row[n] for row in _all_rows(table))]
        width = max(len(f"{v:,}") if isinstance(v, int) else len(str(v or "")) for v in cells)
        ws.column_dimensions[get_column_letter(n + 1)].width = min(45, width + 4)
    wb.save(out)
    return len(table.rows)


def _all_rows(table: TableExport) -> list[list[Any]]:
    return [*table.rows, *([table.total_row] if table.total_row is not None else [])]


WRITERS = {"xlsx": write_xlsx, "csv": write_csv}


def export_table_job(table: TableExport, fmt: str, out: Path) -> Callable[[Any, Progress], int]:
    """A task-manager job writing ``table`` to ``out``; returns how many region rows were written."""

    def run(_db: Database, progress: Progress) -> int:
        tmp = out.with_name(out.name + ".part")
        try:
            written = WRITERS[fmt](table, tmp)
            tmp.replace(out)
        except OSError as exc:
            raise KnownError(_("Tidak bisa menulis berkas ekspor: {reason}", reason=exc.strerror or exc)) from exc
        finally:
            tmp.unlink(missing_ok=True)
        progress(written, written)
        return written

    return run
