"""The "Riwayat" tab of the household editor: who changed which field of a record, from what to what.

Rows come from the local append-only audit trail (``services.queries.record_history``), one per saved
field change, newest first. Field names are the questionnaire's labels and values are shown as
the form shows them (Rp amounts, dd/mm/yyyy dates, choice labels, member names for links).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QVBoxLayout, QWidget

from desmig_desktop.domain.fields import ENTITIES, FieldSpec, Kind
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.services import regions
from desmig_desktop.services.handle import Database
from desmig_desktop.services.households import HouseholdGraph
from desmig_desktop.services.queries import record_history
from desmig_desktop.ui.formatting import display_value, field_label
from desmig_desktop.ui.tables import KeyTable, record_list

_Index = QModelIndex | QPersistentModelIndex
DELETED = "deleted"


@dataclass(frozen=True)
class HistoryRow:
    when: str  # dd/mm/yyyy HH:MM, local time
    who: str
    field: str  # the field's label
    old: str
    new: str


def local_time(at: str) -> str:
    """``2025-06-01T02:03:04.000001Z`` (UTC) → ``01/06/2025 09:03`` in the laptop's time zone."""
    try:
        moment = dt.datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone().strftime("%d/%m/%Y %H:%M")


class ValueText:
    """Turns stored values into what the form shows; links to records become names."""

    def __init__(self, db: Database, names: Callable[[str], str | None]) -> None:
        self._db = db
        self._names = names

    def __call__(self, spec: FieldSpec | None, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "–"
        if spec is None:  # the "deleted" mark, or a field of a newer questionnaire
            return (_("Ya") if value else _("Tidak")) if isinstance(value, bool) else str(value)
        if spec.kind is Kind.REF:
            return self._names(str(value)) or str(value)
        if spec.kind is Kind.REGION:
            return regions.village_label(self._db, str(value))
        return display_value(spec, value) or "–"


def _newest_save_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Saves newest first (in the order this laptop recorded them); the fields of one save in form order."""
    saves: list[list[dict[str, Any]]] = []
    for item in items:
        if saves and (saves[-1][0]["at"], saves[-1][0]["op_seq"]) == (item["at"], item["op_seq"]):
            saves[-1].append(item)
        else:
            saves.append([item])
    return [item for save in reversed(saves) for item in save]


def history_rows(db: Database, entity: str, record_id: str, text: ValueText) -> list[HistoryRow]:
    """The record's field changes, newest save first, ready to show."""
    spec = ENTITIES[entity]
    out = []
    for item in _newest_save_first(record_history(db, entity, record_id)):
        key = item["field"]
        fs = spec.field(key) if spec.has(key) else None
        name = field_label(fs) if fs else (_("Dihapus") if key == DELETED else key)
        who = item["actor"] or _("(tanpa nama)")
        if item["source"] not in (None, "local"):
            who = _("{who} (dari server)", who=who)
        out.append(HistoryRow(local_time(item["at"]), who, name, text(fs, item["old"]), text(fs, item["new"])))
    return out


class HistoryModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[HistoryRow] = []

    def set_rows(self, rows: list[HistoryRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, n: int) -> HistoryRow:
        return self._rows[n]

    @staticmethod
    def headers() -> list[str]:
        return [_("Waktu"), _("Oleh"), _("Isian"), _("Sebelumnya"), _("Sesudahnya")]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else 5

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < 5:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            row = self._rows[index.row()]
            return (row.when, row.who, row.field, row.old, row.new)[index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < 5:
            return self.headers()[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class HistoryPanel(QWidget):
    """A record picker (the household, its members, placements and businesses) and that record's history."""

    def __init__(self, db: Database, records: HouseholdGraph, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._records = records
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Riwayat perubahan untuk:"), self))
        self.picker = QComboBox(self)
        self.picker.setObjectName("history_record")
        self.picker.setMinimumContentsLength(40)
        top.addWidget(self.picker, 1)
        layout.addLayout(top)
        self.model = HistoryModel(self)
        self.table = KeyTable(self)  # Tab leaves it, as every table of the app
        self.table.setObjectName("history_table")
        self.table.setModel(self.model)
        record_list(self.table, single=False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.note = QLabel(self)
        self.note.setObjectName("history_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        layout.addWidget(self.note)
        self._text = ValueText(db, self._name_of)
        self.picker.currentIndexChanged.connect(lambda _i: self._show_current())

    def _name_of(self, record_id: str) -> str | None:
        if record_id == self._records.household.get("id"):
            return str(self._records.household.get("head_name") or "") or None
        member = next((m for m in self._records.members if m.get("id") == record_id), None)
        return self._records.member_label(member) if member is not None else None

    def _choices(self) -> list[tuple[str, str, str]]:
        """``(label, entity, id)`` for every record of the household, in the form's order."""
        r = self._records
        spec = ENTITIES["households"]
        household = pick(spec.label_id, spec.label_en)
        out = [(f"{household}: {r.household.get('head_name') or _('Rumah tangga baru')}", "households",
                str(r.household["id"]))]
        for member in r.members:
            out.append((_("Anggota: {name}", name=r.member_label(member)), "members", member["id"]))
            for placement in (p for p in r.placements if p.get("member_id") == member["id"]):
                out.append((_("Penempatan: {member} — {where}", member=r.member_label(member),
                              where=r.placement_label(placement)), "placements", placement["id"]))
        for business in r.businesses:
            out.append((_("Usaha: {name}", name=r.business_label(business)), "businesses", business["id"]))
        return out

    def show_record(self, entity: str | None = None, record_id: str | None = None) -> None:
        """Refill the picker from the household as it is now and show ``record_id`` (default: the household)."""
        wanted = (entity, record_id) if record_id else self.current_record()
        self.picker.blockSignals(True)
        self.picker.clear()
        for label, kind, rid in self._choices():
            self.picker.addItem(label, (kind, rid))
        index = next((i for i in range(self.picker.count()) if self.picker.itemData(i) == wanted), 0)
        self.picker.setCurrentIndex(index)
        self.picker.blockSignals(False)
        self._show_current()

    def current_record(self) -> tuple[str, str] | None:
        data = self.picker.currentData()
        return tuple(data) if data else None

    def _show_current(self) -> None:
        current = self.current_record()
        rows = history_rows(self._db, current[0], current[1], self._text) if current else []
        self.model.set_rows(rows)
        if rows:
            self.note.setText(_("{count} perubahan tersimpan, terbaru di atas. Riwayat ini dicatat di laptop ini "
                                "dan tidak bisa diubah.", count=len(rows)))
        else:
            self.note.setText(_("Belum ada perubahan tersimpan untuk data ini. Riwayat mulai tercatat saat "
                                "data disimpan."))
