"""Starting the GUI: QApplication, logging of Qt messages and uncaught errors, wizard, main window.

``WINDOW_EXTENSIONS`` is the seam for other parts of the app (sync): each ``fn(window, ctx)``
runs whenever a main window is built (also after a language switch rebuilds it) and may add
actions to ``window.sync_menu`` and widgets via ``window.add_status_widget()``.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Any, Callable

from PySide6.QtCore import QLocale, QObject, Qt, QtMsgType, QTimer, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from desmig_desktop.domain.i18n import _, set_language
from desmig_desktop.services import drafts as draft_store
from desmig_desktop.services.database import needs_new_passphrase, set_plaintext_allowed
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.update_install import UpdateConfig, confirm_started
from desmig_desktop.store import settings
from desmig_desktop.store.db import PassphraseRequired, WrongPassphrase, is_encrypted
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.passphrase import (ChoosePassphraseDialog, DatabaseOpener, MakeOpener, UnlockDialog,
                                          create_database, open_slowly)
from desmig_desktop.ui.setup import FirstRunWizard, needs_setup
from desmig_desktop.ui.taskman import TaskManager
from desmig_desktop.ui.update_banner import on_first_paint

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")
WINDOW_EXTENSIONS: list[Callable[[MainWindow, AppContext], None]] = []
_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}


def _qt_message(kind: QtMsgType, context: Any, message: str) -> None:
    qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


class Shell(QObject):
    """Owns the main window; rebuilds it (keeping open forms) when the language changes."""

    def __init__(self, ctx: AppContext, opener: DatabaseOpener | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.opener = opener
        self.window: MainWindow | None = None

    def show_main(self, *, offer_drafts: bool = True) -> MainWindow:
        window = MainWindow(self.ctx, database_opener=self.opener)
        window.restart_requested.connect(self.rebuild)
        for extend in WINDOW_EXTENSIONS:
            extend(window, self.ctx)
        screen = window.screen().availableGeometry()
        if screen.width() <= 1440 or screen.height() <= 820:  # a modest laptop: use all of it
            window.setGeometry(screen)  # also right where no window manager maximizes
            window.showMaximized()
        else:
            window.resize(min(1400, screen.width() - 80), min(900, screen.height() - 80))
            window.show()
        self.window = window
        if offer_drafts:
            QTimer.singleShot(0, window.offer_drafts)
        return window

    def rebuild(self) -> None:
        old = self.window
        if old is None:
            return
        old.write_drafts()
        dirty = {e.household_id for e in old.editors() if e.dirty}
        clean = [e.household_id for e in old.editors() if not e.dirty and not e.is_new]
        window = self.show_main(offer_drafts=False)  # shown before the old one closes, or Qt would quit
        old.close()
        old.deleteLater()
        window.restore_drafts([d for d in draft_store.load_drafts(self.ctx.db) if d.key in dirty])
        for household_id in clean:
            window.open_household(household_id)
        window.tabs.setCurrentIndex(0)

    def excepthook(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        error.__traceback__ = tb
        dialogs.show_error(self.window, error)


def ask_passphrase(problem: str) -> str | None:
    """Ask for the database passphrase (hidden typing, with why the last try failed); None if the officer leaves."""
    return UnlockDialog(problem).ask()


def open_database(make_opener: MakeOpener, passphrase: str | None, *,
                  ask: Callable[[str], str | None] = ask_passphrase) -> tuple[Any, DatabaseOpener] | None:
    """Open the database, asking for the passphrase while it is missing or wrong; None if the officer gives up."""
    while True:
        opener = DatabaseOpener(make_opener, passphrase)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # deriving the key takes a moment
        try:
            return opener(), opener
        except (PassphraseRequired, WrongPassphrase) as exc:
            problem = str(exc) if passphrase is not None else ""
        finally:
            QGuiApplication.restoreOverrideCursor()
        passphrase = ask(problem)
        if passphrase is None:
            return None


def _has_database(paths: Paths) -> bool:
    return paths.database.exists() and paths.database.stat().st_size > 0


def start_database(paths: Paths, make_opener: MakeOpener,
                   passphrase: str | None) -> tuple[Any, DatabaseOpener] | None:
    """Open the database under the encryption policy; None if the officer leaves.

    A plain database the policy no longer allows is encrypted first (the officer chooses the
    passphrase, or explicitly keeps it plain). Creating or encrypting takes seconds: it runs behind
    a busy dialog.
    """
    if passphrase is None and needs_new_passphrase(paths):
        dialog = ChoosePassphraseDialog()
        if not dialog.exec():
            return None
        passphrase = dialog.chooser.passphrase()
        if passphrase is None:
            set_plaintext_allowed(paths, True)
    if not _has_database(paths):  # creating it loads 91k regions
        return open_slowly(make_opener, passphrase, _("Menyiapkan basis data di laptop ini…"))
    if passphrase is not None and not is_encrypted(paths.database):
        return open_slowly(make_opener, passphrase, _("Mengenkripsi data di laptop ini… Jangan matikan laptop."))
    return open_database(make_opener, passphrase)


def first_run(paths: Paths, make_opener: MakeOpener) -> tuple[Any, DatabaseOpener] | None:
    """A new install: the wizard, whose passphrase page creates the database; None if cancelled."""
    wizard: FirstRunWizard | None = None
    wizard = FirstRunWizard(None, create_database=lambda pw: create_database(paths, make_opener, pw, wizard))
    if wizard.exec():
        assert wizard.db is not None and wizard.opener is not None
        return wizard.db, wizard.opener
    if wizard.db is not None:  # cancelled after the database was made: the next start unlocks it
        wizard.db.close()
    return None


def run(paths: Paths, make_opener: MakeOpener, qt_args: list[str], *,
        passphrase: str | None = None, updates: UpdateConfig | None = None) -> int:
    """Run the app until the main window closes; returns the process exit code.

    ``make_opener(passphrase)`` returns the function that opens a database connection (used by
    the GUI thread now and by every background job later).
    """
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "desmig", *qt_args])
    assert isinstance(app, QApplication)
    app.setApplicationName("Desmig")
    app.setApplicationDisplayName("Desmigratif")
    app.setOrganizationName("Kemnaker")
    app.setProperty(dialogs.LOG_FILE_PROPERTY, str(paths.logs / "desmig.log"))
    # Numbers in Qt's own widgets (spin boxes) grouped the Indonesian way: 1.000, as our Rp amounts.
    QLocale.setDefault(QLocale(QLocale.Language.Indonesian, QLocale.Country.Indonesia))
    qInstallMessageHandler(_qt_message)
    new_install = passphrase is None and not _has_database(paths) and needs_new_passphrase(paths)
    try:
        opened = first_run(paths, make_opener) if new_install else start_database(paths, make_opener, passphrase)
    except Exception as exc:
        log.exception("database could not be opened")
        box = QMessageBox(QMessageBox.Icon.Critical, _("Desmigratif"), dialogs.error_text(exc))
        box.addButton(_("Tutup"), QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        return 1
    if opened is None:
        return 0 if new_install else 1
    db, opener = opened
    set_language(settings.get(db, "language", "id") or "id")
    if needs_setup(db) and not FirstRunWizard(db).exec():
        db.close()
        return 0
    tasks = TaskManager(opener)
    shell = Shell(AppContext(db, paths, tasks, updates), opener)
    previous_hook = sys.excepthook
    sys.excepthook = shell.excepthook
    try:
        window = shell.show_main()
        # This version started: its main window painted (update_install's trial ends here).
        on_first_paint(window, lambda: confirm_started(updates))
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook
        tasks.shutdown()
        db.close()
        log.info("GUI closed")
