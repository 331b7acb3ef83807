"""The main window: the household list tab, the dashboard tab, one tab per open household, menus
and status bar.

Seams for the sync part (built elsewhere): ``sync_menu`` (hidden until an action is added to it)
and ``add_status_widget()``; call ``on_data_changed()`` after records changed behind the UI's
back (a pull) so lists and counts refresh. ``data_changed`` fires after every change of records
(save, delete, undo, import, sync), for views that show figures (the dashboard).

Drafts and undo are the window's controllers' (``window_controllers``); the window keeps the
layout, the menus and the tabs, and delegates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QTabWidget, QWidget
from shiboken6 import isValid

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.errors import KnownError
from desmig_desktop.services import settings
from desmig_desktop.services.database import DatabaseOpener
from desmig_desktop.services.drafts import Draft
from desmig_desktop.services.households import Base, Change, find_household, load_household
from desmig_desktop.services.status import live_households
from desmig_desktop.services.sync_service import pending_ops
from desmig_desktop.ui import backup_menu, data_menu, dialogs, print_menu
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.dashboard import DashboardPage
from desmig_desktop.ui.drafts_dialog import DraftsDialog
from desmig_desktop.ui.editor import HouseholdEditor
from desmig_desktop.ui.editor_sections import ADD_BUSINESS_KEY, ADD_MEMBER_KEY, ADD_PLACEMENT_KEY
from desmig_desktop.ui.form_draft import DRAFT_DELAY_MS
from desmig_desktop.ui.household_list import HouseholdListPage
from desmig_desktop.ui.programme import OPEN_KEY as PROGRAMME_KEY
from desmig_desktop.ui.programme import ProgrammeWindow
from desmig_desktop.ui.window_controllers import DraftsController, EditsController

log = logging.getLogger(__name__)


class _ShowWhenFilled(QObject):
    """Keeps a menu hidden until someone adds an action to it (the sync menu seam)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ActionAdded and isinstance(watched, QMenu):
            watched.menuAction().setVisible(True)
        return False


class MainWindow(QMainWindow):
    restart_requested = Signal()  # the language changed: the composition root rebuilds the window
    data_changed = Signal()  # records were saved, deleted, undone, imported or synced
    switch_profile_requested = Signal()  # "Ganti profil…": the composition root closes this profile

    def __init__(self, ctx: AppContext, *, autosave_ms: int = DRAFT_DELAY_MS, parent: QWidget | None = None,
                 database_opener: DatabaseOpener | None = None) -> None:
        """``autosave_ms``: how long after the last change a form writes its draft."""
        super().__init__(parent)
        self.ctx = ctx
        self.db = ctx.db
        self.database_opener = database_opener  # for the passphrase change in the settings
        self.drafts = DraftsController(self.db, self, self, autosave_ms=autosave_ms)
        self.edits = EditsController(self.db, self, self)
        self._last_village: str | None = None
        self.programme: ProgrammeWindow | None = None  # opened on first use (Ctrl+Shift+D)
        title = _("Desmigratif — Pendataan Rumah Tangga PMI")
        self.setWindowTitle(_("{title} — MODE LATIHAN", title=title) if ctx.training else title)
        self.resize(1280, 800)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setObjectName("tabs")
        self.list_page = HouseholdListPage(self.db, self.villages(), parent=self)
        self.tabs.addTab(self.list_page, _("Daftar rumah tangga"))
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.dashboard = DashboardPage(ctx, parent=self)
        self.tabs.addTab(self.dashboard, _("Dasbor"))
        self.tabs.tabBar().setTabButton(1, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.setCentralWidget(self.tabs)
        self._build_status_bar()
        self._build_menus()
        self.tabs.tabCloseRequested.connect(lambda index: self.close_editor(self.tabs.widget(index)))
        self.tabs.currentChanged.connect(lambda _i: self._update_actions())
        self.list_page.new_requested.connect(self.new_household)
        self.list_page.open_requested.connect(self.open_household)
        self.list_page.delete_requested.connect(self.delete_household)
        self.list_page.counts_changed.connect(self.refresh_counts)
        self.data_changed.connect(self.dashboard.mark_stale)
        self.edits.done.connect(self._after_edit)
        self.dashboard.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.refresh_counts()
        self._update_actions()

    # building ----------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.new_action = self._action(_("Rumah tangga &baru"), self.new_household, QKeySequence.StandardKey.New)
        self.save_action = self._action(_("&Simpan"), self.save_current, QKeySequence.StandardKey.Save)
        self.close_action = self._action(_("&Tutup isian"), self.close_current, "Ctrl+W")
        self.print_action = self._action(_("Cetak data rumah tangga (P&DF)…"), lambda: print_menu.start_print(self),
                                         QKeySequence.StandardKey.Print)
        self.import_action = self._action(_("&Impor data…"), lambda: data_menu.start_import(self))
        self.export_action = self._action(_("&Ekspor data…"), lambda: data_menu.start_export(self))
        self.demo_action = self._action(_("Buat data &contoh…"), lambda: data_menu.start_demo(self))
        self.backup_action = self._action(_("C&adangkan data…"), lambda: backup_menu.start_backup(self))
        self.restore_action = self._action(_("Pu&lihkan dari cadangan…"), lambda: backup_menu.start_restore(self))
        self.settings_action = self._action(_("&Pengaturan…"), self.open_settings)
        self.switch_profile_action = self._action(_("Ganti pro&fil…"), self.switch_profile_requested.emit)
        self.switch_profile_action.setVisible(False)  # shown when the laptop has profiles (not with --data-dir)
        self.quit_action = self._action(_("&Keluar"), self.close, "Ctrl+Q")
        self.undo_action = self._action(_("&Urungkan"), self.undo_last, QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.delete_action = self._action(_("&Hapus rumah tangga…"), self.delete_current)
        self.find_action = self._action(_("&Cari"), self.focus_search, QKeySequence.StandardKey.Find)
        self.add_member_action = self._action(_("Tambah &anggota"), lambda: self._in_editor("add_member"),
                                              ADD_MEMBER_KEY)
        self.add_placement_action = self._action(_("Tambah &penempatan"), lambda: self._in_editor("add_placement"),
                                                 ADD_PLACEMENT_KEY)
        self.add_business_action = self._action(_("Tambah u&saha"), lambda: self._in_editor("add_business"),
                                                ADD_BUSINESS_KEY)
        self.file_menu = bar.addMenu(_("&Berkas"))
        for action in (self.new_action, self.save_action, self.close_action, self.print_action, None,
                       self.import_action, self.export_action, self.demo_action, None, self.backup_action,
                       self.restore_action, None, self.settings_action, None, self.switch_profile_action,
                       self.quit_action):
            self.file_menu.addSeparator() if action is None else self.file_menu.addAction(action)
        self.edit_menu = bar.addMenu(_("&Ubah"))
        for action in (self.undo_action, self.delete_action, None, self.add_member_action, self.add_placement_action,
                       self.add_business_action, None, self.find_action):
            self.edit_menu.addSeparator() if action is None else self.edit_menu.addAction(action)
        self.programme_action = self._action(_("Program &Desmigratif…"), self.open_programme, PROGRAMME_KEY)
        self.programme_menu = bar.addMenu(_("&Program"))
        self.programme_menu.addAction(self.programme_action)
        self.sync_menu = bar.addMenu(_("Si&nkronisasi"))
        self.sync_menu.setObjectName("sync_menu")
        self.sync_menu.menuAction().setVisible(False)
        self._sync_menu_filter = _ShowWhenFilled(self)
        self.sync_menu.installEventFilter(self._sync_menu_filter)
        self.help_menu = bar.addMenu(_("Ban&tuan"))
        self.help_menu.addAction(self._action(_("&Pintasan keyboard"), self.show_shortcuts, "F1"))

    def _build_status_bar(self) -> None:
        self.count_label = QLabel(self)
        self.count_label.setObjectName("count_label")
        self.pending_label = QLabel(self)
        self.pending_label.setObjectName("pending_label")
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(self.pending_label)

    def add_status_widget(self, widget: QWidget) -> None:
        """A permanent status-bar area for other parts of the app (sync state)."""
        self.statusBar().addPermanentWidget(widget)

    # settings ----------------------------------------------------------------------------

    def villages(self) -> list[str]:
        return settings.villages(self.db)

    def open_settings(self) -> None:
        from desmig_desktop.ui.setup import SettingsDialog

        dialog = SettingsDialog(self.db, self, opener=self.database_opener, paths=self.ctx.paths)
        if dialog.exec() and dialog.apply():
            if dialog.language_changed:
                self.restart_requested.emit()
                return
            self.list_page.set_villages(self.villages())
            if self.programme is not None:
                self.programme.set_villages(self.villages())

    def open_programme(self) -> ProgrammeWindow:
        """The programme's records (village profiles, the four pillars, activity log) in their own window."""
        if self.programme is None:
            self.programme = ProgrammeWindow(self.db, self.villages(), parent=self)
            self.programme.data_changed.connect(self._after_programme_edit)
        self.programme.show()
        self.programme.raise_()
        self.programme.activateWindow()
        return self.programme

    def _after_programme_edit(self) -> None:
        self.refresh_counts()  # the changes waiting to be sent
        self.data_changed.emit()

    # editors -----------------------------------------------------------------------------

    def editors(self) -> list[HouseholdEditor]:
        return [w for i in range(self.tabs.count()) if isinstance(w := self.tabs.widget(i), HouseholdEditor)]

    def current_editor(self) -> HouseholdEditor | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, HouseholdEditor) else None

    def editor_for(self, household_id: str) -> HouseholdEditor | None:
        return next((e for e in self.editors() if e.household_id == household_id), None)

    def _in_editor(self, method: str) -> None:
        editor = self.current_editor()
        if editor is not None:
            getattr(editor, method)()

    def _add_editor(self, editor: HouseholdEditor, replace: HouseholdEditor | None = None) -> HouseholdEditor:
        editor.title_changed.connect(lambda title, e=editor: self._set_tab_title(e, title))
        editor.saved.connect(self._on_saved)
        editor.close_requested.connect(lambda e=editor: self.close_editor(e))
        editor.open_household_requested.connect(self.open_household)
        editor.came_from = replace.came_from if replace is not None else self.tabs.currentWidget()
        if replace is not None:
            index = self.tabs.indexOf(replace)
            self.tabs.removeTab(index)
            replace.deleteLater()
            self.tabs.insertTab(index, editor, editor.title())
        else:
            self.tabs.addTab(editor, editor.title())
        self.tabs.setCurrentWidget(editor)
        self._set_tab_title(editor, editor.title() + (" *" if editor.dirty else ""))
        return editor

    def _set_tab_title(self, editor: HouseholdEditor, title: str) -> None:
        index = self.tabs.indexOf(editor)
        if index >= 0:
            self.tabs.setTabText(index, title)

    def new_household(self) -> HouseholdEditor:
        village = self._last_village or self.list_page.selected_village() or next(iter(self.villages()), None)
        editor = HouseholdEditor(self.db, defaults={"village_code": village} if village else {},
                                 draft_delay_ms=self.drafts.autosave_ms)
        current = self.current_editor()
        reuse = current if current is not None and not current.dirty and not current.is_new else None
        self._add_editor(editor, replace=reuse)
        editor.focus_first_field()
        return editor

    def open_household(self, household_id: str) -> HouseholdEditor | None:
        existing = self.editor_for(household_id)
        if existing is not None:
            self.tabs.setCurrentWidget(existing)
            return existing
        try:
            graph = load_household(self.db, household_id)
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return None
        editor = self._add_editor(HouseholdEditor(self.db, graph, draft_delay_ms=self.drafts.autosave_ms))
        editor.focus_first_field()
        return editor

    def save_current(self) -> None:
        editor = self.current_editor()
        if editor is not None:
            editor.save()

    def close_current(self) -> None:
        editor = self.current_editor()
        if editor is not None:
            self.close_editor(editor)

    def close_editor(self, widget: QWidget | None, *, ask: bool = True) -> bool:
        if not isinstance(widget, HouseholdEditor):
            return False
        if ask and not widget.ask_discard():
            return False
        widget.draft.discard()
        was_current, back = self.tabs.currentWidget() is widget, widget.came_from
        self.tabs.removeTab(self.tabs.indexOf(widget))
        widget.deleteLater()
        if not was_current:
            return True
        if back is not None and isValid(back) and self.tabs.indexOf(back) >= 0:
            self.tabs.setCurrentWidget(back)  # back where the form was opened from, filter and selection kept
        current = self.tabs.currentWidget()
        if current is self.list_page:
            if not widget.is_new:
                self.list_page.select(widget.household_id)
            self.list_page.table.setFocus()
        elif isinstance(current, HouseholdEditor):
            current.restore_focus()
        return True

    def _on_saved(self, household_id: str, changes: list[Change], title: str) -> None:
        household = find_household(self.db, household_id)
        self._last_village = household.get("village_code") if household else self._last_village
        self.edits.saved(household_id, changes, title)

    def _after_edit(self, message: str, timeout_ms: int, select_id: str | None) -> None:
        """A save, delete or undo went through: say so, and show the list and figures as they are now."""
        self.statusBar().showMessage(message, timeout_ms)
        self.list_page.refresh(select_id=select_id)
        self._update_actions()
        self.data_changed.emit()

    # delete and undo (the edits controller's) ---------------------------------------------

    def delete_current(self) -> None:
        editor = self.current_editor()
        if editor is not None:
            if editor.is_new:
                self.close_editor(editor)
                return
            self.delete_household(editor.household_id, loaded=editor.records.loaded)
        elif (household_id := self.list_page.current_household_id()) is not None:
            self.delete_household(household_id)

    def delete_household(self, household_id: str, *, loaded: dict[tuple[str, str], Base] | None = None) -> bool:
        """Delete after asking; ``loaded``: the copy an open form shows (the deletes are made on it)."""
        return self.edits.delete(household_id, loaded=loaded)

    def undo_last(self) -> bool:
        return self.edits.undo()

    # list, counts, drafts ----------------------------------------------------------------

    def focus_search(self) -> None:
        self.tabs.setCurrentWidget(self.list_page)
        self.list_page.focus_search()

    def on_data_changed(self) -> None:
        """Records changed outside this window (background job, sync): refresh lists, counts and figures,
        and tell each open form whether its household changed underneath it."""
        self.list_page.refresh()
        for editor in self.editors():
            editor.check_underneath()
        if self.programme is not None:
            self.programme.refresh()
        self.data_changed.emit()

    def refresh_counts(self) -> None:
        shown = self.list_page.model.total
        self.count_label.setText(_("Menampilkan {shown} dari {total} rumah tangga",
                                   shown=grouped(shown), total=grouped(live_households(self.db))))
        pending = pending_ops(self.db)
        self.pending_label.setText(_("Belum terkirim: {count} perubahan", count=grouped(pending)))

    def _update_actions(self) -> None:
        editor = self.current_editor()
        for action in (self.save_action, self.close_action, self.print_action, self.add_member_action,
                       self.add_placement_action, self.add_business_action):
            action.setEnabled(editor is not None)
        label = self.edits.undo_label()
        self.undo_action.setEnabled(label is not None)
        self.undo_action.setText(_("&Urungkan {what}", what=label) if label else _("&Urungkan"))

    # drafts (the drafts controller's) -------------------------------------------------------

    def write_drafts(self) -> None:
        self.drafts.write_all()

    def offer_drafts(self) -> DraftsDialog | None:
        """Offer back drafts left by an earlier session in a chooser (opened, not waited for)."""
        return self.drafts.offer()

    def restore_drafts(self, found: list[Draft]) -> int:
        return self.drafts.restore(found)

    def add_restored(self, editor: HouseholdEditor) -> None:
        """A form rebuilt from a draft: its own tab; closing it returns to the list."""
        self._add_editor(editor)
        editor.came_from = self.list_page

    def show_shortcuts(self) -> None:
        dialogs.inform(self, _("Pintasan keyboard"), _(
            "Ctrl+N  rumah tangga baru\nCtrl+S  simpan\nEnter  pindah ke isian berikutnya, atau tekan tombol\n"
            "Tab / Shift+Tab  isian berikutnya / sebelumnya (juga keluar dari tabel; Ctrl+Tab antarsel)\n"
            "Ctrl+Shift+A / P / U  tambah anggota / penempatan / usaha\n"
            "Esc  tutup isian (ditanya dulu bila ada perubahan)\nCtrl+F  cari nama, NIK atau No. KK\n"
            "Ctrl+Z  urungkan simpan/hapus terakhir\nCtrl+W  tutup isian\n↓  buka daftar pilihan wilayah\n"
            "Ctrl+Shift+D  Program Desmigratif (Alt+1…6 pindah halaman)"))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing never asks and never loses: unsaved editors are kept as drafts for the next start."""
        self.write_drafts()
        if self.programme is not None:
            self.programme.write_drafts()
        event.accept()
