"""Starting the GUI: QApplication, logging of Qt messages and uncaught errors, wizard, main window.

The composition root (``app.run_gui``) hands in the window's other parts (sync, the update
banner) as ``parts``: ``parts(ctx)`` runs once per opened profile and returns the function that
fits them into each main window built for it (again after a language switch rebuilds the
window); it may add actions to ``window.sync_menu`` and widgets via ``window.add_status_widget()``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QObject, Qt, QTimer, QtMsgType, Signal, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from desmig_desktop.domain.i18n import _, set_language
from desmig_desktop.services import drafts as draft_store
from desmig_desktop.services.backup import apply_pending as apply_pending_restore
from desmig_desktop.services.database import (
    DatabaseOpener,
    MakeOpener,
    PassphraseRequired,
    WrongPassphrase,
    database_encrypted,
    database_exists,
    needs_new_passphrase,
    set_plaintext_allowed,
)
from desmig_desktop.services.handle import Database
from desmig_desktop.services.paths import Paths, setup_logging
from desmig_desktop.services.profiles import ProfileHome
from desmig_desktop.services.profiles import remember as remember_profile
from desmig_desktop.services.settings import language
from desmig_desktop.services.update_install import UpdateConfig, confirm_started
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.passphrase import ChoosePassphraseDialog, UnlockDialog, create_database, open_slowly
from desmig_desktop.ui.profile_chooser import NEW_PROFILE, NewProfileDialog, ProfileChooser
from desmig_desktop.ui.setup import FirstRunWizard, needs_setup
from desmig_desktop.ui.taskman import TaskManager
from desmig_desktop.ui.update_banner import on_first_paint

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")
MakeOpenerFor = Callable[[Paths], MakeOpener]
FitParts = Callable[[MainWindow], None]  # adds the parts to one main window
WindowParts = Callable[[AppContext], FitParts]  # made once per opened profile (see the module doc)
_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}


def _qt_message(kind: QtMsgType, context: Any, message: str) -> None:
    qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


class Shell(QObject):
    """Owns the open profile's main window; rebuilds it (keeping open forms) when the language changes.

    With ``profiles`` (the laptop's profile home) it also switches profiles: "Ganti profil…" closes
    the open one cleanly — forms kept as drafts, sync stopped, background work cancelled and waited
    for, database closed — then shows the chooser; the next profile opens only with its own
    passphrase. ``left`` fires when the officer leaves the chooser instead (the app then quits).
    """

    left = Signal()

    def __init__(self, ctx: AppContext | None, opener: DatabaseOpener | None = None, *,
                 profiles: ProfileHome | None = None, make_opener_for: MakeOpenerFor | None = None,
                 parts: WindowParts | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.opener = opener
        self.parts = parts
        self._fit_parts: FitParts | None = None  # ``parts(ctx)`` of the open profile
        self.window: MainWindow | None = None
        self.profiles = profiles
        self.make_opener_for = make_opener_for
        self.profile_name: str | None = None
        self.on_list_painted: Callable[[int], None] | None = None  # ``desmig gui --smoke-exit``
        self.training = False  # ``desmig gui --training``
        self.updates: UpdateConfig | None = None  # how the app updates itself (the banner)

    def show_main(self, *, offer_drafts: bool = True) -> MainWindow:
        assert self.ctx is not None
        window = MainWindow(self.ctx, database_opener=self.opener)
        window.restart_requested.connect(self.rebuild)
        if self.profiles is not None:
            window.switch_profile_action.setVisible(True)
            window.switch_profile_requested.connect(self.request_switch)
        if self.parts is not None:
            if self._fit_parts is None:
                self._fit_parts = self.parts(self.ctx)
            self._fit_parts(window)
        screen = window.screen().availableGeometry()
        if screen.width() <= 1440 or screen.height() <= 820:  # a modest laptop: use all of it
            window.setGeometry(screen)  # also right where no window manager maximizes
            window.showMaximized()
        else:
            window.resize(min(1400, screen.width() - 80), min(900, screen.height() - 80))
            window.show()
        self.window = window
        if self.on_list_painted is not None:
            _ListPaintedWatch(window, self.on_list_painted)
        if offer_drafts:  # not if the profile was closed (switched) before the timer fired
            QTimer.singleShot(0, lambda: self.window is window and window.offer_drafts())
        return window

    def rebuild(self) -> None:
        old = self.window
        if old is None or self.ctx is None:
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

    # profiles ----------------------------------------------------------------------------

    def open_profile(self, paths: Paths, passphrase: str | None = None, *, label: str = "") -> int | None:
        """Open the profile at ``paths`` and show its window: None when open, else the exit code of giving up.

        ``label`` names the profile in the passphrase dialog (several officers share the laptop).
        """
        assert self.ctx is None and self.make_opener_for is not None
        make_opener = self.make_opener_for(paths)
        paths.ensure()
        apply_pending_restore(paths)  # a restore staged from the menu, before anything looks at the database
        setup_logging(paths, logging.getLogger().level or logging.INFO)  # each profile logs into its own folder
        app = QApplication.instance()
        if app is not None:
            app.setProperty(dialogs.LOG_FILE_PROPERTY, str(paths.logs / "desmig.log"))
        new_install = passphrase is None and not database_exists(paths) and needs_new_passphrase(paths)
        try:
            if new_install:
                opened = first_run(paths, make_opener)
            else:
                opened = start_database(paths, make_opener, passphrase,
                                        ask=lambda problem: UnlockDialog(problem, profile=label).ask())
        except Exception as exc:
            log.exception("database could not be opened")
            box = QMessageBox(QMessageBox.Icon.Critical, _("Desmigratif"), dialogs.error_text(exc))
            box.addButton(_("Tutup"), QMessageBox.ButtonRole.AcceptRole)
            box.exec()
            return 1
        if opened is None:
            return 0 if new_install else 1
        db, opener = opened
        set_language(language(db))
        if needs_setup(db) and not FirstRunWizard(db).exec():
            db.close()
            return 0
        self.ctx = AppContext(db, paths, TaskManager(opener), training=self.training, updates=self.updates)
        self.opener = opener
        if self.profiles is not None:
            remember_profile(paths, db)
        self.show_main()
        return None

    def close_profile(self) -> None:
        """Close the open profile: forms kept as drafts, sync stopped, background work waited for, DB closed."""
        window, ctx = self.window, self.ctx
        if window is not None:
            window.close()  # closeEvent: autosave stopped, every open form written as a draft
            window.deleteLater()
            self.window = None
            # Gone before the database closes: none of its timers or queued slots may touch it afterwards.
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if ctx is None:
            return
        ctx.tasks.shutdown()  # "closing" stops the sync timer; a running cycle is cancelled and waited for
        if self.profiles is not None:
            remember_profile(ctx.paths, ctx.db)  # the chooser shows this profile's latest villages and sync
        ctx.db.close()
        ctx.tasks.deleteLater()  # and with it the parts' objects it owns (the sync controller)
        self._fit_parts = None
        self.ctx = None
        self.opener = None
        log.info("profile closed")

    def choose_and_open(self, current: str | None = None) -> int | None:
        """The profile chooser until a profile is open (None), or the exit code when the officer leaves.

        Giving up on a profile's passphrase (or its setup) comes back here: that profile stays locked.
        """
        assert self.profiles is not None
        while True:
            chooser = ProfileChooser(self.profiles.profiles(), current=current)
            result = chooser.exec()
            if result == NEW_PROFILE:
                created = NewProfileDialog(self.profiles.create).ask()
                if created is None:
                    continue
                if self.open_profile(created, label=created.root.name) is None:
                    self.profile_name = created.root.name
                    return None
                self.profiles.discard_unfinished(created)  # cancelled before its database existed
                continue
            if not result or chooser.chosen is None:
                return 0
            current = chooser.chosen
            info = self.profiles.info(current)
            label = f"{info.officer_name} ({info.name})" if info.officer_name else info.name
            if self.open_profile(info.paths, label=label) is None:
                self.profile_name = current
                return None

    def request_switch(self) -> None:
        QTimer.singleShot(0, self.switch_profile)  # once the menu action's own slot has returned

    def switch_profile(self) -> bool:
        """ "Ganti profil…": close this profile, then the chooser; False (and ``left``) when the officer leaves."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        quit_on_close = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)  # no window is open while the chooser is up
        try:
            self.close_profile()
            opened = self.choose_and_open(current=self.profile_name) is None
        finally:
            app.setQuitOnLastWindowClosed(quit_on_close)
        if not opened:
            self.left.emit()
        return opened

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
                  ask: Callable[[str], str | None] = ask_passphrase) -> tuple[Database, DatabaseOpener] | None:
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


def start_database(paths: Paths, make_opener: MakeOpener, passphrase: str | None, *,
                   ask: Callable[[str], str | None] = ask_passphrase) -> tuple[Database, DatabaseOpener] | None:
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
    if not database_exists(paths):  # creating it loads 91k regions
        return open_slowly(make_opener, passphrase, _("Menyiapkan basis data di laptop ini…"))
    if passphrase is not None and not database_encrypted(paths):
        return open_slowly(make_opener, passphrase, _("Mengenkripsi data di laptop ini… Jangan matikan laptop."))
    return open_database(make_opener, passphrase, ask=ask)


def first_run(paths: Paths, make_opener: MakeOpener) -> tuple[Database, DatabaseOpener] | None:
    """A new install: the wizard, whose passphrase page creates the database; None if cancelled."""
    wizard: FirstRunWizard | None = None
    wizard = FirstRunWizard(None, create_database=lambda pw: create_database(paths, make_opener, pw, wizard))
    if wizard.exec():
        assert wizard.db is not None and wizard.opener is not None
        return wizard.db, wizard.opener
    if wizard.db is not None:  # cancelled after the database was made: the next start unlocks it
        wizard.db.close()
    return None


class _ListPaintedWatch(QObject):
    """Closes the window once the household list has painted (``desmig gui --smoke-exit``).

    The bundle's smoke test (``tests/bundle``) needs the real start path to run to a painted list
    and then end the way an officer's close does (drafts, background tasks, database closed).
    """

    def __init__(self, window: MainWindow, on_painted: Callable[[int], None]) -> None:
        super().__init__(window)
        self._window, self._on_painted, self._done = window, on_painted, False
        window.list_page.table.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        model = self._window.list_page.model
        if event.type() == QEvent.Type.Paint and not self._done and (model.rowCount() > 0 or model.total == 0):
            self._done = True
            QTimer.singleShot(0, self._finish)  # once this paint has finished
        return False

    def _finish(self) -> None:
        self._on_painted(self._window.list_page.model.rowCount())
        self._window.close()


def start_profile(paths: Paths, profiles: ProfileHome | None, *, chosen: bool = False) -> Paths | None:
    """The data dir to open at start, or None when the officer must choose among several profiles.

    ``--data-dir`` (no ``profiles``) and ``--profile`` (``chosen``) open ``paths``; a single profile
    opens straight away, as before profiles existed.
    """
    if profiles is None or chosen:
        return paths
    names = profiles.names()
    if len(names) > 1:
        return None
    return profiles.paths_of(names[0]) if names else paths


def run(paths: Paths, make_opener_for: MakeOpenerFor, qt_args: list[str], *,
        passphrase: str | None = None, profiles: ProfileHome | None = None, chosen: bool = False,
        on_list_painted: Callable[[int], None] | None = None, training: bool = False,
        updates: UpdateConfig | None = None, parts: WindowParts | None = None) -> int:
    """Run the app until the officer closes it; returns the process exit code.

    ``make_opener_for(paths)(passphrase)`` returns the function that opens that data dir's database
    (used by the GUI thread now and by every background job later). With ``profiles`` and more than
    one profile (and none ``chosen`` on the command line) the profile chooser comes first. With
    ``on_list_painted`` (the bundle smoke test's hook) the window closes itself once the household list
    has painted, after calling it with the number of rows shown. ``training``: a training profile
    (``desmig gui --training``), where demo data needs no typed confirmation. ``updates``: how the
    app updates itself; the first painted window confirms a trial start of a new version.
    ``parts``: what the composition root adds to each main window (see the module doc).
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
    shell = Shell(None, profiles=profiles, make_opener_for=make_opener_for, parts=parts)
    shell.on_list_painted = on_list_painted
    shell.training = training
    shell.updates = updates
    shell.left.connect(app.quit)
    start = start_profile(paths, profiles, chosen=chosen)
    if start is None:
        code = shell.choose_and_open()
    else:
        shell.profile_name = start.root.name if profiles is not None else None
        code = shell.open_profile(start, passphrase)
    if code is not None:
        return code
    previous_hook = sys.excepthook
    sys.excepthook = shell.excepthook
    try:
        # This version started: its main window painted (update_install's trial ends here).
        if shell.window is not None:
            on_first_paint(shell.window, lambda: confirm_started(updates))
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook
        shell.close_profile()
        log.info("GUI closed")
