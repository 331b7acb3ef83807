"""The "Program Desmigratif" window: one page per record kind of the programme (village profile,
migration services with their open cases, business training and support, community parenting,
cooperatives, the officer's activity log).

Opened from the main window (*Program → Program Desmigratif…*, Ctrl+Shift+D) as a window of its
own, so its forms never crowd the household tabs. Alt+1…Alt+6 switch pages; Ctrl+N, Ctrl+S,
Esc, Delete and Ctrl+Z act on the page shown (Ctrl+Z: the last save or delete in this window,
once, as in the main window). Closing never asks and never loses: an unsaved form is kept as a
draft and shown again, marked, the next time the window opens.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services import programme as prog
from desmig_desktop.services.handle import Database
from desmig_desktop.services.households import Change
from desmig_desktop.services.undo import UndoHistory
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.programme.page import RecordPage, page_specs

log = logging.getLogger(__name__)
OPEN_KEY = "Ctrl+Shift+D"  # the main window's shortcut for this window


class ProgrammeWindow(QWidget):
    data_changed = Signal()  # a record was saved, deleted or undone here

    def __init__(self, db: Database, villages: Sequence[str], *, page_size: int = 200,
                 draft_delay_ms: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self._db = db
        self.setObjectName("programme_window")
        self.setWindowTitle(_("Program Desmigratif"))
        self.resize(1280, 800)
        self.history = UndoHistory(db)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("programme_pages")
        self.pages: dict[str, RecordPage] = {}
        for number, spec in enumerate(page_specs(), 1):
            page = RecordPage(db, spec, villages, page_size=page_size, draft_delay_ms=draft_delay_ms, parent=self)
            page.saved.connect(self._on_saved)
            page.deleted.connect(self._on_deleted)
            self.pages[spec.entity] = page
            self.tabs.addTab(page, f"&{number} {spec.title.replace('&', '&&')}")  # "&&": a "&" shown, not a mnemonic
        layout.addWidget(self.tabs, 1)
        self.message = QLabel(self)
        self.message.setObjectName("programme_message")
        layout.addWidget(self.message)
        for keys, slot in ((QKeySequence.StandardKey.New, lambda: self.current_page().new_record()),
                           (QKeySequence.StandardKey.Save, lambda: self.current_page().save()),
                           (QKeySequence.StandardKey.Undo, self.undo_last),
                           ("Ctrl+W", self.close)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)
        self.tabs.currentChanged.connect(lambda _i: self._on_page_changed())
        self.restore_drafts()

    def current_page(self) -> RecordPage:
        page = self.tabs.currentWidget()
        assert isinstance(page, RecordPage)
        return page

    def show_page(self, entity_name: str) -> RecordPage:
        page = self.pages[entity_name]
        self.tabs.setCurrentWidget(page)
        return page

    def _on_page_changed(self) -> None:
        page = self.current_page()
        if page.editing():
            page.editor.focus_first_field()
        else:
            page.focus_list()

    def set_villages(self, villages: Sequence[str]) -> None:
        for page in self.pages.values():
            page.set_villages(villages)

    def refresh(self) -> None:
        """Records changed outside this window (a sync, an import): the lists show them as they are now."""
        for page in self.pages.values():
            page.refresh()

    def say(self, text: str) -> None:
        self.message.setText(text)

    # saves, deletes and Ctrl+Z ------------------------------------------------------------------

    def _on_saved(self, entity_name: str, record_id: str, changes: list[Change], title: str) -> None:
        self.history.record(_("simpan {name}", name=title), record_id, changes, entity=entity_name)
        self.say(_("{name} tersimpan.", name=title))
        self.data_changed.emit()

    def _on_deleted(self, entity_name: str, record_id: str, changes: list[Change], title: str) -> None:
        self.history.record(_("hapus {name}", name=title), record_id, changes, entity=entity_name)
        self.say(_("{name} dihapus. Tekan Ctrl+Z untuk mengurungkan.", name=title))
        self.data_changed.emit()

    def undo_last(self) -> bool:
        step = self.history.last
        if step is None:
            self.say(_("Tidak ada yang bisa diurungkan."))
            return False
        page = self.pages[step.entity]
        focus = self.focusWidget()
        if page.editing() and focus is not None and page.editor.isAncestorOf(focus) and not dialogs.confirm(
                self, _("Urungkan"), _("Urungkan {what}?", what=step.label), _("Urungkan"), _("Batal")):
            return False  # inside a form Ctrl+Z is easily meant for a field: ask before touching saved data
        try:
            undone = self.history.undo()
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return False
        if undone is None:
            return False
        self.tabs.setCurrentWidget(page)
        page.after_undo(step.household_id, undone.live)
        self.say(_("Diurungkan: {what}.", what=step.label))
        self.data_changed.emit()
        return True

    # drafts ----------------------------------------------------------------------------------

    def restore_drafts(self) -> int:
        """Forms left unsaved when the window (or the app) last closed, shown again on their pages
        (one per page; the others wait for the next time); returns how many."""
        shown = 0
        for draft in reversed(prog.programme_drafts(self._db)):  # the newest first
            try:
                rec = prog.restored(draft.data)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("programme draft %s could not be restored: %s", draft.key, exc)
                continue
            page = self.pages[rec.entity]
            if page.editing():
                continue
            if not shown:
                self.tabs.setCurrentWidget(page)  # the newest unsaved form is in front
            page.show_record(rec, restored=True)
            shown += 1
        if shown:
            self.say(_("{count} isian yang belum disimpan dipulihkan.", count=shown))
        return shown

    def write_drafts(self) -> None:
        for page in self.pages.values():
            if page.editing():
                page.editor.write_draft()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing never asks and never loses: unsaved forms are kept as drafts for the next time."""
        self.write_drafts()
        event.accept()
