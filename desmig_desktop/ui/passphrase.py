"""The database passphrase in the GUI: choose one (first run, or an old plain database), unlock at
start, change it in the settings.

Policy and the opener holding the passphrase are ``services.database``'s; here are the dialogs.
The slow steps — creating a database (91k regions) or encrypting an existing plain one — run on
the task manager's worker behind its modal busy dialog (``TaskManager.run_modal``); the
connection the GUI keeps is opened afterwards on the GUI thread, because a connection belongs to
the thread that opened it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.database import (
    MIN_PASSPHRASE_LENGTH,
    DatabaseOpener,
    MakeOpener,
    WrongPassphrase,
    passphrase_problem,
    set_plaintext_allowed,
)
from desmig_desktop.services.handle import Database
from desmig_desktop.services.paths import Paths
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.taskman import BusyDialog, Report, TaskManager

log = logging.getLogger(__name__)
WARNING_BOX_STYLE = ("QLabel { background: #fff4e0; border: 1px solid #e0a030; border-radius: 4px; padding: 8px; }")


# slow opening --------------------------------------------------------------------------------


def _opened(db: Database, report: Report) -> None:
    """Nothing more to do: opening the database in the worker created, migrated or encrypted it."""


def open_slowly(make_opener: MakeOpener, passphrase: str | None, text: str,
                parent: QWidget | None = None) -> tuple[Database, DatabaseOpener]:
    """Create, migrate or encrypt the database behind a busy dialog, then open it on the GUI thread."""
    opener = DatabaseOpener(make_opener, passphrase)
    tasks = TaskManager(opener)  # the profile's own task manager comes once its database is open
    try:
        tasks.run_modal(_opened, label=text, parent=parent)
    finally:
        tasks.shutdown()
        tasks.deleteLater()
    return opener(), opener


def create_database(paths: Paths, make_opener: MakeOpener, passphrase: str | None,
                    parent: QWidget | None = None) -> tuple[Database, DatabaseOpener]:
    """The first run's database: encrypted with ``passphrase``, or plain when it is ``None`` (the officer's choice)."""
    if passphrase is None:
        set_plaintext_allowed(paths, True)
        log.info("the officer chose to store data without encryption")
    return open_slowly(make_opener, passphrase, _("Menyiapkan basis data di laptop ini…"), parent)


# widgets ----------------------------------------------------------------------------------


def _password_field(parent: QWidget, name: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMinimumWidth(260)
    return edit


def _show_problem(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


class _ShowTyping(QCheckBox):
    """"Show the passphrase": switches the given fields between hidden and visible typing."""

    def __init__(self, fields: list[QLineEdit], parent: QWidget) -> None:
        super().__init__(_("Tampilkan kata sandi"), parent)
        self._fields = fields
        self.toggled.connect(self._on_toggled)

    def _on_toggled(self, on: bool) -> None:
        for field in self._fields:
            field.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)


class PassphraseChooser(QWidget):
    """A new passphrase typed twice, the "cannot be recovered" warning, and the explicit plaintext option."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, allow_plaintext: bool = True) -> None:
        super().__init__(parent)
        self._allow_plaintext = allow_plaintext
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.warning = QLabel(_(
            "<b>Penting:</b> kata sandi ini mengunci semua data di laptop ini (NIK, No. KK, nomor HP). "
            "<b>Kata sandi yang terlupa tidak bisa dipulihkan</b> — tidak oleh pengawas, tidak juga oleh HQ — "
            "dan data yang belum terkirim ke server ikut hilang. Catat kata sandi ini dan simpan di tempat aman, "
            "terpisah dari laptop."), self)
        self.warning.setObjectName("passphrase_warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_BOX_STYLE)
        layout.addWidget(self.warning)
        form = QFormLayout()
        self.first = _password_field(self, "new_passphrase")
        self.second = _password_field(self, "repeat_passphrase")
        form.addRow(_("Kata sandi baru:"), self.first)
        form.addRow(_("Ulangi kata sandi:"), self.second)
        self.show_typing = _ShowTyping([self.first, self.second], self)
        form.addRow("", self.show_typing)
        layout.addLayout(form)
        hint = QLabel(_("Sedikitnya {count} karakter. Kalimat pendek yang mudah Anda ingat lebih baik daripada "
                        "kata acak yang harus ditulis di laptop.", count=MIN_PASSPHRASE_LENGTH), self)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.problem = dialogs.problem_label(self)
        layout.addWidget(self.problem)
        layout.addSpacing(10)
        self.plaintext = QCheckBox(_("Simpan tanpa enkripsi (tidak disarankan)"), self)
        self.plaintext.setObjectName("plaintext")
        self.plaintext.setVisible(allow_plaintext)
        layout.addWidget(self.plaintext)
        self.plaintext_warning = QLabel(_(
            "Tanpa enkripsi, siapa pun yang memegang laptop ini — atau salinan berkasnya — bisa membaca NIK, No. KK "
            "dan nomor HP semua keluarga yang Anda data. Pilih ini hanya untuk latihan dengan data contoh."), self)
        self.plaintext_warning.setWordWrap(True)
        self.plaintext_warning.setStyleSheet(dialogs.ERROR_STYLE)
        self.plaintext_warning.hide()
        layout.addWidget(self.plaintext_warning)
        layout.addStretch(1)
        for edit in (self.first, self.second):
            edit.textChanged.connect(self._on_typed)
        self.plaintext.toggled.connect(self._on_plaintext_toggled)

    def _on_typed(self) -> None:
        _show_problem(self.problem, "")
        self.changed.emit()

    def _on_plaintext_toggled(self, on: bool) -> None:
        for widget in (self.first, self.second, self.show_typing):
            widget.setEnabled(not on)
        self.plaintext_warning.setVisible(on)
        _show_problem(self.problem, "")
        self.changed.emit()

    def plaintext_chosen(self) -> bool:
        return self._allow_plaintext and self.plaintext.isChecked()

    def filled(self) -> bool:
        return self.plaintext_chosen() or bool(self.first.text() and self.second.text())

    def passphrase(self) -> str | None:
        """The chosen passphrase; ``None`` when plaintext was chosen."""
        return None if self.plaintext_chosen() else self.first.text()

    def check(self) -> bool:
        """Show why the typed passphrase cannot be used (focusing the field to fix); True when it can."""
        if self.plaintext_chosen():
            return True
        problem = passphrase_problem(self.first.text(), self.second.text())
        _show_problem(self.problem, problem or "")
        if problem:
            target = self.first if len(self.first.text()) < MIN_PASSPHRASE_LENGTH else self.second
            target.selectAll()
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        return problem is None

    def show_problem(self, text: str) -> None:
        _show_problem(self.problem, text)

    def confirm_plaintext(self) -> bool:
        """The explicit second "yes" that storing personal data unencrypted needs."""
        return dialogs.confirm(self, _("Simpan tanpa enkripsi?"),
                               _("Data pribadi keluarga PMI akan tersimpan tanpa enkripsi di laptop ini."),
                               _("Ya, tanpa enkripsi"), _("Kembali"), destructive=True,
                               detail=_("Enkripsi bisa diaktifkan nanti di Pengaturan."))


class PassphrasePage(QWizardPage):
    """First-run wizard page: choose the passphrase; "Next" creates the database (no way back after)."""

    def __init__(self, wizard: QWidget, create: Callable[[str | None], None]) -> None:
        super().__init__(wizard)
        self._create = create
        self.setCommitPage(True)
        layout = QVBoxLayout(self)
        self.chooser = PassphraseChooser(self)
        layout.addWidget(self.chooser)
        self.chooser.changed.connect(self.completeChanged)

    def retranslate(self) -> None:
        self.setTitle(_("Kata sandi data"))
        self.setSubTitle(_("Data di laptop ini dienkripsi. Tentukan kata sandi yang akan diminta setiap kali "
                           "aplikasi dibuka."))

    def initializePage(self) -> None:
        self.chooser.first.setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:
        return self.chooser.filled()

    def validatePage(self) -> bool:
        if not self.chooser.check():
            return False
        if self.chooser.plaintext_chosen() and not self.chooser.confirm_plaintext():
            return False
        try:
            self._create(self.chooser.passphrase())
        except KnownError as exc:
            self.chooser.show_problem(str(exc))
            return False
        return True


class ChoosePassphraseDialog(QDialog):
    """At start, for a database made before encryption: choose its passphrase (or keep it plain, explicitly)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Desmigratif — enkripsi data"))
        layout = QVBoxLayout(self)
        intro = QLabel(_("Data di laptop ini belum dienkripsi. Tentukan kata sandi: data lalu dienkripsi "
                         "(sekali saja, beberapa detik) dan sejak itu kata sandi diminta setiap kali aplikasi "
                         "dibuka."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.chooser = PassphraseChooser(self)
        layout.addWidget(self.chooser)
        box = dialogs.button_box(self, _("Enkripsi dan buka"), _("Tutup aplikasi"))
        layout.addWidget(box)
        accept = box.buttons()[0]
        self.chooser.plaintext.toggled.connect(
            lambda plain: accept.setText(_("Buka tanpa enkripsi") if plain else _("Enkripsi dan buka")))
        self.setMinimumWidth(560)

    def accept(self) -> None:
        if not self.chooser.check():
            return
        if self.chooser.plaintext_chosen() and not self.chooser.confirm_plaintext():
            return
        super().accept()


class UnlockDialog(QDialog):
    """At start: the passphrase of the encrypted database, with why the last try failed."""

    def __init__(self, problem: str = "", parent: QWidget | None = None, *, profile: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Desmigratif — buka data"))
        layout = QVBoxLayout(self)
        if profile:  # several officers share the laptop: say whose data this passphrase opens
            who = QLabel(_("Profil: {name}", name=profile), self)
            who.setObjectName("profile_label")
            who.setStyleSheet("font-weight: bold;")
            layout.addWidget(who)
        intro = QLabel(_("Data di laptop ini dienkripsi. Ketik kata sandi untuk membukanya."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.problem = dialogs.problem_label(self)
        _show_problem(self.problem, problem)
        layout.addWidget(self.problem)
        form = QFormLayout()
        self.passphrase = _password_field(self, "passphrase")
        form.addRow(_("Kata sandi:"), self.passphrase)
        form.addRow("", _ShowTyping([self.passphrase], self))
        layout.addLayout(form)
        note = QLabel(_("Lupa kata sandi? Kata sandi tidak bisa dipulihkan. Data yang sudah terkirim ke server "
                        "tetap aman di server; hubungi pengawas Anda."), self)
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        layout.addWidget(note)
        box = dialogs.button_box(self, _("Buka"), _("Tutup aplikasi"))
        layout.addWidget(box)
        self.open_button = box.buttons()[0]
        self.open_button.setEnabled(False)
        self.passphrase.textChanged.connect(lambda text: self.open_button.setEnabled(bool(text)))
        self.setMinimumWidth(460)

    def ask(self) -> str | None:
        """Show the dialog; the typed passphrase, or ``None`` when the officer leaves."""
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)
        return self.passphrase.text() if self.exec() and self.passphrase.text() else None


class ChangePassphraseDialog(QDialog):
    """Settings → "Ganti kata sandi": the current passphrase and the new one twice."""

    def __init__(self, db: Database, opener: DatabaseOpener, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._opener = opener
        self.setWindowTitle(_("Ganti kata sandi"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.current = _password_field(self, "current_passphrase")
        form.addRow(_("Kata sandi sekarang:"), self.current)
        layout.addLayout(form)
        self.chooser = PassphraseChooser(self, allow_plaintext=False)
        layout.addWidget(self.chooser)
        self.problem = self.chooser.problem
        layout.addWidget(dialogs.button_box(self, _("Ganti kata sandi"), _("Batal")))
        self.current.textChanged.connect(lambda _t: _show_problem(self.problem, ""))
        self.setMinimumWidth(560)

    def accept(self) -> None:
        """Re-key the database; stays open with the reason when refused."""
        if not self.chooser.check():
            return
        # Re-keying rewrites every page (about 2 s for a typical laptop database) and must use the GUI
        # thread's own connection, so the busy note is painted first and the wait happens here.
        busy = BusyDialog(_("Mengganti kata sandi… Jangan tutup aplikasi."), self)
        busy.show()
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self._opener.change(self._db, self.current.text(), self.chooser.first.text())
        except KnownError as exc:
            _show_problem(self.problem, str(exc))
            field = self.current if isinstance(exc, WrongPassphrase) else self.chooser.first
            field.selectAll()
            field.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
            busy.finish()
        super().accept()
