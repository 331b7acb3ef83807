"""The one table view of the app: Tab leaves it, and keys are bound to what a row is for.

Qt's tables move between cells on Tab and wrap around at the end, so once a table has rows Tab
and Shift+Tab never leave it; an officer typing a household by keyboard is trapped in it. Here
Tab and Shift+Tab move to the next and previous field as everywhere else, and Ctrl+Tab /
Ctrl+Shift+Tab move between cells for whoever wants that. ``bind`` attaches a key (Enter opens,
Delete removes, Backspace goes up…) to a slot; the household list, the editor's child tables, its
history and the dashboard all use this one class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_COMMAND_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                      | Qt.KeyboardModifier.MetaModifier)


def record_list(table: QTableView, *, single: bool = True) -> None:
    """Make ``table`` a read-only list of records: whole rows selected (one, unless not ``single``), striped,
    no row numbers (the records have their own names)."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()


class KeyTable(QTableView):
    """A table view that Tab leaves, with keys bound to slots (``bind``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabKeyNavigation(False)
        self._bound: dict[int, Callable[[], None]] = {}

    def bind(self, keys: Qt.Key | Iterable[Qt.Key], slot: Callable[[], None]) -> None:
        """Call ``slot`` when one of ``keys`` is pressed without Ctrl/Alt (Enter: also on the keypad)."""
        for key in [keys] if isinstance(keys, Qt.Key) else keys:
            self._bound[int(key)] = slot

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, modifiers = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and modifiers & Qt.KeyboardModifier.ControlModifier:
            back = key == Qt.Key.Key_Backtab or bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
            action = QAbstractItemView.CursorAction.MovePrevious if back else QAbstractItemView.CursorAction.MoveNext
            index = self.moveCursor(action, Qt.KeyboardModifier.NoModifier)
            if index.isValid():
                self.setCurrentIndex(index)
            return
        slot = self._bound.get(int(key))
        if slot is not None and not modifiers & _COMMAND_MODIFIERS:
            slot()
            return
        super().keyPressEvent(event)
