"""The form page of the household editor: the household's own fields, then its members (with their
placements) and businesses, under the summary of issues.

The page reads and changes the editor's in-memory ``HouseholdGraph`` directly (plain dicts,
exactly what is saved and what the draft holds) and says so with ``changed``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from desmig_desktop.domain import umkm
from desmig_desktop.domain.fields import PLACEMENT_STATUSES
from desmig_desktop.domain.i18n import _, get_language, pick
from desmig_desktop.domain.ids import new_id
from desmig_desktop.errors import RecordIssue
from desmig_desktop.services import questionnaire
from desmig_desktop.services.handle import Database
from desmig_desktop.services.households import HouseholdGraph
from desmig_desktop.ui.child_section import ChildSection, Record
from desmig_desktop.ui.field_widgets import ComboEditor, DerivedEditor
from desmig_desktop.ui.form import SpecForm
from desmig_desktop.ui.issue_routing import PanelItem, route_issues, target_of
from desmig_desktop.ui.issues_panel import IssuesPanel, UnderneathNotice
from desmig_desktop.ui.location import Fix, LocationBar

# Adding a child record, from anywhere in the form (shown on the buttons and in the Ubah menu).
ADD_MEMBER_KEY, ADD_PLACEMENT_KEY, ADD_BUSINESS_KEY = "Ctrl+Shift+A", "Ctrl+Shift+P", "Ctrl+Shift+U"


class MembersSection(QWidget):
    """Members, and under the selected member that member's placements (PMI aktif/purna only)."""

    changed = Signal()

    def __init__(self, records: HouseholdGraph, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records = records
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # The questions of the version this database is on (a version a sync applied shows in
        # the forms opened after it).
        self.members = ChildSection(
            questionnaire.entity_spec(db, "members"), db, title=_("Anggota rumah tangga"),
            rows=lambda: self.records.members, add_record=self._add_member, remove_record=self._remove_member,
            add_text=_("Tambah anggota ({key})", key=ADD_MEMBER_KEY), remove_text=_("Hapus anggota"),
            describe=records.member_label, parent=self)
        layout.addWidget(self.members)
        self.placements = ChildSection(
            questionnaire.entity_spec(db, "placements"), db, title=_("Riwayat penempatan anggota ini"),
            rows=self._member_placements, add_record=self._add_placement, remove_record=self._remove_placement,
            add_text=_("Tambah penempatan ({key})", key=ADD_PLACEMENT_KEY), remove_text=_("Hapus penempatan"),
            describe=records.placement_label,
            visible_rows=2, parent=self)
        self.placements.setObjectName("placements_section")
        self.members.extra.addWidget(self.placements)
        self.members.current_changed.connect(lambda _m: self._on_member_selected())
        self.members.form.changed.connect(self._on_member_field_changed)
        self.members.changed.connect(self.changed)
        self.placements.changed.connect(self.changed)
        self._on_member_selected()

    def _current_member_id(self) -> str | None:
        member = self.members.current()
        return member["id"] if member else None

    def _member_placements(self) -> list[Record]:
        member_id = self._current_member_id()
        return [p for p in self.records.placements if p.get("member_id") == member_id] if member_id else []

    def _add_member(self) -> Record:
        member: Record = {"id": new_id()}
        if not self.records.members:  # the first line of the paper form is the head of household
            member.update(name=self.records.household.get("head_name"), relationship="kepala")
        self.records.members.append(member)
        return member

    def _remove_member(self, member: Record) -> None:
        self.records.members.remove(member)
        self.records.placements[:] = [p for p in self.records.placements if p.get("member_id") != member["id"]]
        for business in self.records.businesses:
            if business.get("owner_member_id") == member["id"]:
                business["owner_member_id"] = None

    def _add_placement(self) -> Record | None:
        member_id = self._current_member_id()
        if member_id is None:
            return None
        placement: Record = {"id": new_id(), "member_id": member_id}
        self.records.placements.append(placement)
        return placement

    def _remove_placement(self, placement: Record) -> None:
        self.records.placements.remove(placement)

    def _on_member_selected(self) -> None:
        self.placements.reload()
        self._update_placement_visibility()

    def _on_member_field_changed(self, key: str) -> None:
        if key == "migration_status":
            self._update_placement_visibility()

    def _update_placement_visibility(self) -> None:
        member = self.members.current()
        wanted = member is not None and (member.get("migration_status") in PLACEMENT_STATUSES
                                         or bool(self._member_placements()))
        self.placements.setVisible(wanted)


class BusinessesSection(ChildSection):
    """Businesses with the owner chosen among the members and the UMKM class computed live."""

    def __init__(self, records: HouseholdGraph, db: Database, parent: QWidget | None = None) -> None:
        self.records = records
        self.spec = questionnaire.entity_spec(db, "businesses")
        keys = [f.key for f in self.spec.fields if f.key not in ("household_id", "umkm_basis")]
        super().__init__(
            self.spec, db, title=_("Unit usaha"),
            rows=lambda: self.records.businesses, add_record=self._add_business,
            remove_record=self.records.businesses.remove, add_text=_("Tambah usaha ({key})", key=ADD_BUSINESS_KEY),
            remove_text=_("Hapus usaha"),
            describe=records.business_label, form_keys=keys, visible_rows=3, parent=parent)
        self.form.changed.connect(self._on_business_field_changed)
        self.current_changed.connect(lambda _b: self._show_umkm())

    @property
    def owner_editor(self) -> ComboEditor:
        editor = self.form.editors["owner_member_id"]
        assert isinstance(editor, ComboEditor)
        return editor

    def refresh_owners(self) -> None:
        """Offer the current members (by name) as owners, keeping the selection."""
        self.form._loading = True
        try:
            self.owner_editor.set_options([(m["id"], self.records.member_label(m)) for m in self.records.members])
        finally:
            self.form._loading = False

    def _add_business(self) -> Record:
        business: Record = {"id": new_id(), "household_id": self.records.household.get("id"), "status": "aktif"}
        self.records.businesses.append(business)
        return business

    def _on_business_field_changed(self, key: str) -> None:
        if key in ("capital", "annual_turnover"):
            self._show_umkm()

    def _show_umkm(self) -> None:
        business = self.current()
        editor = self.form.editors["umkm_class"]
        assert isinstance(editor, DerivedEditor)
        if business is None:
            editor.set_text("")
            return
        cls, basis = umkm.classify(business.get("capital"), business.get("annual_turnover"))
        business["umkm_class"], business["umkm_basis"] = cls, basis
        row = self.table.currentIndex().row()
        self.model.row_changed(row)
        if cls is None:
            editor.set_text(_("diisi otomatis dari modal atau hasil penjualan"))
            return
        spec = self.spec.field("umkm_class")
        basis_spec = self.spec.field("umkm_basis")
        lang = get_language()
        editor.set_text(_("{umkm_class} (menurut {basis})", umkm_class=spec.choice_label(cls, lang),
                          basis=basis_spec.choice_label(basis or "", lang).lower()))


class HouseholdPage(QScrollArea):
    """The scrolling form page: heading, issues summary, notice, household fields, members, businesses."""

    changed = Signal()  # the officer changed something of the household graph

    def __init__(self, records: HouseholdGraph, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records = records
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 8, 12, 8)
        self.heading = QLabel(body)
        self.heading.setObjectName("editor_heading")
        self.heading.setStyleSheet("font-size: 15pt; font-weight: bold;")
        layout.addWidget(self.heading)
        self.issues = IssuesPanel(body)
        layout.addWidget(self.issues)
        self.underneath = UnderneathNotice(body)
        layout.addWidget(self.underneath)
        households = questionnaire.entity_spec(db, "households")
        layout.addWidget(QLabel(f"<b>{pick(households.label_id, households.label_en)}</b>", body))
        self.form = SpecForm(households, db, parent=body)
        layout.addWidget(self.form)
        self.location = LocationBar(body)
        layout.addWidget(self.location)
        # Tab: … Lintang, Bujur, "Ambil lokasi", Tanggal kunjungan …
        QWidget.setTabOrder(self.form.editors["longitude"].focus_widget, self.location.button)
        QWidget.setTabOrder(self.location.button, self.form.editors["visited_on"].focus_widget)
        layout.addWidget(_rule(body))
        self.members = MembersSection(records, db, body)
        layout.addWidget(self.members)
        layout.addWidget(_rule(body))
        self.businesses = BusinessesSection(records, db, body)
        layout.addWidget(self.businesses)
        layout.addStretch(1)
        self.setWidget(body)
        self.sections: dict[str, ChildSection] = {"members": self.members.members,
                                                  "placements": self.members.placements,
                                                  "businesses": self.businesses}
        self.form.changed.connect(self._on_household_changed)
        self.location.fix_taken.connect(self._on_fix_taken)
        self.members.changed.connect(self._on_members_changed)
        self.businesses.changed.connect(self.changed)

    def show_records(self) -> None:
        """Show the graph as it is now (loaded, reloaded or refreshed underneath)."""
        household = self.records.household
        self.form.set_values(household)
        self.location.show_fix(household.get("location_accuracy_m"), household.get("location_at"))
        self.members.members.reload()
        self.businesses.refresh_owners()
        self.businesses.reload()

    def _on_household_changed(self, key: str) -> None:
        self.records.household.update(self.form.values())
        if key in ("latitude", "longitude") and self.records.household.get("location_at"):
            # typed coordinates: the accuracy and time of an earlier fix no longer describe them
            self.records.household.update(location_accuracy_m=None, location_at=None)
            self.location.show_fix(None, None)
        self.changed.emit()

    def _on_fix_taken(self, fix: Fix) -> None:
        """The location service answered: its coordinates replace whatever was typed."""
        latitude, longitude = round(fix.latitude, 6), round(fix.longitude, 6)
        self.form.set_value("latitude", latitude)
        self.form.set_value("longitude", longitude)
        self.records.household.update(latitude=latitude, longitude=longitude, location_at=fix.at,
                                      location_accuracy_m=None if fix.accuracy_m is None
                                      else round(fix.accuracy_m, 1))
        self.changed.emit()

    def _on_members_changed(self) -> None:
        self.businesses.refresh_owners()
        self.changed.emit()

    # issues ------------------------------------------------------------------------------

    def show_issues(self, issues: list[RecordIssue]) -> None:
        """Each issue beside its field, its record marked in its section, all of them in the summary."""
        routed = route_issues(self.records, issues)
        self.form.show_errors(routed.household)
        for entity_name, section in self.sections.items():
            section.set_issues(routed.children[entity_name])
        self.issues.show_items(routed.items, routed.duplicates)
        self.ensureWidgetVisible(self.issues)

    def clear_issues(self) -> None:
        self.issues.clear()
        for section in self.sections.values():
            section.set_issues({})

    def go_to_issue(self, item: PanelItem) -> None:
        """Select the record the line is about and put the cursor in its field (scrolled into view)."""
        target = target_of(self.records, item)
        if target is None:
            return
        if target.record_id is None:
            self.form.focus_field(target.field)
            return
        if target.member_id is not None:
            self.members.members.select_id(target.member_id)
        section = self.sections[target.entity]
        if section.select_id(target.record_id):
            section.form.focus_field(target.field)


def _rule(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
