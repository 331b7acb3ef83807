"""What an import found, in the officer's words: every error and warning in a scrollable table.

One row per problem with the sheet (or CSV file), the row number, the column letter and the
column's title as written in the file — never the field key — and the message. The same list is
in the error file written beside the imported file; "Buka daftar kesalahan" opens it in the
spreadsheet program (``QDesktopServices.openUrl``). Shown without blocking (``open()``): the
officer can keep it beside the spreadsheet while fixing the rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.i18n import _
from desmig_desktop.services.import_rows import RowError

COLUMNS = ("kind", "source", "row", "letter", "header", "message")
_KEY_SUFFIX = re.compile(r"\s*\[[a-z_]+\]\s*$")  # an export's heading is "<title> [<key>]": the title is enough


def column_titles() -> list[str]:
    return [_("Jenis"), _("Lembar/berkas"), _("Baris"), _("Kolom"), _("Judul kolom"), _("Pesan")]


def cells(problem: RowError) -> list[str]:
    """One problem as the table shows it: the column's title from the file, never its key."""
    header = _KEY_SUFFIX.sub("", problem.header) or problem.header
    if not header and problem.column == "-":
        header = _("(seluruh baris)")
    return [_("Peringatan") if problem.warning else _("Kesalahan"), problem.source,
            "" if problem.row is None else str(problem.row), problem.letter, header, problem.message]


class ImportReportDialog(QDialog):
    """The outcome of one import: a summary line, the table of problems, the error file to open."""

    def __init__(self, summary: str, problems: Sequence[RowError], report: Path | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("import_report")
        self.setWindowTitle(_("Hasil impor"))
        self.report = report
        layout = QVBoxLayout(self)
        self.summary = QLabel(summary, self)
        self.summary.setObjectName("import_summary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.summary)
        self.table = QTableWidget(len(problems), len(COLUMNS), self)
        self.table.setObjectName("import_problems")
        self.table.setHorizontalHeaderLabels(column_titles())
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.table.setWordWrap(True)
        for n, problem in enumerate(problems):
            for column, text in enumerate(cells(problem)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if COLUMNS[column] == "row":
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(n, column, item)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        rows = self.table.verticalHeader()  # two lines a row, whatever the count (fitting 9,000 rows is slow)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(2 * self.fontMetrics().lineSpacing() + 8)
        layout.addWidget(self.table, 1)
        where = QLabel(_("Daftar lengkap juga tersimpan di {path}", path=report) if report is not None else
                       _("Daftar ini tidak bisa disimpan ke berkas (folder berkas impor tidak bisa ditulisi)."), self)
        where.setObjectName("import_report_path")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton(_("Buka daftar kesalahan"), self)
        self.open_button.setObjectName("open_import_report")
        self.open_button.setEnabled(report is not None)
        self.close_button = QPushButton(_("Tutup"), self)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.close_button.setDefault(True)
        self.open_button.clicked.connect(self.open_report)
        self.close_button.clicked.connect(self.accept)
        self.resize(900, 460)

    def open_report(self) -> bool:
        """The error file in the program the system opens it with (a spreadsheet for CSV/XLSX)."""
        return self.report is not None and QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report)))
