"""The sync state in the status bar: a coloured dot, one line of plain words, and what to do next.

``describe(view)`` turns a ``SyncView`` into words (kept apart from the widget so every state is
easy to test); ``SyncIndicator`` shows them and offers the one sensible action — log in, try
again now, or open the conflicts inbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QToolButton, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.ui.sync.controller import Phase, SyncController, SyncView

TONES = {"ok": "#2e7d32", "busy": "#1565c0", "idle": "#8a8a8a", "warn": "#c77700", "error": "#c62828"}
# The actions read as links in the status bar: a raised button there looks like a warning.
LINK_STYLE = "QToolButton {{ color: {color}; font-weight: {weight}; text-decoration: underline; border: none; }}"


@dataclass(frozen=True)
class Looks:
    tone: str  # a key of TONES
    text: str
    tooltip: str
    action: str | None = None  # "login" | "retry" | None


def clock_text(moment: dt.datetime, today: dt.date | None = None) -> str:
    """``pukul 14.05`` today, ``12/05 14.05`` another day (local time)."""
    hhmm = _("{hour}.{minute}", hour=f"{moment.hour:02d}", minute=f"{moment.minute:02d}")
    if moment.date() == (today or dt.date.today()):
        return _("pukul {time}", time=hhmm)
    return f"{moment:%d/%m} {hhmm}"


def local_time(iso_utc: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone().replace(tzinfo=None)


def _pending(view: SyncView) -> str:
    return _("{count} perubahan belum terkirim", count=grouped(view.pending)) if view.pending else ""


def _join(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _lines(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def describe(view: SyncView, today: dt.date | None = None) -> Looks:
    """The indicator's words for ``view``; plain Bahasa Indonesia (or English), no error codes."""
    last = local_time(view.last_success) if view.last_success else None
    last_text = _("Terakhir tersinkron {when}.", when=clock_text(last, today)) if last else ""
    retry = _("Dicoba lagi otomatis {when}.", when=clock_text(view.retry_at, today)) if view.retry_at else ""
    account = _("Masuk sebagai {user} di {server}.", user=view.username, server=view.server_url) \
        if view.username and view.server_url else ""
    phase = view.phase
    if phase is Phase.SYNCING:
        if view.waiting:
            text = _("Sinkronisasi menunggu pekerjaan lain selesai…")
        elif view.total:
            text = _("Mengirim data: {done} dari {total}", done=grouped(view.done), total=grouped(view.total))
        elif view.done:
            text = _("Menerima data: {done}", done=grouped(view.done))
        else:
            text = _("Menyinkronkan…")
        return Looks("busy", text, _lines(_("Anda tetap bisa bekerja selama sinkronisasi berjalan."), account))
    if phase is Phase.LOGGED_OUT:
        return Looks("idle", _join(_("Belum masuk ke server"), _pending(view)),
                     _("Data tersimpan aman di laptop. Masuk ke server HQ untuk mengirimnya."), "login")
    if phase is Phase.NEVER_SYNCED:
        return Looks("idle", _join(_("Belum pernah sinkron"), _pending(view)),
                     _lines(account, _("Tekan F5 untuk sinkronisasi sekarang.")), None)
    if phase is Phase.SYNCED:
        text = _("Tersinkron {when}", when=clock_text(last, today)) if last else _("Tersinkron")
        tooltip = _lines(last_text, account, view.notice or "", *view.warnings)
        warned = _("{count} peringatan", count=len(view.warnings)) if view.warnings else ""
        return Looks("warn" if view.warnings else "ok", _join(text, _pending(view), warned), tooltip)
    if phase is Phase.OFFLINE:
        return Looks("warn", _join(_("Offline"), _pending(view)), _lines(view.message or "", retry, last_text), "retry")
    if phase is Phase.SERVER_ERROR:
        return Looks("warn", _join(_("Server sedang bermasalah"), _pending(view)),
                     _lines(view.message or "", retry, last_text), "retry")
    if phase is Phase.LOGIN_NEEDED:
        return Looks("error", _join(_("Perlu masuk lagi"), _pending(view)),
                     _lines(view.message or "", _("Data tetap aman di laptop.")), "login")
    if phase is Phase.FORBIDDEN:
        return Looks("error", _("Ditolak server, hubungi supervisor"), view.message or "", "retry")
    if phase is Phase.TOO_OLD:
        return Looks("error", _("Aplikasi terlalu lama, perbarui"),
                     _lines(view.message or "", _("Data tetap aman di laptop.")), None)
    return Looks("error", _join(_("Sinkronisasi gagal"), _pending(view)), _lines(view.message or "", retry), "retry")


class SyncIndicator(QWidget):
    """A permanent status-bar widget that follows one ``SyncController``."""

    login_clicked = Signal()
    retry_clicked = Signal()
    inbox_clicked = Signal()

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync_indicator")
        self._controller = controller
        self.looks: Looks | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 2, 0)
        layout.setSpacing(6)
        self.dot = QLabel(self)
        self.dot.setObjectName("sync_dot")
        self.dot.setFixedSize(10, 10)
        self.text = QLabel(self)
        self.text.setObjectName("sync_text")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("sync_progress")
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(80, 10)
        self.action_button = self._link("sync_action", TONES["busy"], "normal")
        self.action_button.clicked.connect(self._on_action)
        self.inbox_button = self._link("sync_inbox", TONES["warn"], "bold")
        self.inbox_button.clicked.connect(self.inbox_clicked)
        separator = QFrame(self)
        separator.setFrameShape(QFrame.Shape.VLine)
        separator.setFrameShadow(QFrame.Shadow.Sunken)
        for widget in (separator, self.dot, self.text, self.bar, self.action_button, self.inbox_button):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        controller.changed.connect(self.update_view)
        self.update_view()

    def _link(self, name: str, color: str, weight: str) -> QToolButton:
        """A flat button that looks like a link (the status bar has no room for a real button)."""
        button = QToolButton(self)
        button.setObjectName(name)
        button.setAutoRaise(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setStyleSheet(LINK_STYLE.format(color=color, weight=weight))
        return button

    def update_view(self) -> None:
        view = self._controller.view()
        looks = describe(view)
        self.looks = looks
        self.dot.setStyleSheet(f"background: {TONES[looks.tone]}; border-radius: 5px;")
        self.text.setText(looks.text)
        self.setToolTip(looks.tooltip)
        syncing = view.phase is Phase.SYNCING
        self.bar.setVisible(syncing)
        if syncing:
            self.bar.setRange(0, view.total if view.total else 0)  # no total yet: a busy bar
            if view.total:
                self.bar.setValue(min(view.done, view.total))
        self.action_button.setVisible(looks.action is not None)
        self.action_button.setText(_("Masuk…") if looks.action == "login" else _("Coba sekarang"))
        attention = view.conflicts + view.rejections
        self.inbox_button.setVisible(attention > 0)
        self.inbox_button.setText(_("{count} perlu diperiksa", count=grouped(attention)))
        self.inbox_button.setToolTip(_("Buka daftar konflik dan data yang ditolak server"))

    def _on_action(self) -> None:
        if self.looks is not None and self.looks.action == "login":
            self.login_clicked.emit()
        else:
            self.retry_clicked.emit()
