"""File menu: "Cadangkan data…" (one encrypted, verified file, e.g. on a USB stick) and
"Pulihkan dari cadangan…" (checked, then swapped in when the app starts again)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.i18n import _
from desmig_desktop.services.backup import SUFFIX, BackupInfo, backup_job, default_name, restore_job
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.dialogs import file_dialog

if TYPE_CHECKING:
    from desmig_desktop.ui.main_window import MainWindow


def _filter() -> str:
    return _("Cadangan Desmig (*{suffix})", suffix=SUFFIX)


def start_backup(window: MainWindow) -> bool:
    suggested = str(Path.home() / default_name(window.db))
    path = file_dialog(window, _("Simpan cadangan sebagai"), save=True, name_filter=_filter(), directory=suggested)
    if not path:
        return False
    out = Path(path)
    if not out.name.endswith(SUFFIX):
        out = out.with_name(out.name + SUFFIX)

    def done(info: BackupInfo) -> None:
        dialogs.inform(window, _("Cadangan tersimpan"), _(
            "Cadangan sudah ditulis dan diperiksa: {path}\n{households} rumah tangga, {pending} perubahan belum"
            " terkirim. Berkas ini terkunci dengan kata sandi basis data.", path=info.path,
            households=info.households, pending=info.pending_ops))

    return window.ctx.tasks.run(backup_job(out), label=_("Mencadangkan data…"), parent=window, on_done=done)


class RestoreDialog(QDialog):
    """Which backup, and its passphrase; says plainly what happens to the current data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Pulihkan dari cadangan"))
        layout = QVBoxLayout(self)
        note = QLabel(_("Data di laptop ini akan diganti dengan isi cadangan. Data yang sekarang tidak dibuang: "
                        "disimpan sebagai desmig.db.before-restore di folder data. Setelah cadangan diperiksa, "
                        "aplikasi ditutup; buka lagi, lalu sinkronkan. Perubahan yang sudah sampai di HQ setelah "
                        "cadangan dibuat akan kembali lewat sinkronisasi."), self)
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        row = QHBoxLayout()
        self.path = QLineEdit(self)
        self.path.setObjectName("restore_path")
        self.path.setPlaceholderText(_("Pilih berkas cadangan (*{suffix})", suffix=SUFFIX))
        browse = QPushButton(_("Pilih…"), self)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow(_("Berkas cadangan:"), row)
        self.passphrase = QLineEdit(self)
        self.passphrase.setObjectName("restore_passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(_("Kata sandi cadangan:"), self.passphrase)
        layout.addLayout(form)
        box = dialogs.button_box(self, _("Periksa dan pulihkan"))
        self.accept_button = box.buttons()[0]
        layout.addWidget(box)
        browse.clicked.connect(self._browse)
        self.path.textChanged.connect(self._update)
        self._update()
        self.setMinimumWidth(560)

    def _browse(self) -> None:
        chosen = file_dialog(self, _("Pilih berkas cadangan"), save=False, name_filter=_filter())
        if chosen:
            self.path.setText(chosen)

    def _update(self) -> None:
        self.accept_button.setEnabled(bool(self.path.text().strip()))

    def choice(self) -> tuple[Path, str | None]:
        return Path(self.path.text().strip()).expanduser(), self.passphrase.text() or None


def start_restore(window: MainWindow) -> bool:
    dialog = RestoreDialog(window)
    if not dialog.exec():
        return False
    path, passphrase = dialog.choice()
    return run_restore(window, path, passphrase)


def run_restore(window: MainWindow, path: Path, passphrase: str | None) -> bool:
    def done(info: BackupInfo) -> None:
        dialogs.inform(window, _("Cadangan siap dipulihkan"), _(
            "Cadangan sudah diperiksa: {households} rumah tangga, {pending} perubahan belum terkirim. Aplikasi "
            "sekarang ditutup; bukalah lagi untuk memakai data yang dipulihkan, lalu sinkronkan.",
            households=info.households, pending=info.pending_ops))
        window.close()

    return window.ctx.tasks.run(restore_job(window.ctx.paths, path, passphrase), label=_("Memeriksa cadangan…"),
                                parent=window, on_done=done)
