"""A household's child records (members, placements, businesses): a table, add/remove, and a form.

The form below the table edits the selected record in place; every keystroke goes straight into
the editor's in-memory household graph, so the draft autosave always has it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QPushButton, QVBoxLayout, QWidget

from desmig_desktop.domain.fields import EntitySpec
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.issues import Issue
from desmig_desktop.services.handle import Database
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.form import SpecForm
from desmig_desktop.ui.models import RecordListModel
from desmig_desktop.ui.tables import ENTER, KeyTable, record_list

Record = dict[str, Any]


class ChildSection(QWidget):
    """Records of one entity under a parent, with a form for the selected one.

    The table shows ``columns`` (default: the spec's list columns, see ``list_columns``)."""

    changed = Signal()  # a record was added, removed or edited
    current_changed = Signal(object)  # the selected record (dict) or None

    def __init__(self, spec: EntitySpec, db: Database, *, title: str, columns: Sequence[str] | None = None,
                 rows: Callable[[], list[Record]], add_record: Callable[[], Record | None],
                 remove_record: Callable[[Record], None], add_text: str, remove_text: str,
                 describe: Callable[[Record], str], form_keys: Sequence[str] | None = None,
                 visible_rows: int = 4, remove_question: str | None = None,
                 ref_label: Callable[[str, Any], str] | None = None, parent: QWidget | None = None) -> None:
        """``remove_question``: what Delete asks, with ``{what}`` for the record (default: of a household);
        ``ref_label``: names a referenced record in the table (see ``RecordListModel``)."""
        super().__init__(parent)
        self.spec = spec
        self._rows = rows
        self._add_record = add_record
        self._remove_record = remove_record
        self._describe = describe
        self._remove_question = remove_question
        self._issues: dict[str, list[Issue]] = {}
        self.model = RecordListModel(spec, columns, rows, self, ref_label=ref_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(f"<b>{title}</b>", self)
        layout.addWidget(self.title)
        self.table = KeyTable(self)
        self.table.setObjectName(f"table_{spec.name}")
        self.table.setModel(self.model)
        record_list(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        row_height = self.table.verticalHeader().defaultSectionSize()
        self.table.setFixedHeight(row_height * visible_rows + self.table.horizontalHeader().sizeHint().height() + 4)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(add_text, self)
        self.remove_button = QPushButton(remove_text, self)
        self.add_button.setObjectName(f"add_{spec.name}")
        self.remove_button.setObjectName(f"remove_{spec.name}")
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.form = SpecForm(spec, db, keys=form_keys, parent=self)
        layout.addWidget(self.form)
        self.extra = QVBoxLayout()
        layout.addLayout(self.extra)
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove_current)
        self.table.bind(ENTER, lambda: self.form.first_field().setFocus(Qt.FocusReason.OtherFocusReason))
        self.table.bind(Qt.Key.Key_Delete, self.remove_current)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._show_current())
        self.form.changed.connect(self._on_form_changed)
        self._show_current()

    def current(self) -> Record | None:
        row = self.table.currentIndex().row()
        rows = self._rows()
        return rows[row] if 0 <= row < len(rows) else None

    def reload(self, select_id: str | None = None) -> None:
        """Re-read the rows (after the graph changed) and select ``select_id`` or the first row."""
        self.model.reset()
        row = self.model.row_of(select_id) if select_id else None
        if row is None and self.model.rowCount():
            row = 0
        self.select_row(row)

    def select_row(self, row: int | None) -> None:
        if row is None:
            self.table.selectionModel().clearCurrentIndex()
            self.table.clearSelection()
        else:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self._show_current()

    def select_id(self, record_id: str) -> bool:
        row = self.model.row_of(record_id)
        if row is not None:
            self.select_row(row)
        return row is not None

    def add(self) -> Record | None:
        """Add a new record, select it and put the cursor in its first field."""
        record = self._add_record()
        if record is None:
            return None
        self.reload(record["id"])
        self.form.first_field().setFocus(Qt.FocusReason.OtherFocusReason)
        self.changed.emit()
        return record

    def remove_current(self) -> None:
        record = self.current()
        if record is None:
            return
        what = self._describe(record)
        question = (self._remove_question.format(what=what) if self._remove_question is not None
                    else _("Hapus {what} dari rumah tangga ini?", what=what))
        if not dialogs.confirm(self, _("Hapus data"), question, _("Hapus"), _("Batal"), destructive=True):
            return
        row = self.table.currentIndex().row()
        self._remove_record(record)
        self.model.reset()
        self.select_row(min(row, self.model.rowCount() - 1) if self.model.rowCount() else None)
        self.changed.emit()

    def set_issues(self, issues: dict[str, list[Issue]]) -> None:
        self._issues = issues
        self.model.set_issues(issues)
        record = self.current()
        self.form.show_errors(issues.get(record["id"], []) if record else [])

    def _show_current(self) -> None:
        record = self.current()
        self.form.setEnabled(record is not None)
        self.form.setVisible(record is not None)  # an empty, greyed-out form is only clutter
        self.remove_button.setEnabled(record is not None)
        self.form.set_values(record or {})
        if record is not None:
            self.form.show_errors(self._issues.get(record["id"], []))
        self.current_changed.emit(record)

    def _on_form_changed(self, key: str) -> None:
        record = self.current()
        if record is None:
            return
        record.update(self.form.values())
        self.model.row_changed(self.table.currentIndex().row())
        self.changed.emit()
