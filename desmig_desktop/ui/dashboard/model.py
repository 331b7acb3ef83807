"""The dashboard's table: one row per region of the report, one column per figure."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from desmig_desktop.domain.i18n import _
from desmig_desktop.ui.dashboard import figures

_Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole  # the raw value: numbers sort as numbers
CODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's region code (for drilling down)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def _wrapped(text: str, width: int = 12) -> str:
    """A long header label on several short lines, so the figure columns stay narrow."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


class ReportTableModel(QAbstractTableModel):
    """Rows of one ``build_report`` result: code, region name, then the figures it carries."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Mapping[str, Any]] = []
        self._keys: tuple[str, ...] = ()
        self._level = "province"
        self._has_report = False  # no columns at all until the first report arrives
        self._shown_titles: dict[int, str] = {}  # section -> the title fitted to its width (``FittingHeader``)

    # data --------------------------------------------------------------------------------

    def set_report(self, report: Mapping[str, Any] | None) -> None:
        self.beginResetModel()
        self._rows = list(report["rows"]) if report else []
        self._keys = figures.columns(report) if report else ()
        self._level = str(report["level"]) if report else "province"
        self._has_report = report is not None
        self._shown_titles = {}  # other columns: fitted again by the header
        self.endResetModel()

    @property
    def keys(self) -> tuple[str, ...]:
        """The figure keys shown, in column order (after the code and name columns)."""
        return self._keys

    @property
    def level(self) -> str:
        return self._level

    def headers(self) -> list[str]:
        """One-line column titles (for exports)."""
        return [_("Kode"), figures.level_label(self._level), *(figures.label(k) for k in self._keys)]

    def titles(self, section: int) -> tuple[str, str]:
        """The full and the abbreviated title of a column."""
        full = self.headers()[section]
        return full, (figures.short_label(self._keys[section - 2]) if section >= 2 else full)

    def set_shown_titles(self, titles: dict[int, str]) -> None:
        """The titles as they fit the columns now (multi-line, abbreviated or shortened)."""
        if titles != self._shown_titles:
            self._shown_titles = dict(titles)
            if self.columnCount():
                self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)

    def row_values(self, row: int) -> list[Any]:
        """The raw values of a row, in column order (for exports)."""
        record = self._rows[row]
        return [record["code"], record["name"], *(record.get(k) for k in self._keys)]

    def row_data(self, row: int) -> Mapping[str, Any]:
        return self._rows[row]

    def code(self, row: int) -> str:
        return str(self._rows[row]["code"])

    def row_of(self, code: str) -> int | None:
        return next((n for n, r in enumerate(self._rows) if r["code"] == code), None)

    # Qt overrides ------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() or not self._has_report else 2 + len(self._keys)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < self.columnCount():
            return None
        record = self._rows[index.row()]
        column = index.column()
        if role == CODE_ROLE:
            return record["code"]
        if column < 2:
            value = record["code"] if column == 0 else record["name"]
            if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
                return value
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(_LEFT)
            return None
        key = self._keys[column - 2]
        value = record.get(key)
        if role == Qt.ItemDataRole.DisplayRole:
            return figures.format_figure_short(key, value)
        if role == Qt.ItemDataRole.ToolTipRole and figures.is_money(key):
            return figures.format_figure(key, value)  # the exact amount behind "Rp 1,79 M"
        if role == SORT_ROLE:
            return -1 if value is None else int(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_RIGHT)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.columnCount():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section in self._shown_titles:
                return self._shown_titles[section]
            title = self.headers()[section]
            return title if section < 2 else _wrapped(title)
        if role == Qt.ItemDataRole.ToolTipRole:  # the full title, however the column shows it
            if section < 2:
                return self.headers()[section]
            key = self._keys[section - 2]
            return f"{figures.label(key)}\n{figures.explanation(key)}".strip()
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
