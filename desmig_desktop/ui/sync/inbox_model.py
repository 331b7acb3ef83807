"""Rows of the conflicts inbox in words an officer reads: whose household, which field, which values.

``inbox_rows(db, items)`` resolves each ``sync_service.ConflictItem`` to its household and
formats the values the way the forms show them (``Rp 1.500.000``, choice labels, dates);
``InboxModel`` is the table over those rows (a few dozen at most: an inbox is emptied as it is read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from desmig_desktop.domain.fields import ENTITIES, Kind
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.services import regions
from desmig_desktop.services.handle import Database
from desmig_desktop.services.sync_service import ConflictItem, conflict_place
from desmig_desktop.ui.formatting import display_value
from desmig_desktop.ui.sync.indicator import clock_text, local_time

_Index = QModelIndex | QPersistentModelIndex
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
EMPTY = "—"


@dataclass(frozen=True)
class InboxRow:
    item: ConflictItem
    household_id: str | None
    household: str  # "Budi Santoso — Cijayanti"
    record: str  # "Anggota rumah tangga: Siti Aminah"
    field: str
    mine: str
    theirs: str
    reason: str
    when: str
    won_by: str = ""  # conflicts: who won and why ("HQ (pusat) — Peran lebih tinggi menang …")


def _value(entity: str, key: str, value: Any) -> str:
    spec = ENTITIES[entity]
    if value is None or value == "" or value == []:
        return EMPTY
    return display_value(spec.field(key), value) if spec.has(key) else str(value)


def _whole(entity: str, value: Any, *, mine: bool) -> str:
    """A whole-record value (a delete racing an edit, or a rejected change)."""
    if isinstance(value, dict) and value.get("deleted") is True:  # the store's mark for a delete
        return _("Dihapus") if mine else _("Sudah dihapus")
    if isinstance(value, dict) and value.get("deleted") is False and len(value) == 1:
        return _("Masih ada")
    if isinstance(value, dict) and value:
        spec = ENTITIES[entity]
        shown = [(k, v) for k, v in value.items() if spec.has(k) and spec.field(k).kind not in (Kind.REF, Kind.DERIVED)]
        parts = [f"{pick(spec.field(k).label_id, spec.field(k).label_en)}: {_value(entity, k, v)}" for k, v in shown]
        return "; ".join(parts[:4]) + ("; …" if len(parts) > 4 else "") if parts else _("Perubahan data")
    return EMPTY


def readable_reason(entity: str, reason: str | None) -> str:
    """The server's reason with field keys turned into labels (``nik: …`` → ``NIK: …``) and each
    rule text the app knows in the officer's language (the server writes Bahasa Indonesia)."""
    if not reason:
        return _("Server tidak menyebutkan alasannya.")
    spec = ENTITIES.get(entity)
    parts = []
    for part in reason.split("; "):
        key, sep, rest = part.partition(": ")
        if sep and spec is not None and spec.has(key):
            part = f"{pick(spec.field(key).label_id, spec.field(key).label_en)}: {_(rest)}"
        else:
            part = _(part)  # a text without a known msgid stays as sent
        parts.append(part)
    return "; ".join(parts)


def inbox_rows(db: Database, items: Sequence[ConflictItem]) -> list[InboxRow]:
    rows = []
    names: dict[str, str] = {}
    for item in items:
        spec = ENTITIES.get(item.entity)
        if spec is None:
            continue
        place = conflict_place(db, item)
        record, household_id, household = place.record, place.household_id, place.household
        head = (household or {}).get("head_name") or _("(tanpa nama)")
        village = (household or {}).get("village_code")
        if village and village not in names:
            names.update(regions.names(db, [village]))
        where = f"{head} — {names.get(village, village)}" if village else head
        label = pick(spec.label_id, spec.label_en)
        own = (record or (item.mine if isinstance(item.mine, dict) else {}) or {}).get("name")
        what = f"{label}: {own}" if own and item.entity != "households" else label
        if item.kind == "conflict" and item.field not in (None, "*"):
            assert item.field is not None
            mine, theirs = _value(item.entity, item.field, item.mine), _value(item.entity, item.field, item.theirs)
            field = item.field_label
        else:
            mine = _whole(item.entity, item.mine, mine=True)
            theirs = _whole(item.entity, item.theirs, mine=False) if item.theirs is not None else EMPTY
            field = item.field_label or _("Seluruh data")
        when = local_time(item.created_at)
        won_by = " — ".join(part for part in (item.winner, item.why) if part) or EMPTY
        rows.append(InboxRow(item, household_id, where, what, field, mine, theirs,
                             readable_reason(item.entity, item.reason) if item.kind == "rejected" else (item.reason or ""),
                             clock_text(when) if when else "", won_by))
    return rows


class InboxModel(QAbstractTableModel):
    """One kind of inbox row: ``"conflict"`` (field, mine, winning) or ``"rejected"`` (reason, sent)."""

    def __init__(self, kind: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.rows: list[InboxRow] = []
        self.columns: tuple[tuple[str, str], ...] = (
            (("household", _("Rumah tangga")), ("record", _("Data")), ("field", _("Isian")),
             ("mine", _("Nilai saya")), ("theirs", _("Nilai yang berlaku")),
             ("won_by", _("Dimenangkan oleh")), ("when", _("Waktu")))
            if kind == "conflict" else
            (("household", _("Rumah tangga")), ("record", _("Data")), ("reason", _("Alasan dari server")),
             ("mine", _("Yang dikirim")), ("when", _("Waktu"))))

    def set_rows(self, rows: Sequence[InboxRow]) -> None:
        self.beginResetModel()
        self.rows = [r for r in rows if r.item.kind == self.kind]
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows) or not 0 <= index.column() < len(self.columns):
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return str(getattr(row, self.columns[index.column()][0]))
        if role == ITEM_ROLE:
            return row.item.id
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return self.columns[section][1] if 0 <= section < len(self.columns) else None

    def row_of(self, conflict_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.item.id == conflict_id), None)
