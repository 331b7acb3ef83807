"""The household editor: one household with its members, placements and businesses.

Everything typed goes straight into an in-memory graph of plain dicts (``HouseholdRecords``),
which is what ``services.households.save_household`` validates and saves in one transaction and
what the draft file holds. Hard errors are shown beside their fields and in a summary, and the
save is refused; warnings are shown and need one explicit confirmation. A second tab,
"Riwayat", shows the saved field changes of the household or of the member, placement or
business last worked on.

The editor keeps what it loaded (``HouseholdGraph.loaded``, also in its draft): a save sends
only what the officer changed relative to it. When a sync changes the household underneath,
``check_underneath`` shows a notice offering to take in the new values of untouched fields;
the save is right whether or not the officer does.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QTabWidget, QVBoxLayout, QWidget)
from shiboken6 import isValid

from desmig_desktop.domain.fields import ENTITIES, HOUSEHOLDS
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.ids import new_id
from desmig_desktop.errors import KnownError, NeedsConfirmation, RecordIssue, ValidationFailed
from desmig_desktop.services import drafts
from desmig_desktop.services.households import (HouseholdGraph, changed_underneath, load_household, loaded_to_json,
                                                 refresh_untouched, save_household)
from desmig_desktop.store import records as record_store
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.editor_sections import BusinessesSection, HouseholdRecords, MembersSection
from desmig_desktop.ui.form import SpecForm
from desmig_desktop.ui.history import HistoryPanel
from desmig_desktop.ui.issues_panel import IssuesPanel, PanelItem
from desmig_desktop.ui.location import Fix, LocationBar, utc_stamp

log = logging.getLogger(__name__)
_META = ("deleted", "server_version", "created_at", "updated_at", "extra")
DRAFT_DELAY_MS = 400  # the draft is written this long after the last keystroke (and on leaving a field)


class HouseholdEditor(QWidget):
    """Edits one household; ``save()`` writes it (with outbox ops) through the households service."""

    saved = Signal(str, object, str)  # household id, undo changes, head name
    open_household_requested = Signal(str)
    title_changed = Signal(str)
    close_requested = Signal()

    def __init__(self, db: Any, graph: HouseholdGraph | None = None, *, defaults: dict[str, Any] | None = None,
                 draft_delay_ms: int = DRAFT_DELAY_MS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self.is_new = graph is None
        if graph is None:
            household = {"id": new_id(), "visited_on": dt.date.today().isoformat(), **(defaults or {})}
            graph = HouseholdGraph(household)
        self.records = HouseholdRecords(graph.household, graph.members, graph.placements, graph.businesses)
        self.loaded = dict(graph.loaded)  # what each stored record was when this form read it
        self.dirty = False
        self._draft_text = ""
        self._last_focus: QWidget | None = None  # where the officer last was in the form (for Riwayat)
        self.came_from: QWidget | None = None  # the tab this form was opened from (closing returns there)
        self.draft_timer = QTimer(self)
        self.draft_timer.setSingleShot(True)
        self.draft_timer.setInterval(draft_delay_ms)
        self.draft_timer.timeout.connect(self.write_draft)
        self._build()
        self._show_records()

    # building ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 8, 12, 8)
        self.heading = QLabel(self)
        self.heading.setObjectName("editor_heading")
        self.heading.setStyleSheet("font-size: 15pt; font-weight: bold;")
        layout.addWidget(self.heading)
        self.issues = IssuesPanel(body)
        layout.addWidget(self.issues)
        self.underneath = QFrame(body)
        self.underneath.setObjectName("changed_underneath")
        self.underneath.setFrameShape(QFrame.Shape.StyledPanel)
        notice = QHBoxLayout(self.underneath)
        self.underneath_text = QLabel(_(
            "Data rumah tangga ini sudah diubah di tempat lain (sinkronisasi) sejak formulir ini dibuka. "
            "Isian yang Anda ubah tetap milik Anda; isian lain bisa dimuat ulang."), self.underneath)
        self.underneath_text.setWordWrap(True)
        notice.addWidget(self.underneath_text, 1)
        self.reload_untouched_button = QPushButton(_("Muat ulang isian yang tidak saya ubah"), self.underneath)
        self.reload_untouched_button.setObjectName("reload_untouched")
        notice.addWidget(self.reload_untouched_button)
        self.underneath.hide()
        layout.addWidget(self.underneath)
        layout.addWidget(self._section_title(pick(HOUSEHOLDS.label_id, HOUSEHOLDS.label_en)))
        self.form = SpecForm(HOUSEHOLDS, self._db, parent=body)
        layout.addWidget(self.form)
        self.location = LocationBar(body)
        layout.addWidget(self.location)
        # Tab: … Lintang, Bujur, "Ambil lokasi", Tanggal kunjungan …
        QWidget.setTabOrder(self.form.editors["longitude"].focus_widget, self.location.button)
        QWidget.setTabOrder(self.location.button, self.form.editors["visited_on"].focus_widget)
        layout.addWidget(self._rule())
        self.members = MembersSection(self.records, self._db, body)
        layout.addWidget(self.members)
        layout.addWidget(self._rule())
        self.businesses = BusinessesSection(self.records, self._db, body)
        layout.addWidget(self.businesses)
        layout.addStretch(1)
        self.scroll.setWidget(body)
        self.pages = QTabWidget(self)
        self.pages.setObjectName("editor_pages")
        self.pages.setTabPosition(QTabWidget.TabPosition.South)
        self.pages.addTab(self.scroll, _("Formulir"))
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
        self.form.changed.connect(self._on_household_changed)
        self.location.fix_taken.connect(self._on_fix_taken)
        self.members.changed.connect(self._on_members_changed)
        self.businesses.changed.connect(self._mark_dirty)
        self.reload_untouched_button.clicked.connect(self.reload_untouched)
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
        if old is not None and self.isAncestorOf(old) and self.draft_timer.isActive():
            self.write_draft()  # leaving a field: what was typed in it is kept now, not 400 ms later
        if new is not None and self.scroll.isAncestorOf(new):
            self._last_focus = new
            # Focus set by a shortcut or an error line does not scroll by itself (only Tab does);
            # after the layout settled (a new row's form was just shown) the field is brought into view.
            QTimer.singleShot(0, self, self._show_focused)

    def _show_focused(self) -> None:
        widget = self._last_focus
        if widget is not None and isValid(widget) and widget.hasFocus():
            self.scroll.ensureWidgetVisible(widget, 50, 50)

    def _on_escape(self) -> None:
        """Esc closes the form, unless a drop-down list is open: then Esc is that list's (it closes)."""
        popup = QApplication.activePopupWidget()  # the shortcut sees Esc before the open list does
        if popup is not None:
            owner = popup.parentWidget()
            owner.hidePopup() if isinstance(owner, QComboBox) else popup.hide()
            return
        self.close_requested.emit()

    def _section_title(self, text: str) -> QLabel:
        return QLabel(f"<b>{text}</b>", self)

    def _rule(self) -> QFrame:
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        return line

    def _show_records(self) -> None:
        self.form.set_values(self.records.household)
        self.location.show_fix(self.records.household.get("location_accuracy_m"),
                               self.records.household.get("location_at"))
        self.members.members.reload()
        self.businesses.refresh_owners()
        self.businesses.reload()
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
        self.draft_timer.start()  # every change: the draft follows 400 ms after the last keystroke
        if self.is_new and not self.records.household.get("interview_started_at"):
            # the interview starts with the first thing typed into a new household (not with
            # opening the form, which may then sit idle); recorded, never shown as an input
            self.records.household["interview_started_at"] = utc_stamp()
        self.issues.withdraw_confirmation()
        if not self.dirty:
            self.dirty = True
            self.status.setText(_("Ada perubahan yang belum disimpan."))
        self._update_title()

    def _on_household_changed(self, key: str) -> None:
        self.records.household.update(self.form.values())
        if key in ("latitude", "longitude") and self.records.household.get("location_at"):
            # typed coordinates: the accuracy and time of an earlier fix no longer describe them
            self.records.household.update(location_accuracy_m=None, location_at=None)
            self.location.show_fix(None, None)
        self._mark_dirty()

    def _on_fix_taken(self, fix: Fix) -> None:
        """The location service answered: its coordinates replace whatever was typed."""
        latitude, longitude = round(fix.latitude, 6), round(fix.longitude, 6)
        self.form.set_value("latitude", latitude)
        self.form.set_value("longitude", longitude)
        self.records.household.update(latitude=latitude, longitude=longitude, location_at=fix.at,
                                      location_accuracy_m=None if fix.accuracy_m is None
                                      else round(fix.accuracy_m, 1))
        self._mark_dirty()

    def _on_members_changed(self) -> None:
        self.businesses.refresh_owners()
        self._mark_dirty()

    # history -----------------------------------------------------------------------------

    def show_form(self) -> None:
        self.pages.setCurrentWidget(self.scroll)

    def show_history(self) -> None:
        self.pages.setCurrentWidget(self.history)

    def _on_page_changed(self) -> None:
        if self.pages.currentWidget() is self.history:
            self.history.show_record(*self._worked_on())

    def _worked_on(self) -> tuple[str, str]:
        """The record whose part of the form had the focus last (the household when none did)."""
        focus = self._last_focus
        sections = ((self.members.placements, "placements"), (self.members.members, "members"),
                    (self.businesses, "businesses"))
        for section, entity_name in sections:
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
        r = copy.deepcopy(self.records)
        return HouseholdGraph(r.household, r.members, r.placements, r.businesses, dict(self.loaded))

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
        self.loaded = dict(graph.loaded)
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
        self.issues.clear()
        self.underneath.hide()
        self.members.members.set_issues({})
        self.members.placements.set_issues({})
        self.businesses.set_issues({})
        self._set_graph(graph)
        self.discard_draft()
        if self.pages.currentWidget() is self.history:
            self.history.show_record()

    def show_issues(self, issues: list[RecordIssue]) -> None:
        by_entity: dict[str, dict[str, list[Any]]] = {name: {} for name in ENTITIES}
        for ri in issues:
            by_entity[ri.entity].setdefault(ri.record_id, []).append(ri.issue)
        for placement_id in by_entity["placements"]:  # flag the member a placement problem belongs to
            placement = next((p for p in self.records.placements if p["id"] == placement_id), None)
            if placement is not None:
                by_entity["members"].setdefault(placement["member_id"], [])
        household_issues = by_entity["households"].get(self.household_id, [])
        self.form.show_errors(household_issues)
        self.members.members.set_issues(by_entity["members"])
        self.members.placements.set_issues(by_entity["placements"])
        self.businesses.set_issues(by_entity["businesses"])
        items = [PanelItem(ri.entity, ri.record_id, ri.issue.field, self._describe(ri), ri.issue.hard) for ri in issues]
        duplicates = [(ri.issue.ref, _("Buka rumah tangga yang sudah memakai NIK {nik}",
                                       nik=self._member_field(ri.record_id, "nik")))
                      for ri in issues if ri.issue.code == "nik_duplicate" and ri.issue.ref]
        self.issues.show_items(items, duplicates)
        self.show_form()
        self.scroll.ensureWidgetVisible(self.issues)

    def _member_field(self, member_id: str, key: str) -> str:
        member = next((m for m in self.records.members if m["id"] == member_id), {})
        return str(member.get(key) or "")

    def _describe(self, ri: RecordIssue) -> str:
        spec = ENTITIES[ri.entity]
        where = pick(spec.label_id, spec.label_en)
        record = self._find(ri.entity, ri.record_id)
        if ri.entity == "members" and record is not None:
            where = self.records.member_label(record)
        elif ri.entity == "placements" and record is not None:
            owner = next((m for m in self.records.members if m["id"] == record.get("member_id")), None)
            where = _("Penempatan {member}", member=self.records.member_label(owner) if owner else "")
        elif ri.entity == "businesses" and record is not None:
            where = _("Usaha {name}", name=self.records.business_label(record))
        label = pick(spec.field(ri.issue.field).label_id, spec.field(ri.issue.field).label_en) \
            if spec.has(ri.issue.field) else ri.issue.field
        return _("{where} — {field}: {message}", where=where, field=label, message=ri.issue.message)

    def _find(self, entity: str, record_id: str) -> dict[str, Any] | None:
        if entity == "households":
            return self.records.household
        rows = {"members": self.records.members, "placements": self.records.placements,
                "businesses": self.records.businesses}[entity]
        return next((r for r in rows if r.get("id") == record_id), None)

    def _go_to_issue(self, item: PanelItem) -> None:
        """Select the record the line is about and put the cursor in its field (scrolled into view)."""
        self.show_form()
        if item.entity == "households":
            self.form.focus_field(item.field)
            return
        if item.entity == "placements":
            placement = self._find("placements", item.record_id)
            if placement is not None:
                self.members.members.select_id(placement["member_id"])
                self.members.placements.select_id(item.record_id)
                self.members.placements.form.focus_field(item.field)
            return
        section = self.members.members if item.entity == "members" else self.businesses
        if section.select_id(item.record_id):
            section.form.focus_field(item.field)

    # drafts and closing ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to rebuild this editor (JSON-safe; saved as the draft)."""
        graph = self.graph()
        return {"is_new": self.is_new, "title": self.title(), "household": graph.household,
                "members": graph.members, "placements": graph.placements, "businesses": graph.businesses,
                "loaded": loaded_to_json(graph.loaded)}

    @classmethod
    def from_snapshot(cls, db: Any, data: dict[str, Any], *, draft_delay_ms: int = DRAFT_DELAY_MS) -> "HouseholdEditor":
        editor = cls(db, drafts.graph_of(db, data), draft_delay_ms=draft_delay_ms)
        editor.is_new = bool(data.get("is_new")) or record_store.get(db, "households", editor.household_id) is None
        editor.dirty = True
        editor.status.setText(_("Dipulihkan dari isian tersimpan otomatis; belum disimpan."))
        editor._update_title()
        editor.check_underneath()
        return editor

    def write_draft(self) -> None:
        """Save unsaved edits as a draft (400 ms after the last change, on leaving a field, on close)."""
        self.draft_timer.stop()
        if not self.dirty:
            return
        data = self.snapshot()
        text = json.dumps(data, sort_keys=True, default=str)
        if text == self._draft_text:
            return  # nothing new since the last write: spare the disk an fsync
        try:
            drafts.save_draft(self._db, self.household_id, data)
            self._draft_text = text
        except Exception as exc:  # disk full or a locked DB: keep typing, retry on the next tick
            log.warning("draft could not be written: %s", type(exc).__name__)

    def discard_draft(self) -> None:
        self.draft_timer.stop()
        drafts.discard_draft(self._db, self.household_id)
        self._draft_text = ""

    def ask_discard(self) -> bool:
        """True if there is nothing to lose or the officer agreed to throw the changes away."""
        if not self.dirty:
            return True
        if not dialogs.confirm(self, _("Buang perubahan?"),
                               _("Perubahan pada {title} belum disimpan. Buang perubahan itu?", title=self.title()),
                               _("Buang perubahan"), _("Kembali mengisi"), destructive=True):
            return False
        self.discard_draft()
        self.dirty = False
        return True

