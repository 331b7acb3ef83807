"""The one form builder: a form for any entity, generated from its field specs.

``SpecForm(spec, db)`` lays the fields out in questionnaire order (the paper form's order, which
is also the tab order), two per row, each with its label and a message line under it.
``values()`` returns what was typed, ``set_values()`` shows a record, ``show_errors()`` puts
each ``Issue`` next to its field. Fields whose ``relevant`` condition is false are disabled
(and so skipped by Tab). Enter moves to the next field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QComboBox, QGridLayout, QLabel, QLineEdit, QPlainTextEdit, QWidget

from desmig_desktop.domain.fields import EntitySpec, FieldSpec, Kind
from desmig_desktop.domain.i18n import pick
from desmig_desktop.domain.issues import Issue
from desmig_desktop.services.handle import Database
from desmig_desktop.ui.dialogs import ERROR_STYLE
from desmig_desktop.ui.field_widgets import FieldEditor, make_editor

_WIDE = (Kind.REGION, Kind.LONG_TEXT, Kind.MULTI)
LABEL_WIDTH = 175  # fits "Tanggal kunjungan *" on one line at the default font size
WARNING_STYLE = "color: #8a5a00;"


class EnterMovesOn(QObject):
    """Event filter: Enter/Return in a field moves focus to the next field, like Tab."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QWidget) and isinstance(event, QKeyEvent):
            key_event = event
            modifiers = key_event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if (key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and modifiers == Qt.KeyboardModifier.NoModifier
                    and not watched.property("handles_enter") and not isinstance(watched, QPlainTextEdit)):
                watched.focusNextChild()
                return True
        return False


class SpecForm(QWidget):
    """A form for ``spec``'s fields (all but the parent link and the hidden ones the app records
    itself, unless ``keys`` says otherwise)."""

    changed = Signal(str)  # the key of the field the officer changed

    def __init__(self, spec: EntitySpec, db: Database, *, keys: Sequence[str] | None = None, columns: int = 2,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._loading = False
        self._enter = EnterMovesOn(self)
        wanted = keys or [f.key for f in spec.fields if f.key != spec.parent_key and not f.hidden]
        self.editors: dict[str, FieldEditor] = {}
        self.labels: dict[str, QLabel] = {}
        self.messages: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        row, col = 0, 0
        for key in wanted:
            fs = spec.field(key)
            editor = make_editor(fs, db)
            wide = fs.kind in _WIDE or columns == 1
            if wide and col:
                row, col = row + 2, 0
            self._place(grid, fs, editor, row, col, columns if wide else 1)
            col = 0 if wide else (col + 1) % columns
            if col == 0:
                row += 2
        for c in range(columns):
            grid.setColumnStretch(2 * c + 1, 1)
            grid.setColumnMinimumWidth(2 * c, LABEL_WIDTH)
        grid.setRowStretch(row + 2, 1)
        self.update_relevance()

    def _place(self, grid: QGridLayout, fs: FieldSpec, editor: FieldEditor, row: int, col: int, span: int) -> None:
        """Label left of its field, message under the field; a wide field spans the whole row."""
        label = QLabel(pick(fs.label_id, fs.label_en) + (" *" if fs.required else ""), self)
        label.setBuddy(editor.focus_widget)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        message = QLabel(self)
        message.setObjectName(f"message_{fs.key}")
        message.setWordWrap(True)
        message.hide()
        if fs.kind in _WIDE:
            grid.addWidget(label, row, 2 * col, Qt.AlignmentFlag.AlignTop)
        else:
            grid.addWidget(label, row, 2 * col)
        grid.addWidget(editor.widget, row, 2 * col + 1, 1, 2 * span - 1)
        grid.addWidget(message, row + 1, 2 * col + 1, 1, 2 * span - 1)
        self.editors[fs.key], self.labels[fs.key], self.messages[fs.key] = editor, label, message
        editor.connect_changed(partial(self._on_editor_changed, fs.key))
        inputs = [w for w in editor.widget.findChildren(QWidget) if isinstance(w, (QLineEdit, QComboBox, QAbstractButton))]
        for widget in {editor.focus_widget, *inputs}:
            if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                widget.installEventFilter(self._enter)

    def _on_editor_changed(self, key: str) -> None:
        if self._loading:
            return
        self.update_relevance()
        self.messages[key].hide()
        self.changed.emit(key)

    def values(self) -> dict[str, Any]:
        """What is typed, per key (``None`` for empty); irrelevant fields are returned as ``None``."""
        out = {key: editor.value() for key, editor in self.editors.items()}
        for key, editor in self.editors.items():
            if not editor.widget.isEnabledTo(self):
                out[key] = None
        return out

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show ``values`` (missing keys empty) without reporting changes; clears messages."""
        self._loading = True
        try:
            for key, editor in self.editors.items():
                editor.set_value(values.get(key))
        finally:
            self._loading = False
        self.clear_errors()
        self.update_relevance()

    def set_value(self, key: str, value: Any) -> None:
        self._loading = True
        try:
            self.editors[key].set_value(value)
        finally:
            self._loading = False
        self.update_relevance()

    def update_relevance(self) -> None:
        current = {key: editor.value() for key, editor in self.editors.items()}
        for key, editor in self.editors.items():
            rel = self.spec.field(key).relevant
            if rel is None or rel.of_parent:
                continue
            on = current.get(rel.field) in rel.values
            editor.widget.setEnabled(on)
            self.labels[key].setEnabled(on)

    def clear_errors(self) -> None:
        for message in self.messages.values():
            message.clear()
            message.hide()

    def show_errors(self, issues: Iterable[Issue]) -> list[Issue]:
        """Show each issue under its field; returns the issues that have no field here."""
        self.clear_errors()
        unplaced: list[Issue] = []
        texts: dict[str, list[tuple[bool, str]]] = {}
        for issue in issues:
            if issue.field in self.messages:
                texts.setdefault(issue.field, []).append((issue.hard, issue.message))
            else:
                unplaced.append(issue)
        for key, items in texts.items():
            message = self.messages[key]
            hard = any(h for h, _m in items)
            message.setText("\n".join(m for _h, m in items))
            message.setStyleSheet(ERROR_STYLE if hard else WARNING_STYLE)
            message.show()
        return unplaced

    def focus_field(self, key: str) -> None:
        if key in self.editors:
            self.editors[key].focus_widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def first_field(self) -> QWidget:
        return next(iter(self.editors.values())).focus_widget
