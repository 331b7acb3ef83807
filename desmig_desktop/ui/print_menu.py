"""Printing the household in the open form (Berkas → Cetak data rumah tangga, Ctrl+P) to a PDF.

What is printed is the saved household: a form with unsaved changes is saved first (after
asking), so the paper matches what the laptop holds. NIK and No. KK are masked unless the
officer unticks the option, as in exports.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.exchange import mask_option_label
from desmig_desktop.services.printing import printable_household
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.dialogs import file_dialog
from desmig_desktop.ui.household_pdf import write_household_pdf

if TYPE_CHECKING:
    from desmig_desktop.ui.main_window import MainWindow


def default_name(head_name: str, today: dt.date | None = None) -> str:
    safe = "-".join("".join(ch if ch.isalnum() else " " for ch in head_name.lower()).split()) or "rumah-tangga"
    return f"data-rumah-tangga-{safe}-{(today or dt.date.today()):%Y-%m-%d}.pdf"


class PrintDialog(QDialog):
    """Where to save the PDF and whether NIK and No. KK are masked (they are, unless unticked)."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("print_dialog")
        self.setWindowTitle(_("Cetak data rumah tangga"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        row = QHBoxLayout()
        self.path = QLineEdit(str(path), self)
        self.path.setObjectName("print_path")
        browse = QPushButton(_("Pilih…"), self)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow(_("Simpan ke:"), row)
        self.mask_box = QCheckBox(mask_option_label(), self)
        self.mask_box.setObjectName("print_mask")
        self.mask_box.setChecked(True)  # full NIKs only when asked for explicitly
        form.addRow("", self.mask_box)
        self.open_after = QCheckBox(_("Buka PDF setelah disimpan (untuk dicetak)"), self)
        self.open_after.setObjectName("print_open_after")
        self.open_after.setChecked(True)
        form.addRow("", self.open_after)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton(_("Simpan PDF"), self)
        cancel = QPushButton(_("Batal"), self)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        layout.addLayout(buttons)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.accept)
        cancel.clicked.connect(self.reject)
        browse.clicked.connect(self._browse)
        self.setMinimumWidth(560)

    def _browse(self) -> None:
        chosen = file_dialog(self, _("Simpan data rumah tangga sebagai"), save=True, name_filter=_("PDF (*.pdf)"),
                             directory=self.path.text())
        if chosen:
            self.path.setText(str(Path(chosen).with_suffix(".pdf")))

    def out(self) -> Path:
        return Path(self.path.text().strip()).expanduser().with_suffix(".pdf")


def start_print(window: MainWindow) -> PrintDialog | None:
    """Ask where (and whether to mask), then print the current form's household; None if nothing to print."""
    editor = window.current_editor()
    if editor is None:
        return None
    if editor.is_new or editor.dirty:
        if not dialogs.confirm(window, _("Cetak data rumah tangga"),
                               _("Yang dicetak adalah data yang tersimpan. Simpan dulu {title}?", title=editor.title()),
                               _("Simpan lalu cetak"), _("Batal")):
            return None
        if not editor.save():
            return None  # refused or waiting for warnings to be confirmed: the form shows why
    household_id = editor.household_id
    dialog = PrintDialog(Path.home() / default_name(editor.title()), window)
    dialog.accepted.connect(lambda: print_household(window, household_id, dialog.out(), mask=dialog.mask_box.isChecked(),
                                                    open_after=dialog.open_after.isChecked()))
    dialog.open()
    return dialog


def print_household(window: MainWindow, household_id: str, out: Path, *, mask: bool = True,
                    open_after: bool = False) -> bool:
    try:
        write_household_pdf(printable_household(window.db, household_id, mask=mask), out, masked=mask)
    except KnownError as exc:
        dialogs.show_error(window, exc)
        return False
    window.statusBar().showMessage(_("Data rumah tangga tersimpan di {path}.", path=out), 10000)
    if open_after:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(out)))
    return True
