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

from PySide6.QtCore import QLocale, QObject, QtMsgType, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox

from desmig_desktop.domain.i18n import _, set_language
from desmig_desktop.services import drafts as draft_store
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.store.db import PassphraseRequired, WrongPassphrase
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.setup import FirstRunWizard, needs_setup
from desmig_desktop.ui.taskman import TaskManager

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

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.window: MainWindow | None = None

    def show_main(self, *, offer_drafts: bool = True) -> MainWindow:
        window = MainWindow(self.ctx)
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
        window.restore_drafts([d for d in draft_store.load_drafts(self.ctx.paths.drafts) if d.key in dirty])
        for household_id in clean:
            window.open_household(household_id)
        window.tabs.setCurrentIndex(0)

    def excepthook(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        error.__traceback__ = tb
        dialogs.show_error(self.window, error)


Opener = Callable[[], Any]


def ask_passphrase(problem: str) -> str | None:
    """Ask for the database passphrase (hidden typing); None if the officer cancels."""
    dialog = QInputDialog()
    dialog.setWindowTitle(_("Desmigratif"))
    dialog.setLabelText((problem + "\n\n" if problem else "") + _("Kata sandi basis data:"))
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    dialog.setOkButtonText(_("Buka"))
    dialog.setCancelButtonText(_("Batal"))
    return dialog.textValue() if dialog.exec() and dialog.textValue() else None


def open_database(make_opener: Callable[[str | None], Opener], passphrase: str | None, *,
                  ask: Callable[[str], str | None] = ask_passphrase) -> tuple[Any, Opener] | None:
    """Open the database, asking for the passphrase while it is missing or wrong; None if the officer gives up."""
    while True:
        opener = make_opener(passphrase)
        try:
            return opener(), opener
        except (PassphraseRequired, WrongPassphrase) as exc:
            problem = str(exc) if passphrase is not None else ""
        passphrase = ask(problem)
        if passphrase is None:
            return None


def run(paths: Paths, make_opener: Callable[[str | None], Opener], qt_args: list[str], *,
        passphrase: str | None = None) -> int:
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
    try:
        opened = open_database(make_opener, passphrase)
    except Exception as exc:
        log.exception("database could not be opened")
        box = QMessageBox(QMessageBox.Icon.Critical, _("Desmigratif"), dialogs.error_text(exc))
        box.addButton(_("Tutup"), QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        return 1
    if opened is None:
        return 1
    db, open_db = opened
    set_language(settings.get(db, "language", "id") or "id")
    if needs_setup(db) and not FirstRunWizard(db).exec():
        return 0
    tasks = TaskManager(open_db)
    shell = Shell(AppContext(db, paths, tasks))
    previous_hook = sys.excepthook
    sys.excepthook = shell.excepthook
    try:
        shell.show_main()
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook
        tasks.shutdown()
        db.close()
        log.info("GUI closed")
