"""Import, export and demo data from the menus: ask what to do, then run it in the background."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.i18n import _
from desmig_desktop.services.exchange import default_report_path, mask_option_label
from desmig_desktop.services.import_rows import ImportFailed, RowError
from desmig_desktop.services.jobs import demo_job, export_job, import_job
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.dialogs import file_dialog
from desmig_desktop.ui.import_report import ImportReportDialog

if TYPE_CHECKING:
    from desmig_desktop.ui.main_window import MainWindow

EXPORT_FORMATS = (("xlsx", ".xlsx"), ("csv", ""), ("jsonl", ".jsonl"))


def _format_label(fmt: str) -> str:
    return {"xlsx": _("Excel (.xlsx), satu lembar per jenis data"),
            "csv": _("CSV, satu folder berisi satu berkas per jenis data"),
            "jsonl": _("JSON lines (.jsonl), untuk cadangan/pindah laptop")}[fmt]


def start_import(window: MainWindow) -> bool:
    path = file_dialog(window, _("Pilih berkas untuk diimpor"), save=False,
                       name_filter=_("Data Desmig (*.jsonl *.csv *.xlsx)"))
    if not path:
        return False
    if not dialogs.confirm(window, _("Impor data"), _("Impor {name}?", name=Path(path).name), _("Impor"), _("Batal"),
                           detail=_("Semua baris diperiksa dulu. Bila ada satu baris yang salah, tidak ada yang "
                                    "disimpan dan semua baris yang salah ditampilkan dalam satu daftar.")):
        return False
    return run_import(window, Path(path))


def report_path(window: MainWindow, path: Path) -> Path:
    """Where the list of an import's problems goes: beside the file (as ``desmig import`` does), or in
    the app's data folder when that folder cannot be written (a CD, a read-only share)."""
    beside = default_report_path(path)
    if os.access(beside.parent, os.W_OK):
        return beside
    return window.ctx.paths.root / beside.name


def run_import(window: MainWindow, path: Path) -> bool:
    report = report_path(window, path)

    def done(result: dict[str, Any]) -> None:
        window.on_data_changed()
        if result.get("warnings"):
            window.statusBar().showMessage(_("{count} data diimpor, {warnings} peringatan perlu diperiksa.",
                                             count=result["imported"], warnings=result["warnings"]), 8000)
            show_import_report(window, _("{count} data diimpor. {warnings} peringatan perlu diperiksa (data tetap "
                                         "diimpor).", count=result["imported"], warnings=result["warnings"]),
                               result.get("problems") or [], Path(result["report"]) if result.get("report") else None)
        else:
            window.statusBar().showMessage(_("{count} data diimpor.", count=result["imported"]), 8000)

    def failed(error: BaseException) -> bool:
        if not isinstance(error, ImportFailed):
            return False  # the file cannot be read at all: one message says why
        summary = _("Impor dibatalkan, tidak ada data yang disimpan: {errors} kesalahan, {warnings} peringatan. "
                    "Perbaiki baris-baris ini di berkas, lalu impor lagi.",
                    errors=len(error.errors), warnings=len(error.warnings))
        show_import_report(window, summary, [*error.errors, *error.warnings], error.report)
        return True

    return window.ctx.tasks.run(import_job(path, report=report, gui=True), label=_("Mengimpor {name}…", name=path.name),
                                parent=window, on_done=done, on_cancelled=lambda: _cancelled(window), on_failed=failed)


def show_import_report(window: MainWindow, summary: str, problems: list[RowError],
                       report: Path | None) -> ImportReportDialog:
    """The import's outcome beside the main window (not blocking it)."""
    dialog = ImportReportDialog(summary, problems, report, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.open()
    dialog.table.setFocus()
    return dialog


class ExportDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Ekspor data"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.format = QComboBox(self)
        for fmt, _suffix in EXPORT_FORMATS:
            self.format.addItem(_format_label(fmt), fmt)
        form.addRow(_("Format:"), self.format)
        row = QHBoxLayout()
        self.path = QLineEdit(str(Path.home() / "desmig-ekspor.xlsx"), self)
        browse = QPushButton(_("Pilih…"), self)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow(_("Simpan ke:"), row)
        self.mask_box = QCheckBox(mask_option_label(), self)
        self.mask_box.setChecked(True)  # full NIKs only when asked for explicitly
        form.addRow("", self.mask_box)
        layout.addLayout(form)
        layout.addWidget(dialogs.button_box(self, _("Ekspor")))
        browse.clicked.connect(self._browse)
        self.format.currentIndexChanged.connect(self._fix_suffix)
        self.setMinimumWidth(560)

    def _fix_suffix(self) -> None:
        suffix = dict(EXPORT_FORMATS)[self.format.currentData()]
        path = Path(self.path.text() or str(Path.home() / "desmig-ekspor"))
        self.path.setText(str(path.with_suffix(suffix)))

    def _browse(self) -> None:
        chosen = file_dialog(self, _("Simpan ekspor sebagai"), save=True, name_filter=_("Semua berkas (*)"),
                             directory=str(Path(self.path.text()).parent))
        if chosen:
            self.path.setText(chosen)
            self._fix_suffix()

    def choice(self) -> tuple[str, Path, bool]:
        return self.format.currentData(), Path(self.path.text()).expanduser(), self.mask_box.isChecked()


def start_export(window: MainWindow) -> bool:
    dialog = ExportDialog(window)
    if not dialog.exec():
        return False
    fmt, out, mask = dialog.choice()
    return run_export(window, fmt, out, mask)


def run_export(window: MainWindow, fmt: str, out: Path, mask: bool = True) -> bool:
    def done(count: int) -> None:
        window.statusBar().showMessage(_("{count} data diekspor ke {path}.", count=count, path=out), 10000)

    return window.ctx.tasks.run(export_job(fmt, out, mask), label=_("Mengekspor data…"), parent=window,
                                on_done=done, on_cancelled=lambda: _cancelled(window))


DEMO_CONFIRM_WORD = "CONTOH"  # typed to make demo data outside a training profile


class DemoDialog(QDialog):
    """How many demo households to make. Never one Enter away: "Batal" is the default button and,
    outside a training profile (``desmig gui --training``), "Buat" stays disabled until the officer
    types CONTOH (Enter in that box then creates)."""

    def __init__(self, villages: list[str], parent: QWidget | None = None, *, training: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Buat data contoh"))
        layout = QVBoxLayout(self)
        note = QLabel(_("Data contoh adalah data rekaan untuk latihan. Data ini tersimpan seperti data asli dan "
                        "ikut terkirim saat sinkronisasi, jadi jangan dibuat di laptop lapangan."), self)
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.count = QSpinBox(self)
        self.count.setRange(1, 100_000)
        self.count.setValue(100)
        self.count.setGroupSeparatorShown(True)
        form.addRow(_("Jumlah rumah tangga:"), self.count)
        where = _("desa tugas Anda ({count} desa)", count=len(villages)) if villages else _("desa acak di provinsi pengirim PMI")
        form.addRow(_("Lokasi:"), QLabel(where, self))
        self.confirm_word: QLineEdit | None = None
        if not training:
            self.confirm_word = QLineEdit(self)
            self.confirm_word.setObjectName("demo_confirm")
            self.confirm_word.setPlaceholderText(DEMO_CONFIRM_WORD)
            form.addRow(_("Ketik {word} untuk melanjutkan:", word=DEMO_CONFIRM_WORD), self.confirm_word)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        self.create_button = QPushButton(_("Buat"), self)
        self.create_button.setObjectName("demo_create")
        self.cancel_button = QPushButton(_("Batal"), self)
        row.addWidget(self.create_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.create_button.clicked.connect(self.accept)
        self.cancel_button.clicked.connect(self.reject)
        if self.confirm_word is not None:
            self.confirm_word.textChanged.connect(lambda _t: self._update_create())
            self.confirm_word.setFocus()
        self._update_create()
        self.setMinimumWidth(460)

    def confirmed(self) -> bool:
        return self.confirm_word is None or self.confirm_word.text().strip().upper() == DEMO_CONFIRM_WORD

    def _update_create(self) -> None:
        """"Buat" is enabled once confirmed, and the default (Enter) only right after the typed word."""
        typed = self.confirm_word is not None and self.confirmed()
        self.create_button.setEnabled(self.confirmed())
        self.create_button.setDefault(typed)
        self.cancel_button.setDefault(not typed)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.confirm_word is not None \
                and self.focusWidget() is self.confirm_word and not self.confirmed():
            event.accept()  # an unfinished word: Enter neither creates nor cancels
            return
        super().keyPressEvent(event)

    def accept(self) -> None:
        if self.confirmed():
            super().accept()


def start_demo(window: MainWindow) -> bool:
    villages = window.villages()
    dialog = DemoDialog(villages, window, training=window.ctx.training)
    if not dialog.exec():
        return False
    return run_demo(window, dialog.count.value(), villages)


def run_demo(window: MainWindow, households: int, villages: list[str], seed: int | None = None) -> bool:
    def done(count: Any) -> None:
        window.on_data_changed()
        window.statusBar().showMessage(_("{count} rumah tangga contoh dibuat.", count=count), 8000)

    job = demo_job(households, villages, seed=seed if seed is not None else random.randrange(1, 2**31))
    return window.ctx.tasks.run(job, label=_("Membuat {count} rumah tangga contoh…", count=households),
                                parent=window, on_done=done, on_cancelled=lambda: _cancelled(window))


def _cancelled(window: MainWindow) -> None:
    window.statusBar().showMessage(_("Dibatalkan; tidak ada data yang berubah."), 8000)
