"""The dashboard's "Laporan bulanan…" button: choose a month and a format, then the officer's
monthly report (``services.monthly_report``) is written as PDF (``ui.monthly_pdf``) or XLSX.

The month list is the last twelve months, the previous one first: a report is written after its
month ends. Everything is reachable by keyboard (Tab between the two lists, Enter accepts).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QWidget

from desmig_desktop.domain.i18n import _, get_language
from desmig_desktop.domain.report_period import month_period
from desmig_desktop.services.handle import Database
from desmig_desktop.services.monthly_report import month_name, monthly_report, output_format, write_xlsx
from desmig_desktop.ui.monthly_pdf import write_pdf

MONTHS_SHOWN = 12


def month_choices(today: dt.date) -> list[str]:
    """``YYYY-MM`` of the ``MONTHS_SHOWN`` months before ``today``'s, the previous month first, then this one."""
    year, month = today.year, today.month
    out = [f"{year:04d}-{month:02d}"]
    for _n in range(MONTHS_SHOWN):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        out.append(f"{year:04d}-{month:02d}")
    return [out[1], out[0], *out[2:]]


class MonthlyReportDialog(QDialog):
    """Which month, which format."""

    def __init__(self, parent: QWidget | None = None, today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Laporan bulanan"))
        form = QFormLayout(self)
        self.month_box = QComboBox(self)
        self.month_box.setObjectName("month_box")
        for month in month_choices(today or dt.date.today()):
            self.month_box.addItem(month_name(month_period(month)), month)
        self.format_box = QComboBox(self)
        self.format_box.setObjectName("format_box")
        self.format_box.addItem(_("PDF (untuk dicetak)"), ".pdf")
        self.format_box.addItem(_("Excel (XLSX)"), ".xlsx")
        form.addRow(_("Bulan:"), self.month_box)
        form.addRow(_("Format:"), self.format_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_("Buat laporan"))
        ok.setDefault(True)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Batal"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @property
    def month(self) -> str:
        return str(self.month_box.currentData())

    @property
    def suffix(self) -> str:
        return str(self.format_box.currentData())


def default_name(month: str, suffix: str) -> str:
    word = "monthly-report" if get_language() == "en" else "laporan-bulanan"
    return f"{word}-{month}{suffix}"


def write_monthly_report(db: Database, month: str, out: Path) -> None:
    """The report of ``month`` to ``out`` (its ending picks PDF or XLSX); ``KnownError`` when it
    cannot be written. On the GUI thread: one month of one officer's villages is a few queries."""
    kind = output_format(out)
    report = monthly_report(db, month)
    if kind == ".xlsx":
        write_xlsx(report, out)
    else:
        write_pdf(report, out)

