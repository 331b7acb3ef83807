"""The household editor: one household with its members, placements and businesses.

Everything typed goes straight into an in-memory graph of plain dicts (``HouseholdGraph``),
which is what ``services.households.save_household`` validates and saves in one transaction and
what the draft holds (``FormDraft``). Hard errors are shown beside their fields and in a summary
(placed by ``issue_routing``), and the save is refused; warnings are shown and need one explicit
confirmation. The fields are on the "Formulir" page (``editor_sections.HouseholdPage``); a
second tab, "Riwayat", shows the saved field changes of the household or of the member,
placement or business last worked on.

The editor keeps what it loaded (``HouseholdGraph.loaded``, also in its draft): a save sends
only what the officer changed relative to it. When a sync changes the household underneath,
``check_underneath`` shows a notice offering to take in the new values of untouched fields;
the save is right whether or not the officer does.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget
from shiboken6 import isValid

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import new_id
from desmig_desktop.errors import KnownError, NeedsConfirmation, RecordIssue, ValidationFailed
from desmig_desktop.services import drafts
from desmig_desktop.services.handle import Database
from desmig_desktop.services.household_copy import changed_underneath, refresh_untouched
from desmig_desktop.services.households import HouseholdGraph, load_household, save_household
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.editor_sections import HouseholdPage
from desmig_desktop.ui.form_draft import DRAFT_DELAY_MS, FormDraft
from desmig_desktop.ui.history import HistoryPanel
from desmig_desktop.ui.issue_routing import PanelItem
from desmig_desktop.ui.location import utc_stamp

log = logging.getLogger(__name__)


class HouseholdEditor(QWidget):
    """Edits one household; ``save()`` writes it (with outbox ops) through the households service."""

    saved = Signal(str, object, str)  # household id, undo changes, head name
    open_household_requested = Signal(str)
    title_changed = Signal(str)
    close_requested = Signal()

    def __init__(self, db: Database, graph: HouseholdGraph | None = None, *,
                 defaults: dict[str, Any] | None = None, draft_delay_ms: int = DRAFT_DELAY_MS,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self.is_new = graph is None
        if graph is None:
            household = {"id": new_id(), "visited_on": dt.date.today().isoformat(), **(defaults or {})}
            graph = HouseholdGraph(household)
        # what is on screen; ``loaded``: what each stored record was when this form read it
        self.records = HouseholdGraph(graph.household, graph.members, graph.placements, graph.businesses,
                                      dict(graph.loaded))
        self.dirty = False
        self._last_focus: QWidget | None = None  # where the officer last was in the form (for Riwayat)
        self.came_from: QWidget | None = None  # the tab this form was opened from (closing returns there)
        self.draft = FormDraft(db, self, delay_ms=draft_delay_ms, parent=self)
        self._build()
        self._show_records()

    # building ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        page = self.page = HouseholdPage(self.records, self._db, self)  # its parts by the names used outside:
        self.heading, self.issues, self.underneath, self.form = page.heading, page.issues, page.underneath, page.form
        self.location, self.members, self.businesses = page.location, page.members, page.businesses
        self.pages = QTabWidget(self)
        self.pages.setObjectName("editor_pages")
        self.pages.setTabPosition(QTabWidget.TabPosition.South)
        self.pages.addTab(self.page, _("Formulir"))
        self.history = HistoryPanel(self._db, self.records, self)
        self.pages.addTab(self.history, _("Riwayat"))
        outer.addWidget(self.pages)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(12, 4, 12, 8)
        self.status = QLabel(self)
        self.save_button = QPushButton(_("Simpan (Ctrl+S)"), self)
        self.save_button.setObjectName("save_button")
        self.close_button = QPushButton(_("Tutup (Esc)"), self)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        outer.addLayout(buttons)
        self.save_button.clicked.connect(lambda: self.save())
        self.close_button.clicked.connect(self.close_requested)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self._on_escape)
        page.changed.connect(self._mark_dirty)
        self.underneath.reload_requested.connect(self.reload_untouched)
        self.issues.confirm_requested.connect(lambda: self.save(confirm_warnings=True))
        self.issues.open_household_requested.connect(self.open_household_requested)
        self.issues.item_activated.connect(self._go_to_issue)
        self.pages.currentChanged.connect(lambda _i: self._on_page_changed())
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)
        for button in self.findChildren(QPushButton):  # Enter presses a focused button, as Space does
            button.setAutoDefault(True)

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if old is not None and self.isAncestorOf(old):
            self.draft.flush()  # leaving a field: what was typed in it is kept now, not 400 ms later
        if new is not None and self.page.isAncestorOf(new):
            self._last_focus = new
            # Focus set by a shortcut or an error line does not scroll by itself (only Tab does);
            # after the layout settled (a new row's form was just shown) the field is brought into view.
            QTimer.singleShot(0, self, self._show_focused)

    def _show_focused(self) -> None:
        widget = self._last_focus
        if widget is not None and isValid(widget) and widget.hasFocus():
            self.page.ensureWidgetVisible(widget, 50, 50)

    def _on_escape(self) -> None:
        """Esc closes the form, unless a drop-down list is open: then Esc is that list's (it closes)."""
        popup = QApplication.activePopupWidget()  # the shortcut sees Esc before the open list does
        if popup is not None:
            owner = popup.parentWidget()
            owner.hidePopup() if isinstance(owner, QComboBox) else popup.hide()
            return
        self.close_requested.emit()

    def _show_records(self) -> None:
        self.page.show_records()
        self._update_title()

    # state -------------------------------------------------------------------------------

    @property
    def household_id(self) -> str:
        return str(self.records.household["id"])

    def title(self) -> str:
        name = self.records.household.get("head_name")
        return str(name) if name else _("Rumah tangga baru")

    def _update_title(self) -> None:
        title = self.title()
        self.heading.setText(title)
        self.title_changed.emit(title + (" *" if self.dirty else ""))

    def _mark_dirty(self) -> None:
        self.draft.changed()  # every change: the draft follows 400 ms after the last keystroke
        if self.is_new and not self.records.household.get("interview_started_at"):
            # the interview starts with the first thing typed into a new household (not with
            # opening the form, which may then sit idle); recorded, never shown as an input
            self.records.household["interview_started_at"] = utc_stamp()
        self.issues.withdraw_confirmation()
        if not self.dirty:
            self.dirty = True
            self.status.setText(_("Ada perubahan yang belum disimpan."))
        self._update_title()

    # history -----------------------------------------------------------------------------

    def show_form(self) -> None:
        self.pages.setCurrentWidget(self.page)

    def show_history(self) -> None:
        self.pages.setCurrentWidget(self.history)

    def _on_page_changed(self) -> None:
        if self.pages.currentWidget() is self.history:
            self.history.show_record(*self._worked_on())

    def _worked_on(self) -> tuple[str, str]:
        """The record whose part of the form had the focus last (the household when none did)."""
        focus = self._last_focus
        for entity_name in ("placements", "members", "businesses"):
            section = self.page.sections[entity_name]
            record = section.current()
            if focus is not None and record is not None and section.isAncestorOf(focus):
                return entity_name, str(record["id"])
        return "households", self.household_id

    # adding child records (Ctrl+Shift+A / P / U) ----------------------------------------------

    def add_member(self) -> bool:
        self.show_form()
        return self.members.members.add() is not None

    def add_placement(self) -> bool:
        """A placement for the selected member, who must be PMI aktif or purna (said in the status line if not)."""
        self.show_form()
        if not self.members.placements.isVisibleTo(self):
            self.status.setText(_("Riwayat penempatan hanya untuk anggota berstatus PMI aktif atau PMI purna: "
                                  "pilih atau isi anggota itu dulu."))
            return False
        return self.members.placements.add() is not None

    def add_business(self) -> bool:
        self.show_form()
        return self.businesses.add() is not None

    def restore_focus(self) -> None:
        """Back to this form (another tab closed): the cursor where it was, else in the first field."""
        if self._last_focus is not None and isValid(self._last_focus) and self._last_focus.isVisibleTo(self):
            self.show_form()
            self._last_focus.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.focus_first_field()

    def focus_first_field(self) -> None:
        """The province box, or (when the village is already known) the first field after it."""
        self.show_form()
        if self.records.household.get("village_code") and self.form.editors["village_code"].value():
            self.form.focus_field("hamlet")
        else:
            self.form.first_field().setFocus(Qt.FocusReason.OtherFocusReason)

    def graph(self) -> HouseholdGraph:
        """A deep copy of what is on screen, as the households service expects it."""
        r = self.records
        household, members, placements, businesses = copy.deepcopy((r.household, r.members, r.placements,
                                                                    r.businesses))
        return HouseholdGraph(household, members, placements, businesses, dict(r.loaded))

    # the stored household changing underneath ---------------------------------------------

    def check_underneath(self) -> bool:
        """Show the notice if the stored household changed in a part this form shows unchanged."""
        changed = not self.is_new and changed_underneath(self._db, self.graph())
        self.underneath.setVisible(changed)
        return changed

    def reload_untouched(self) -> None:
        """Take in the stored values of every field the officer did not change (their edits stay)."""
        graph = refresh_untouched(self._db, self.graph())
        self._set_graph(graph)
        self.underneath.hide()
        self._mark_dirty()
        self.status.setText(_("Isian yang tidak Anda ubah sudah dimuat ulang; perubahan Anda belum disimpan."))

    def _set_graph(self, graph: HouseholdGraph) -> None:
        self.records.household.clear()
        self.records.household.update(graph.household)
        self.records.members[:] = graph.members
        self.records.placements[:] = graph.placements
        self.records.businesses[:] = graph.businesses
        self.records.loaded = dict(graph.loaded)
        self._show_records()

    # saving ------------------------------------------------------------------------------

    def save(self, *, confirm_warnings: bool = False) -> bool:
        """Validate and save; False (with the reasons shown) if refused or waiting for confirmation."""
        graph = self.graph()
        if graph.household.get("interview_started_at") and not graph.household.get("interview_ended_at"):
            graph.household["interview_ended_at"] = utc_stamp()  # the save that completes the interview
        try:
            result = save_household(self._db, graph, confirm_warnings=confirm_warnings)
        except ValidationFailed as exc:
            self.show_issues(exc.issues)
            self.status.setText(_("Belum tersimpan: ada {count} kesalahan.", count=len(exc.issues)))
            self.issues.focus_list()
            return False
        except NeedsConfirmation as exc:
            self.show_issues(exc.issues)
            self.status.setText(_("Belum tersimpan: periksa peringatan di atas."))
            self.issues.focus_list()  # read first; Tab reaches "Simpan tetap"
            return False
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return False
        log.info("household saved (%d ops)", len(result.op_seqs))
        self.reload()
        self.status.setText(_("Tersimpan."))
        self.saved.emit(result.household_id, result.undo, self.title())
        return True

    def reload(self) -> None:
        """Show the stored household again (after a save or an undo); forgets unsaved edits and the draft."""
        graph = load_household(self._db, self.household_id)
        self.is_new = False
        self.dirty = False
        self.page.clear_issues()
        self.underneath.hide()
        self._set_graph(graph)
        self.draft.discard()
        if self.pages.currentWidget() is self.history:
            self.history.show_record()

    def show_issues(self, issues: list[RecordIssue]) -> None:
        self.show_form()
        self.page.show_issues(issues)

    def _go_to_issue(self, item: PanelItem) -> None:
        self.show_form()
        self.page.go_to_issue(item)

    # drafts and closing ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to rebuild this editor (JSON-safe; saved as the draft)."""
        return drafts.snapshot(self.graph(), is_new=self.is_new, title=self.title())

    def mark_restored(self, *, is_new: bool) -> None:
        """This form was rebuilt from a draft: its contents are unsaved edits."""
        self.is_new = is_new
        self.dirty = True
        self.status.setText(_("Dipulihkan dari isian tersimpan otomatis; belum disimpan."))
        self._update_title()
        self.check_underneath()

    def ask_discard(self) -> bool:
        """True if there is nothing to lose or the officer agreed to throw the changes away."""
        if not self.dirty:
            return True
        if not dialogs.confirm(self, _("Buang perubahan?"),
                               _("Perubahan pada {title} belum disimpan. Buang perubahan itu?", title=self.title()),
                               _("Buang perubahan"), _("Kembali mengisi"), destructive=True):
            return False
        self.draft.discard()
        self.dirty = False
        return True

