"""Import, export and demo data from the menus: ask what to do, then run it in the background."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from desmig_desktop.domain.i18n import _
from desmig_desktop.services.jobs import demo_job, export_job, import_job
from desmig_desktop.ui import dialogs

if TYPE_CHECKING:
    from desmig_desktop.ui.main_window import MainWindow

EXPORT_FORMATS = (("xlsx", ".xlsx"), ("csv", ""), ("jsonl", ".jsonl"))


def _format_label(fmt: str) -> str:
    return {"xlsx": _("Excel (.xlsx), satu lembar per jenis data"),
            "csv": _("CSV, satu folder berisi satu berkas per jenis data"),
            "jsonl": _("JSON lines (.jsonl), untuk cadangan/pindah laptop")}[fmt]


def file_dialog(parent: QWidget, title: str, *, save: bool, name_filter: str, directory: str = "") -> str | None:
    """A file chooser whose labels are in the app's language (Qt's own dialog would be English)."""
    dialog = QFileDialog(parent, title, directory or str(Path.home()), name_filter)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save else QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile if save else QFileDialog.FileMode.ExistingFile)
    dialog.setLabelText(QFileDialog.DialogLabel.LookIn, _("Lihat di:"))
    dialog.setLabelText(QFileDialog.DialogLabel.FileName, _("Nama berkas:"))
    dialog.setLabelText(QFileDialog.DialogLabel.FileType, _("Jenis berkas:"))
    dialog.setLabelText(QFileDialog.DialogLabel.Accept, _("Simpan") if save else _("Buka"))
    dialog.setLabelText(QFileDialog.DialogLabel.Reject, _("Batal"))
    if dialog.exec() and dialog.selectedFiles():
        return dialog.selectedFiles()[0]
    return None


def _buttons(dialog: QDialog, accept: str) -> QDialogButtonBox:
    box = QDialogButtonBox(dialog)
    box.addButton(accept, QDialogButtonBox.ButtonRole.AcceptRole)
    box.addButton(_("Batal"), QDialogButtonBox.ButtonRole.RejectRole)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def start_import(window: "MainWindow") -> bool:
    path = file_dialog(window, _("Pilih berkas untuk diimpor"), save=False,
                       name_filter=_("Data Desmig (*.jsonl *.csv *.xlsx)"))
    if not path:
        return False
    if not dialogs.confirm(window, _("Impor data"), _("Impor {name}?", name=Path(path).name), _("Impor"), _("Batal"),
                           detail=_("Semua baris diperiksa dulu. Bila ada satu baris yang salah, tidak ada yang "
                                    "disimpan dan baris yang salah disebutkan.")):
        return False
    return run_import(window, Path(path))


def run_import(window: "MainWindow", path: Path) -> bool:
    def done(result: dict[str, int]) -> None:
        window.on_data_changed()
        if result.get("warnings"):
            window.statusBar().showMessage(_("{count} data diimpor, {warnings} peringatan perlu diperiksa.",
                                             count=result["imported"], warnings=result["warnings"]), 8000)
        else:
            window.statusBar().showMessage(_("{count} data diimpor.", count=result["imported"]), 8000)

    return window.ctx.tasks.run(import_job(path), label=_("Mengimpor {name}…", name=path.name), parent=window,
                                on_done=done, on_cancelled=lambda: _cancelled(window))


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
        self.mask = QCheckBox(_("Samarkan NIK dan No. KK (untuk dibagikan)"), self)
        self.mask.setChecked(True)  # full NIKs only when asked for explicitly
        form.addRow("", self.mask)
        layout.addLayout(form)
        layout.addWidget(_buttons(self, _("Ekspor")))
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
        return self.format.currentData(), Path(self.path.text()).expanduser(), self.mask.isChecked()


def start_export(window: "MainWindow") -> bool:
    dialog = ExportDialog(window)
    if not dialog.exec():
        return False
    fmt, out, mask = dialog.choice()
    return run_export(window, fmt, out, mask)


def run_export(window: "MainWindow", fmt: str, out: Path, mask: bool = True) -> bool:
    def done(count: int) -> None:
        window.statusBar().showMessage(_("{count} data diekspor ke {path}.", count=count, path=out), 10000)

    return window.ctx.tasks.run(export_job(fmt, out, mask), label=_("Mengekspor data…"), parent=window,
                                on_done=done, on_cancelled=lambda: _cancelled(window))


class DemoDialog(QDialog):
    def __init__(self, villages: list[str], parent: QWidget | None = None) -> None:
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
        layout.addLayout(form)
        layout.addWidget(_buttons(self, _("Buat")))
        self.setMinimumWidth(460)


def start_demo(window: "MainWindow") -> bool:
    villages = window.villages()
    dialog = DemoDialog(villages, window)
    if not dialog.exec():
        return False
    return run_demo(window, dialog.count.value(), villages)


def run_demo(window: "MainWindow", households: int, villages: list[str], seed: int | None = None) -> bool:
    def done(count: Any) -> None:
        window.on_data_changed()
        window.statusBar().showMessage(_("{count} rumah tangga contoh dibuat.", count=count), 8000)

    job = demo_job(households, villages, seed=seed if seed is not None else random.randrange(1, 2**31))
    return window.ctx.tasks.run(job, label=_("Membuat {count} rumah tangga contoh…", count=households),
                                parent=window, on_done=done, on_cancelled=lambda: _cancelled(window))


def _cancelled(window: "MainWindow") -> None:
    window.statusBar().showMessage(_("Dibatalkan; tidak ada data yang berubah."), 8000)
