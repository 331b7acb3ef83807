"""The list of one programme page: records fetched page by page from SQL as the view scrolls
(like the household list), with the columns the page names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from desmig_desktop.domain.fields import Kind
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.services import questionnaire
from desmig_desktop.services.handle import Database
from desmig_desktop.services.programme_lists import ProgrammeFilter, count_records, list_records
from desmig_desktop.ui.formatting import display_value
from desmig_desktop.ui.models import ID_ROLE

_Index = QModelIndex | QPersistentModelIndex
_NUMBERS = ("age_days", "attendees", "members_count")


def extra_header(key: str) -> str:
    """The header of a column the list computes (not a field of the record)."""
    return {"village": _("Desa/kelurahan"), "person": _("Orang yang dilayani"), "age_days": _("Umur kasus (hari)"),
            "business_name": _("Unit usaha"), "attendees": _("Hadir (terdata)"),
            "members_count": _("Anggota")}.get(key, key)


class ProgrammeTableModel(QAbstractTableModel):
    """Records of one programme entity matching a filter; only the pages the view asked for are loaded."""

    def __init__(self, db: Database, entity_name: str, columns: Sequence[str], *, page_size: int = 200,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._db = db
        self.spec = questionnaire.entity_spec(db, entity_name)  # labels and answers of the active version
        self.columns = tuple(columns)
        self.page_size = page_size
        self._filter = ProgrammeFilter()
        self._rows: list[dict[str, Any]] = []
        self._total = 0
        self.pages_fetched = 0
        self._fetching = False

    @property
    def total(self) -> int:
        return self._total

    @property
    def filter(self) -> ProgrammeFilter:
        return self._filter

    def set_filter(self, flt: ProgrammeFilter, columns: Sequence[str] | None = None) -> None:
        self._filter = flt
        if columns is not None:
            self.columns = tuple(columns)
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self.spec = questionnaire.entity_spec(self._db, self.spec.name)  # a sync may have applied a newer version
        self._rows = []
        self.pages_fetched = 0
        self._total = count_records(self._db, self.spec.name, self._filter)
        self.endResetModel()
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())

    def record_id(self, row: int) -> str:
        return str(self._rows[row]["id"])

    def row_of(self, record_id: str) -> int | None:
        return next((n for n, r in enumerate(self._rows) if r["id"] == record_id), None)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and not self._fetching and len(self._rows) < self._total

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid() or self._fetching:
            return  # a view asking again while this page is being announced would fetch it twice
        page = list_records(self._db, self.spec.name, self._filter, offset=len(self._rows), limit=self.page_size)
        if not page:
            self._total = len(self._rows)  # rows vanished since counting
            return
        first = len(self._rows)
        self._fetching = True
        try:
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self._rows.extend(page)
            self.pages_fetched += 1
            self.endInsertRows()
        finally:
            self._fetching = False

    def _text(self, record: dict[str, Any], key: str) -> str:
        if self.spec.has(key):
            fs = self.spec.field(key)
            if fs.kind is Kind.REGION:
                return str(record.get("village") or record.get(key) or "")
            return display_value(fs, record.get(key))
        value = record.get(key)
        if key in _NUMBERS and value is not None:
            return grouped(int(value))
        return "" if value is None else str(value)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < len(self.columns):
            return None
        record, key = self._rows[index.row()], self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(record, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and (key in _NUMBERS or (
                self.spec.has(key) and self.spec.field(key).kind in (Kind.INT, Kind.MONEY))):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return record["id"]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < len(self.columns):
            return None
        key = self.columns[section]
        if self.spec.has(key):
            fs = self.spec.field(key)
            return pick(fs.label_id, fs.label_en)
        return extra_header(key)
