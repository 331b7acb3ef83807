"""The update prompt: a banner at the top of the main window, never a modal box.

Shown when the last sync's hello announced a newer release (``services.updates.offer``):
"Pembaruan tersedia" with the release notes and a download button. The download runs on a
thread of its own (the officer keeps working; the task manager's modal progress is not for
this), verified and staged by ``services.updates``; the result reaches the banner through a
queued signal on the GUI thread. It also tells the officer once when a new version failed to
start and the app went back to the previous one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolBar, QVBoxLayout, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services import updates
from desmig_desktop.services.update_install import UpdateConfig, take_notice
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.sync.controller import SyncController

log = logging.getLogger(__name__)
_MB = 1024 * 1024


class _FirstPaint(QObject):
    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self.callback: Callable[[], None] | None = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.callback is not None:
            callback, self.callback = self.callback, None
            watched.removeEventFilter(self)
            callback()
        return False


def on_first_paint(widget: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback`` once, when ``widget`` paints for the first time."""
    _FirstPaint(widget, callback)


class UpdateBanner(QFrame):
    """The prompt itself; ``refresh()`` re-reads what is on offer."""

    _delivered = Signal(object)  # a closure to run on the GUI thread
    wanted = Signal(bool)  # whether the banner has something to say (its tool bar follows)

    def __init__(self, ctx: AppContext, config: UpdateConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("update_banner")
        self.ctx = ctx
        self.config = config
        self.offer: updates.Offer | None = None
        self.dismissed: str | None = None
        self._cancel = threading.Event()
        self._worker: threading.Thread | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#update_banner { background: #fff4ce; border: 1px solid #e0c060; border-radius: 4px; }")
        self.title = QLabel()
        self.title.setObjectName("update_title")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.notes = QLabel()
        self.notes.setObjectName("update_notes")
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.message = QLabel()
        self.message.setObjectName("update_message")
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.download_button = QPushButton(_("&Unduh pembaruan"))
        self.download_button.setObjectName("update_download")
        self.later_button = QPushButton(_("&Nanti"))
        self.later_button.setObjectName("update_later")
        self.download_button.clicked.connect(self.start_download)
        self.later_button.clicked.connect(self.dismiss)
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.notes)
        text.addWidget(self.message)
        row = QHBoxLayout(self)
        row.addLayout(text, 1)
        row.addWidget(self.progress)
        row.addWidget(self.download_button)
        row.addWidget(self.later_button)
        self._delivered.connect(lambda fn: fn(), Qt.ConnectionType.QueuedConnection)
        self.destroyed.connect(self._cancel.set)

    # what to show ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the current offer (or hide); a running download keeps its own display."""
        if self._worker is not None:
            return
        self.offer = updates.offer(self.ctx.db, self.config)
        offer = self.offer
        if offer is None or (self.dismissed == offer.version and not offer.required):
            self._show(False)
            return
        self.title.setText(_("Pembaruan tersedia: Desmig versi {version} (sekarang {current})",
                             version=offer.version, current=self.config.version))
        self.notes.setText(offer.notes or _("(tanpa catatan rilis)"))
        self.notes.setVisible(True)
        if offer.staged:
            self._say(_("Pembaruan sudah diunduh dan diperiksa. Akan dipasang saat Desmig dibuka lagi."))
            self.download_button.hide()
            self.later_button.setText(_("&Tutup"))
        elif not offer.installable:
            self._say(_("Minta penginstal versi baru ke HQ."))
            self.download_button.hide()
        else:
            size = max(1, round(offer.size / _MB))
            self._say(_("Ukuran unduhan sekitar {mb} MB. Unduhan berjalan di latar belakang; data tetap bisa diisi.",
                        mb=size) + (" " + _("Versi ini sudah terlalu lama untuk sinkronisasi: data tetap aman di "
                                           "laptop, tetapi baru terkirim setelah pembaruan dipasang.")
                                    if offer.required else ""))
            self.download_button.show()
            self.download_button.setEnabled(True)
        self._show(True)

    def show_rollback(self, failed: str, restored: str) -> None:
        self.offer = None
        self.title.setText(_("Pembaruan gagal dibuka"))
        self.notes.hide()
        self._say(_("Versi {failed} tidak bisa dibuka di laptop ini, jadi Desmig kembali ke versi {restored}. "
                    "Data tidak berubah. Laporkan ke HQ.", failed=failed, restored=restored), error=True)
        self.download_button.hide()
        self.later_button.setText(_("&Tutup"))
        self._show(True)

    def on_cycle_finished(self, _outcome: object) -> None:
        self.refresh()  # the cycle's hello may have announced a release

    def _show(self, visible: bool) -> None:
        self.setVisible(visible)
        self.wanted.emit(visible)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #a00000;" if error else "")

    def dismiss(self) -> None:
        if self.offer is not None:
            self.dismissed = self.offer.version
        self._show(False)

    # download -------------------------------------------------------------------------------

    def start_download(self) -> bool:
        """Start the background download; False (with the reason shown) if it cannot start."""
        if self._worker is not None:
            return False
        try:
            plan = updates.plan_download(self.ctx.db, self.config)
        except KnownError as exc:
            self._say(str(exc), error=True)
            return False
        self.download_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self._say(_("Mengunduh pembaruan…"))
        self._worker = threading.Thread(target=self._download, args=(plan,), name="desmig-update", daemon=True)
        self._worker.start()
        return True

    def _download(self, plan: updates.DownloadPlan) -> None:  # worker thread: no widgets here
        def progress(done: int, total: int) -> None:
            self._delivered.emit(partial(self._on_progress, done, total))

        try:
            version = updates.download_and_stage(plan, self.config, progress=progress, cancel=self._cancel.is_set)
        except KnownError as exc:
            self._delivered.emit(partial(self._on_finished, None, exc))
        except Exception as exc:  # a bug: logged with its traceback, shown in words
            log.exception("update download failed unexpectedly")
            self._delivered.emit(partial(self._on_finished, None, exc))
        else:
            self._delivered.emit(partial(self._on_finished, version, None))

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(1000 * done / total) if total else 0)

    def _on_finished(self, version: str | None, error: BaseException | None) -> None:
        self._worker = None
        self.progress.hide()
        if error is not None:
            self.refresh()
            self._say(str(error) if isinstance(error, KnownError) else
                      _("Pembaruan gagal diunduh karena kesalahan tak terduga; rinciannya ada di log."), error=True)
            self.download_button.setText(_("&Coba lagi"))
            return
        self.refresh()

    def wait_for_download(self, timeout: float | None = None) -> None:
        """Tests: block until the worker thread ended (its result still needs the event loop)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)


def install_update_banner(window: MainWindow, ctx: AppContext, sync: SyncController) -> UpdateBanner | None:
    """Add the update banner to ``window`` (hidden until there is something to say); it looks
    again after every cycle of ``sync``, whose hello carries the announcement."""
    if ctx.updates is None:
        return None
    banner = UpdateBanner(ctx, ctx.updates, window)
    bar = QToolBar(_("Pembaruan"), window)
    bar.setObjectName("update_bar")
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.addWidget(banner)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    bar.setVisible(False)
    banner.wanted.connect(bar.setVisible)
    # A method of the banner, not a lambda: the connection ends with the banner (a window rebuilt
    # for a language switch takes its banner along; the controller lives on).
    sync.cycle_finished.connect(banner.on_cycle_finished)
    notice = take_notice(ctx.updates)
    if notice is not None:
        banner.show_rollback(*notice)
    else:
        banner.refresh()
    window.setProperty("update_banner", banner)
    return banner
