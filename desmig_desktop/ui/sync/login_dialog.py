"""Log in to the HQ server: address, user name, password — errors in plain words, never a freeze.

The login itself (register this laptop, then hello for the officer's villages) runs on the task
manager's worker; the dialog stays responsive and says what it is doing. On success it emits
``logged_in(LoginResult)`` and closes; the controller then makes the villages follow the server.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services import sync_service
from desmig_desktop.services.sync_service import ErrorKind, SyncError
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.dialogs import ERROR_STYLE, problem_label
from desmig_desktop.ui.sync.jobs import LoginFn, LoginOutcome, login_job

log = logging.getLogger(__name__)
NOTE_STYLE = "color: #555555;"


def login_error_text(error: KnownError) -> str:
    """Words for a failed login (the sync messages speak of data waiting to be sent; here nothing was)."""
    if isinstance(error, SyncError):
        if error.kind is ErrorKind.NETWORK:
            return _("Tidak bisa terhubung ke server. Periksa alamat server dan sambungan internet, lalu coba lagi.")
        if error.kind is ErrorKind.SERVER and error.status is not None and error.status >= 500:
            return _("Server sedang bermasalah. Coba lagi beberapa saat lagi.")
    return str(error)


class LoginDialog(QDialog):
    logged_in = Signal(object)  # LoginResult

    def __init__(self, ctx: AppContext, *, reason: str = "", login: LoginFn = sync_service.login,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("login_dialog")
        self.ctx = ctx
        self._login = login
        self.busy = False
        self.result_value: Any = None
        status = sync_service.sync_status(ctx.db)
        self.setWindowTitle(_("Masuk ke server HQ"))
        layout = QVBoxLayout(self)
        intro = QLabel(reason or _("Masuk dengan akun petugas dari HQ. Laptop ini lalu terdaftar untuk sinkronisasi."),
                       self)
        intro.setObjectName("login_reason")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.server = QLineEdit(status.server_url or "", self)
        self.server.setObjectName("login_server")
        self.server.setPlaceholderText(_("mis. https://desmig.kemnaker.go.id"))
        self.username = QLineEdit(status.username or "", self)
        self.username.setObjectName("login_username")
        self.password = QLineEdit(self)
        self.password.setObjectName("login_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(_("Alamat server:"), self.server)
        form.addRow(_("Nama pengguna:"), self.username)
        form.addRow(_("Kata sandi:"), self.password)
        layout.addLayout(form)
        self.message = problem_label(self, "login_message")  # _say sets its colour
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(self)
        self.login_button = self.buttons.addButton(_("Masuk"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.login_button.setObjectName("login_button")
        self.cancel_button = self.buttons.addButton(_("Batal"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        first_empty = next((w for w in (self.server, self.username) if not w.text()), self.password)
        first_empty.setFocus(Qt.FocusReason.OtherFocusReason)

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else NOTE_STYLE)
        self.message.show()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for widget in (self.server, self.username, self.password, self.login_button):
            widget.setEnabled(not busy)

    def submit(self) -> None:
        """Check the three fields, then log in in the background."""
        if self.busy:
            return
        server, user, password = self.server.text().strip(), self.username.text().strip(), self.password.text()
        missing = [w for w, v in ((self.server, server), (self.username, user), (self.password, password)) if not v]
        if missing:
            self._say(_("Isi alamat server, nama pengguna dan kata sandi."), error=True)
            missing[0].setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if "://" not in server:
            server = "https://" + server  # what an officer types from a letter: "desmig.kemnaker.go.id"
            self.server.setText(server)
        self._set_busy(True)
        self._say(_("Menghubungi server…"), error=False)
        log.info("login requested for %s", server)
        started = self.ctx.tasks.run_quietly(login_job(server, user, password, login=self._login),
                                             label=_("Masuk ke server…"), on_done=self._on_done)
        if not started:
            self._say(_("Menunggu pekerjaan lain selesai, lalu masuk…"), error=False)

    def _on_done(self, outcome: LoginOutcome) -> None:
        self._set_busy(False)
        if outcome.error is not None or outcome.result is None:
            error = outcome.error or KnownError(_("Gagal masuk."))
            log.info("login failed: %r", error)
            self._say(login_error_text(error), error=True)
            target = self.password if isinstance(error, SyncError) and error.kind is ErrorKind.AUTH else self.server
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            target.selectAll()
            return
        self.password.clear()
        self.result_value = outcome.result
        self.logged_in.emit(outcome.result)
        self.accept()

    def reject(self) -> None:
        if not self.busy:  # a login in flight finishes (and is kept) before the dialog may close
            super().reject()
