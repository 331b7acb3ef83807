"""The child sections of the household editor: members (with their placements) and businesses.

``HouseholdRecords`` is the editor's in-memory graph (plain dicts, exactly what is saved and
what the draft file holds); the sections read and change it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desmig_desktop.domain import umkm
from desmig_desktop.domain.fields import BUSINESSES, MEMBERS, PLACEMENT_STATUSES, PLACEMENTS
from desmig_desktop.domain.i18n import _, get_language
from desmig_desktop.domain.ids import new_id
from desmig_desktop.ui.child_section import ChildSection, Record
from desmig_desktop.ui.field_widgets import ComboEditor, DerivedEditor
from desmig_desktop.ui.formatting import country_name

# Adding a child record, from anywhere in the form (shown on the buttons and in the Ubah menu).
ADD_MEMBER_KEY, ADD_PLACEMENT_KEY, ADD_BUSINESS_KEY = "Ctrl+Shift+A", "Ctrl+Shift+P", "Ctrl+Shift+U"


@dataclass
class HouseholdRecords:
    household: Record
    members: list[Record] = field(default_factory=list)
    placements: list[Record] = field(default_factory=list)
    businesses: list[Record] = field(default_factory=list)

    def member_label(self, member: Record) -> str:
        if member.get("name"):
            return str(member["name"])
        number = next((n for n, m in enumerate(self.members, 1) if m is member), 0)
        return _("Anggota ke-{number}", number=number)

    def placement_label(self, placement: Record) -> str:
        return country_name(placement["country"]) if placement.get("country") else _("riwayat penempatan")

    def business_label(self, business: Record) -> str:
        return str(business["name"]) if business.get("name") else _("unit usaha")


class MembersSection(QWidget):
    """Members, and under the selected member that member's placements (PMI aktif/purna only)."""

    changed = Signal()

    def __init__(self, records: HouseholdRecords, db: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records = records
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.members = ChildSection(
            MEMBERS, db, title=_("Anggota rumah tangga"), columns=("name", "nik", "relationship", "migration_status"),
            rows=lambda: self.records.members, add_record=self._add_member, remove_record=self._remove_member,
            add_text=_("Tambah anggota ({key})", key=ADD_MEMBER_KEY), remove_text=_("Hapus anggota"),
            describe=records.member_label, parent=self)
        layout.addWidget(self.members)
        self.placements = ChildSection(
            PLACEMENTS, db, title=_("Riwayat penempatan anggota ini"),
            columns=("country", "job", "departed_on", "returned_on"),
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

    def __init__(self, records: HouseholdRecords, db: Any, parent: QWidget | None = None) -> None:
        self.records = records
        keys = [f.key for f in BUSINESSES.fields if f.key not in ("household_id", "umkm_basis")]
        super().__init__(
            BUSINESSES, db, title=_("Unit usaha"), columns=("name", "kbli_category", "umkm_class", "export_ready"),
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
        spec = BUSINESSES.field("umkm_class")
        basis_spec = BUSINESSES.field("umkm_basis")
        lang = get_language()
        editor.set_text(_("{umkm_class} (menurut {basis})", umkm_class=spec.choice_label(cls, lang),
                          basis=basis_spec.choice_label(basis or "", lang).lower()))
