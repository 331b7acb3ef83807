"""Item models: the lazily fetched household list and the small record tables of the editor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desmig_desktop.domain.fields import HOUSEHOLDS, EntitySpec, Kind, list_columns
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.issues import Issue
from desmig_desktop.services.handle import Database
from desmig_desktop.services.queries import HouseholdFilter, count_households, search_households
from desmig_desktop.ui.formatting import display_value, format_date

_Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole
_NUMERIC = ("members", "businesses")  # after the households' list columns: how many of each they have
_PAGE_KEY = {"village_code": "village"}  # the list shows (and sorts by) the village's name, not its code


class HouseholdTableModel(QAbstractTableModel):
    """Households matching a filter, fetched page by page from SQL as the view scrolls.

    Rows are kept as compact tuples; only the pages the view asked for (``fetchMore``) are ever
    loaded, so a 100k-household database costs one page at start.
    """

    COLUMNS = list_columns(HOUSEHOLDS) + _NUMERIC
    _ROW_KEYS = ("id", *(_PAGE_KEY.get(key, key) for key in COLUMNS))  # what a row keeps of a page's record

    def __init__(self, db: Database, *, page_size: int = 200, parent: Any = None) -> None:
        super().__init__(parent)
        self._db = db
        self.page_size = page_size
        self._filter = HouseholdFilter()
        self._rows: list[tuple[Any, ...]] = []
        self._total = 0
        self._order_by = "head_name"
        self._descending = False
        self.pages_fetched = 0

    @property
    def filter(self) -> HouseholdFilter:
        return self._filter

    @property
    def total(self) -> int:
        """How many households match the filter (not how many are loaded)."""
        return self._total

    @property
    def rows_fetched(self) -> int:
        return len(self._rows)

    def set_filter(self, flt: HouseholdFilter) -> None:
        self._filter = flt
        self.refresh()

    def refresh(self) -> None:
        """Drop the loaded rows and fetch the first page again (after a save, delete or filter change)."""
        self.beginResetModel()
        self._rows = []
        self.pages_fetched = 0
        self._total = count_households(self._db, self._filter)
        self.endResetModel()
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())

    def count_all(self) -> int:
        """How many households there are with no filter at all (to tell "none yet" from "filtered out")."""
        return count_households(self._db, HouseholdFilter())

    def household_id(self, row: int) -> str:
        return str(self._rows[row][0])

    def row_of(self, household_id: str) -> int | None:
        return next((n for n, r in enumerate(self._rows) if r[0] == household_id), None)

    # Qt overrides ------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid():
            return
        page = search_households(self._db, self._filter, offset=len(self._rows), limit=self.page_size,
                                 order_by=self._order_by, descending=self._descending)
        if not page:
            self._total = len(self._rows)  # rows vanished since counting (e.g. deleted elsewhere)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(tuple(r[k] for k in self._ROW_KEYS) for r in page)
        self.pages_fetched += 1
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < len(self.COLUMNS):
            return None
        row = self._rows[index.row()]
        key = self.COLUMNS[index.column()]
        value = row[index.column() + 1]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "visited_on":
                return format_date(value)
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return row[0]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < len(self.COLUMNS):
            return None
        key = self.COLUMNS[section]
        if key == "members":
            return _("Anggota")
        if key == "businesses":
            return _("Usaha")
        fs = HOUSEHOLDS.field(key)
        return pick(fs.label_id, fs.label_en)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        self._order_by = _PAGE_KEY.get(self.COLUMNS[column], self.COLUMNS[column])
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()


class RecordListModel(QAbstractTableModel):
    """Records of one entity held in memory by the editor (a household's members, placements…).

    ``rows`` returns the current list of value dicts (the editor's graph), so the model never
    holds a stale copy; call ``reset()`` after adding/removing and ``row_changed()`` after edits.
    The columns are the spec's list columns unless ``columns`` names others. ``ref_label(key, id)``
    names the record a reference points to (a member picked from a list), else the id would show.
    """

    def __init__(self, spec: EntitySpec, columns: Sequence[str] | None, rows: Callable[[], list[dict[str, Any]]],
                 parent: Any = None, *, ref_label: Callable[[str, Any], str] | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._ref_label = ref_label
        self.columns = list_columns(spec) if columns is None else tuple(columns)
        self._rows = rows
        self._issues: dict[str, list[Issue]] = {}

    def record(self, row: int) -> dict[str, Any]:
        return self._rows()[row]

    def row_of(self, record_id: str) -> int | None:
        return next((n for n, r in enumerate(self._rows()) if r.get("id") == record_id), None)

    def reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def row_changed(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))

    def set_issues(self, issues: dict[str, list[Issue]]) -> None:
        self._issues = issues
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(self.columns) - 1))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows())

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        rows = self._rows()
        if not index.isValid() or not 0 <= index.row() < len(rows) or not 0 <= index.column() < len(self.columns):
            return None
        record = rows[index.row()]
        issues = self._issues.get(record.get("id") or "", [])
        if role == Qt.ItemDataRole.DisplayRole:
            key = self.columns[index.column()]
            fs = self.spec.field(key)
            if fs.kind is Kind.REF and self._ref_label is not None and record.get(key):
                text = self._ref_label(key, record[key])
            else:
                text = display_value(fs, record.get(key))
            if index.column() == 0 and not text:
                return _("(belum diisi)")
            return text
        if role == Qt.ItemDataRole.ToolTipRole and issues:
            return "\n".join(i.message for i in issues)
        if role == Qt.ItemDataRole.BackgroundRole and issues:
            return QBrush(QColor("#fde7e9") if any(i.hard for i in issues) else QColor("#fff4ce"))
        if role == Qt.ItemDataRole.ForegroundRole and issues:
            return QBrush(QColor("#1a1a1a"))
        if role == ID_ROLE:
            return record.get("id")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < len(self.columns):
            return None
        fs = self.spec.field(self.columns[section])
        return pick(fs.label_id, fs.label_en)
