"""The dashboard's table: its columns (from the report definition), number formats, CSV and XLSX.

The page shows ``report_spec.TABLE_KEYS``; a download carries the same columns in the same order, then the
breakdowns the page draws as charts (UMKM classes, KBLI categories), and a "Jumlah" row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, cast

from desmig_desktop.domain import sheetcell
from desmig_desktop.domain.fields import KBLI_CATEGORY, UMKM_CLASS
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.report_spec import DOWNLOAD_EXTRA_KEYS, LEVEL_LABELS, METRIC, TABLE_KEYS, UMKM_UNKNOWN


@dataclass(frozen=True)
class Column:
    header: str
    path: tuple[str, ...]  # keys into a report row
    money: bool = False

    def value(self, row: dict[str, Any]) -> Any:
        value: Any = row
        for key in self.path:
            value = value.get(key) if isinstance(value, dict) else None
        return value


def shown_columns() -> list[Column]:
    """The figures of the page's table, after the region code and name."""
    return [Column(METRIC[k].label, (k,), METRIC[k].money) for k in TABLE_KEYS]


def download_columns() -> list[Column]:
    """The page's columns, then every breakdown the charts summarise."""
    extra = [Column(METRIC[k].label, (k,), METRIC[k].money) for k in DOWNLOAD_EXTRA_KEYS]
    extra += [Column(_("UMKM {label}", label=pick(c.label_id, c.label_en)), ("businesses_by_umkm", c.value))
              for c in UMKM_CLASS]
    extra.append(Column(_("UMKM tidak diketahui"), ("businesses_by_umkm", UMKM_UNKNOWN)))
    extra += [Column(_("Usaha KBLI {code}", code=c.value), ("businesses_by_kbli", c.value)) for c in KBLI_CATEGORY]
    return shown_columns() + extra


def _head(level: str) -> list[str]:
    return [_("Kode"), pick(*LEVEL_LABELS[level])]


def _lines(report: dict[str, Any], columns: list[Column]) -> list[list[Any]]:
    lines: list[list[Any]] = [_head(report["level"]) + [c.header for c in columns]]
    lines += [[r["code"], r["name"], *(c.value(r) for c in columns)] for r in report["rows"]]
    lines.append(["", _("Jumlah"), *(c.value(report["totals"]) for c in columns)])
    return lines


def to_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with BOM (Excel detects the encoding), text neutralised against formulas, like ``desmig export``."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in _lines(report, download_columns()):
        writer.writerow([sheetcell.csv_text("" if v is None else v) for v in line])
    return out.getvalue().encode("utf-8-sig")


def _append_text_safe(ws: Any, line: list[Any]) -> None:
    """Append a row whose text cells stay text (a name or title is never a formula when opened)."""
    ws.append(line)
    for cell in ws[ws.max_row]:
        sheetcell.keep_as_text(cell)


def to_xlsx(report: dict[str, Any], *, title: str, user: str) -> bytes:
    """Sheet "Rekap" (headers in row 1, totals last) and sheet "Keterangan" (what each column counts)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    columns = download_columns()
    wb = Workbook()
    ws = cast(Worksheet, wb.active)  # a new Workbook starts with one worksheet, the active one
    ws.title = _("Rekap")
    for line in _lines(report, columns):
        _append_text_safe(ws, line)
    bold = Font(bold=True)
    for cell in (*ws[1], *ws[ws.max_row]):
        cell.font = bold
    for index, column in enumerate(columns, start=3):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(12, min(28, len(column.header) + 2))
        for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = '"Rp" #,##0' if column.money else "#,##0"
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 15, 32
    ws.freeze_panes = "C2"
    notes = wb.create_sheet(_("Keterangan"))
    _append_text_safe(notes, [_("Wilayah"), title])
    _append_text_safe(notes, [_("Dibuat"), dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")])
    _append_text_safe(notes, [_("Oleh"), user])
    notes.append([])
    _append_text_safe(notes, [_("Kolom"), _("Cara menghitung")])
    for key in (*TABLE_KEYS, *DOWNLOAD_EXTRA_KEYS, "businesses_by_umkm", "businesses_by_kbli"):
        _append_text_safe(notes, [METRIC[key].label, METRIC[key].counted])
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 34, 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
