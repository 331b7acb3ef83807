"""What sync adds to a main window: the menu, the status-bar indicator, login/logout and the inbox.

``install_sync(window, ctx, controller)`` runs for every main window (again after a language
switch rebuilds it), called by the composition root (``app.window_parts``) with the profile's one
``SyncController``; everything made here belongs to the window and goes with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from desmig_desktop.domain.i18n import _
from desmig_desktop.services import regions
from desmig_desktop.services.sync_service import LoginResult
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.sync.controller import Phase, SyncController
from desmig_desktop.ui.sync.inbox import ConflictsInbox
from desmig_desktop.ui.sync.indicator import SyncIndicator
from desmig_desktop.ui.sync.jobs import CycleOutcome
from desmig_desktop.ui.sync.login_dialog import LoginDialog

log = logging.getLogger(__name__)
SYNC_NOW_SHORTCUTS = ("F5", "Ctrl+Shift+S")


class SyncWindowPart(QObject):
    """The sync part of one main window."""

    def __init__(self, window: MainWindow, ctx: AppContext, controller: SyncController) -> None:
        super().__init__(window)
        self.setObjectName("sync_part")
        self.window = window
        self.ctx = ctx
        self.controller = controller
        self.login_dialog: LoginDialog | None = None
        self.inbox: ConflictsInbox | None = None
        menu = window.sync_menu
        self.sync_action = self._action(_("&Sinkronkan sekarang"), controller.sync_now,
                                        [QKeySequence(k) for k in SYNC_NOW_SHORTCUTS])
        self.inbox_action = self._action(_("&Konflik dan data ditolak…"), self.open_inbox)
        self.login_action = self._action(_("&Masuk ke server…"), lambda: self.open_login(""))
        self.logout_action = self._action(_("Keluar &dari server…"), self.logout)
        for action in (self.sync_action, self.inbox_action, None, self.login_action, self.logout_action):
            menu.addSeparator() if action is None else menu.addAction(action)
        self.indicator = SyncIndicator(controller, window)
        window.add_status_widget(self.indicator)
        # The indicator shows the pending count with the sync state; one place is enough.
        window.pending_label.hide()
        self.indicator.login_clicked.connect(lambda: self.open_login(""))
        self.indicator.retry_clicked.connect(controller.sync_now)
        self.indicator.inbox_clicked.connect(self.open_inbox)
        controller.changed.connect(self.update_actions)
        controller.login_requested.connect(self.open_login)
        controller.villages_changed.connect(self._on_villages_changed)
        controller.cycle_finished.connect(self._on_cycle_finished)
        self.update_actions()

    def _action(self, text: str, slot: Callable[[], Any], shortcuts: list[QKeySequence] | None = None) -> QAction:
        action = QAction(text, self.window)
        if shortcuts:
            action.setShortcuts(shortcuts)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)  # shortcuts work while the menu is closed
        return action

    def update_actions(self) -> None:
        view = self.controller.view()
        logged_in = view.phase is not Phase.LOGGED_OUT
        self.sync_action.setEnabled(view.phase is not Phase.SYNCING)
        self.login_action.setText(_("&Masuk lagi ke server…") if logged_in else _("&Masuk ke server…"))
        self.logout_action.setEnabled(logged_in and view.phase is not Phase.SYNCING)
        self.inbox_action.setText(_("&Konflik dan data ditolak ({count})…", count=view.conflicts + view.rejections)
                                  if view.conflicts + view.rejections else _("&Konflik dan data ditolak…"))
        if self.inbox is not None and self.inbox.isVisible() and not self.controller.running:
            self.inbox.reload()

    # login / logout ----------------------------------------------------------------------

    def open_login(self, reason: str) -> LoginDialog:
        if self.login_dialog is not None and self.login_dialog.isVisible():
            self.login_dialog.raise_()
            self.login_dialog.activateWindow()
            return self.login_dialog
        dialog = LoginDialog(self.ctx, reason=reason, parent=self.window)
        dialog.logged_in.connect(self._on_logged_in)
        dialog.finished.connect(dialog.deleteLater)
        self.login_dialog = dialog
        dialog.open()  # window-modal, not blocking the event loop (the login runs in the background)
        return dialog

    def _on_logged_in(self, result: LoginResult) -> None:
        self.controller.on_logged_in(result)
        self.login_dialog = None
        names = regions.names(self.ctx.db, result.scopes)
        villages = ", ".join(names.get(c, c) for c in result.scopes[:3]) + (" …" if len(result.scopes) > 3 else "")
        self.window.statusBar().showMessage(
            _("Masuk sebagai {user}. Desa tugas: {villages}.", user=result.username, villages=villages)
            if result.scopes else _("Masuk sebagai {user}.", user=result.username), 10000)

    def logout(self) -> bool:
        if not dialogs.confirm(self.window, _("Keluar dari server"),
                               _("Keluar dari server HQ di laptop ini?"), _("Keluar"), _("Batal"),
                               detail=_("Data tetap tersimpan di laptop. Perubahan yang belum terkirim dikirim "
                                        "setelah Anda masuk lagi.")):
            return False
        self.controller.logout(on_done=lambda: self.window.statusBar().showMessage(_("Anda sudah keluar dari server."),
                                                                                    8000))
        return True

    def _on_cycle_finished(self, outcome: CycleOutcome) -> None:
        if outcome.report is not None and outcome.report.warnings:  # e.g. the laptop's clock is far off
            self.window.statusBar().showMessage(outcome.report.warnings[0], 20000)

    def _on_villages_changed(self) -> None:
        self.window.statusBar().showMessage(_("Daftar desa tugas diperbarui dari server."), 8000)

    # inbox -------------------------------------------------------------------------------

    def open_inbox(self) -> ConflictsInbox:
        if self.inbox is None:
            self.inbox = ConflictsInbox(self.ctx, self.window)
            self.inbox.changed.connect(self._on_inbox_changed)
            self.inbox.open_household_requested.connect(self._open_household)
        else:
            self.inbox.reload()
        self.inbox.show()
        self.inbox.raise_()
        self.inbox.activateWindow()
        return self.inbox

    def _on_inbox_changed(self) -> None:
        # "Keep mine" and "resend" changed local records and added outbox ops: the list refresh
        # lets the controller notice the new ops (a sync follows once things are quiet).
        self.window.on_data_changed()
        self.controller.refresh()  # the open conflict counts
        for editor in self.window.editors():
            if not editor.dirty and not editor.is_new:
                editor.reload()

    def _open_household(self, household_id: str) -> None:
        if self.window.open_household(household_id) is not None:
            self.window.raise_()
            self.window.activateWindow()


def install_sync(window: MainWindow, ctx: AppContext, controller: SyncController) -> SyncWindowPart:
    """Give ``window`` its sync menu, indicator and dialogs, driven by ``controller``; start timed syncing."""
    controller.attach(window)
    part = SyncWindowPart(window, ctx, controller)
    controller.start()
    return part
