"""Message boxes with Indonesian/English buttons, and the one ``show_error`` helper.

Call them as ``dialogs.confirm(...)`` / ``dialogs.show_error(...)`` (module attribute lookup) so
tests can replace them. Button texts are always ours: Qt's standard buttons would show English
words in the Indonesian UI.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QFileDialog, QLabel, QMessageBox, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError

log = logging.getLogger(__name__)
LOG_FILE_PROPERTY = "desmig_log_file"
# The one red of the app: field errors, a dialog's problem line, warnings about data at risk.
ERROR_STYLE = "color: #b00020;"


def error_text(error: BaseException | str) -> str:
    """Words an officer understands for ``error``; a bug gets a generic sentence (details go to the log)."""
    if isinstance(error, str):
        return error
    if isinstance(error, KnownError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return _("Berkas atau folder tidak bisa dipakai: {reason}", reason=error.strerror)
    app = QApplication.instance()
    where = app.property(LOG_FILE_PROPERTY) if app is not None else None
    text = _("Terjadi kesalahan yang tidak terduga. Data yang sudah disimpan tetap aman.")
    if where:
        text += "\n" + _("Rinciannya dicatat di {path}.", path=where)
    return text


def show_error(parent: QWidget | None, error: BaseException | str, *, title: str | None = None) -> None:
    """Show ``error`` once (non-blocking); unexpected errors are logged with their traceback first."""
    if isinstance(error, BaseException):
        if getattr(error, "_desmig_shown", False):
            return
        with contextlib.suppress(AttributeError):  # an exception class with __slots__
            error._desmig_shown = True  # type: ignore[attr-defined]
        if not isinstance(error, (KnownError, OSError)):
            log.error("unexpected error shown to the officer", exc_info=(type(error), error, error.__traceback__))
        else:
            log.info("error shown to the officer: %s", error)
    box = QMessageBox(QMessageBox.Icon.Warning, title or _("Ada masalah"), error_text(error), parent=parent)
    box.addButton(_("Tutup"), QMessageBox.ButtonRole.AcceptRole)
    box.setObjectName("error_box")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()


def confirm(parent: QWidget | None, title: str, text: str, accept: str, reject: str, *,
            destructive: bool = False, detail: str = "") -> bool:
    """Ask a yes/no question with our own button words; Esc (and the default for destructive questions) is "no"."""
    box = QMessageBox(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question, title, text,
                      parent=parent)
    if detail:
        box.setInformativeText(detail)
    yes = box.addButton(accept, QMessageBox.ButtonRole.AcceptRole)
    no = box.addButton(reject, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no if destructive else yes)
    box.setEscapeButton(no)
    box.exec()
    return box.clickedButton() is yes


def button_box(dialog: QDialog, accept: str, reject: str | None = None) -> QDialogButtonBox:
    """A form dialog's two buttons in our words (``reject`` defaults to "Batal"), wired to its accept/reject.

    The accept button is ``box.buttons()[0]``, named ``accept_button`` and the default (Enter), as Qt makes
    the first accept button on show anyway.
    """
    box = QDialogButtonBox(dialog)
    ok = box.addButton(accept, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setObjectName("accept_button")
    ok.setDefault(True)
    box.addButton(_("Batal") if reject is None else reject, QDialogButtonBox.ButtonRole.RejectRole)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def problem_label(parent: QWidget, name: str = "problem") -> QLabel:
    """A dialog's hidden, red, word-wrapped line for what is wrong with its input (``setText`` + ``show``)."""
    label = QLabel(parent)
    label.setObjectName(name)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def inform(parent: QWidget | None, title: str, text: str) -> None:
    """A short blocking notice with one "Tutup" button."""
    box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
    box.addButton(_("Tutup"), QMessageBox.ButtonRole.AcceptRole)
    box.exec()


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
