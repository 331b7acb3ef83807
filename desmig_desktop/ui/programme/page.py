"""One page of the programme window: the list of one record kind (filtered by village and dates,
fetched page by page) beside the form of the record being edited.

Keys: Enter on a row opens it, Delete deletes it (asked, then Ctrl+Z undoes), Ctrl+N starts a
new one, Ctrl+S saves, Esc closes the form (asked first when something is unsaved) and returns
to the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.coercion import CoerceError, coerce
from desmig_desktop.domain.fields import FieldSpec, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.errors import KnownError
from desmig_desktop.services import programme as prog
from desmig_desktop.services import questionnaire, regions
from desmig_desktop.services.handle import Database
from desmig_desktop.services.programme_lists import ProgrammeFilter, date_field
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.field_widgets import DateEditor
from desmig_desktop.ui.household_list import ALL, MINE
from desmig_desktop.ui.programme.model import ProgrammeTableModel
from desmig_desktop.ui.programme.record_editor import RecordEditor
from desmig_desktop.ui.tables import ENTER, KeyTable, record_list

LIST_MIN_WIDTH = 260  # pixels: date and the first column of a list
LIST_COLUMN_MAX = 170  # pixels: a long topic or name is cut (whole in the tooltip) so the next columns show


@dataclass(frozen=True)
class PageSpec:
    """One record kind's page: its entity, tab title and list columns (fields or computed keys)."""

    entity: str
    title: str
    columns: tuple[str, ...]


def page_specs() -> list[PageSpec]:
    """The pages in the order of the programme (profile, the four pillars, the officer's own work)."""
    return [
        PageSpec("village_profiles", _("Profil desa"), ("village_code", "joined_year", "status", "facilitators")),
        PageSpec("services", _("Layanan migrasi"), ("served_on", "person", "service_type", "status", "village")),
        PageSpec("business_supports", _("Pelatihan & dukungan usaha"),
                 ("received_on", "business_name", "support_type", "provider", "amount")),
        PageSpec("parenting_activities", _("Pengasuhan bersama"),
                 ("held_on", "activity_type", "topic", "attendees", "village")),
        PageSpec("cooperatives", _("Koperasi/kelompok"), ("name", "group_kind", "status", "members_count", "village")),
        PageSpec("officer_activities", _("Kegiatan petugas"),
                 ("held_on", "activity_kind", "topic", "attendance", "village")),
    ]


class RecordPage(QWidget):
    saved = Signal(str, str, object, str)  # entity, record id, undo changes, how the record is named
    deleted = Signal(str, str, object, str)  # entity, record id, undo changes, how the record was named

    def __init__(self, db: Database, page: PageSpec, villages: Sequence[str], *, page_size: int = 200,
                 draft_delay_ms: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self.page = page
        self.entity = page.entity
        self._villages = tuple(villages)
        layout = QVBoxLayout(self)
        layout.addLayout(self._filter_bar())
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.empty_hint = QLabel(left)
        self.empty_hint.setObjectName("empty_hint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet("color: #1d3d5f; background: #f3f6fa; border: 1px solid #d5dde8;"
                                      " border-radius: 4px; padding: 12px;")
        left_layout.addWidget(self.empty_hint)
        self.model = ProgrammeTableModel(db, self.entity, page.columns, page_size=page_size, parent=self)
        self.table = KeyTable(left)
        self.table.setObjectName(f"list_{self.entity}")
        self.table.setModel(self.model)
        record_list(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        left_layout.addWidget(self.table, 1)
        self.stack = QStackedWidget(splitter)
        self.placeholder = QLabel(_("Pilih data di daftar lalu tekan Enter untuk membukanya,\n"
                                    "atau tekan Ctrl+N untuk mencatat yang baru."), self.stack)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #555;")
        self._draft_delay_ms = draft_delay_ms
        self.stack.addWidget(self.placeholder)
        self.editor = self._new_editor()
        splitter.addWidget(left)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(0, 9)
        splitter.setStretchFactor(1, 11)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self._sized = False
        layout.addWidget(splitter, 1)
        self.table.bind(ENTER, self._open_from_list)
        self.table.bind(Qt.Key.Key_Delete, self._delete_from_list)
        self.table.doubleClicked.connect(lambda _index: self.open_current())
        self.apply_filter()

    def _new_editor(self) -> RecordEditor:
        """The form, with the questions of the database's active questionnaire version."""
        kwargs = {} if self._draft_delay_ms is None else {"draft_delay_ms": self._draft_delay_ms}
        editor = RecordEditor(self._db, self.entity, self._villages, parent=self.stack, **kwargs)
        self.stack.addWidget(editor)
        editor.close_requested.connect(self.close_editor)
        editor.delete_requested.connect(self.delete_current)
        editor.saved.connect(self._on_saved)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), editor)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self._on_escape)
        return editor

    def _current_editor(self) -> RecordEditor:
        """The editor for the next record shown: a new one when a sync applied a newer questionnaire
        version since this one was built (the record it showed was saved or given up by then)."""
        if self.editor.version != questionnaire.active_version(self._db):
            old, self.editor = self.editor, self._new_editor()
            self.stack.removeWidget(old)
            old.retire()
        return self.editor

    def showEvent(self, event: QShowEvent) -> None:
        """First shown: the list takes 45 % of the width (the form widens when a record needs it, ``_fit_form``)."""
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            width = self.splitter.width()
            self.splitter.setSizes([width * 45 // 100, width - width * 45 // 100])
            self._fit_form()

    def _fit_form(self) -> None:
        """Give the form what its fields need (on a 1024-pixel screen the list gets less and scrolls sideways)."""
        sizes = self.splitter.sizes()
        total, needed = sum(sizes), self.editor.needed_width()
        if self.editing() and sizes[1] < needed and total > 0:
            listed = max(LIST_MIN_WIDTH, total - needed)
            self.splitter.setSizes([listed, total - listed])

    def _open_from_list(self) -> None:
        self.open_current()

    def _delete_from_list(self) -> None:
        self.delete_current()

    def _filter_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.new_button = QPushButton(_("Baru (Ctrl+N)"), self)
        self.new_button.setObjectName("new_record")
        self.new_button.clicked.connect(self.new_record)
        bar.addWidget(self.new_button)
        self.village = QComboBox(self)
        self.village.setObjectName("filter_village")
        self.village.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        bar.addWidget(self.village)
        self.date_from = self.date_to = None
        if date_field(self.entity):
            self.date_from = self._date_box("date_from", _("Dari tanggal"), _("&Dari"), bar)
            self.date_to = self._date_box("date_to", _("Sampai tanggal"), _("Sa&mpai"), bar)
        self.open_only = QCheckBox(_("Kasus &terbuka saja (terlama dulu)"), self)
        self.open_only.setObjectName("open_only")
        self.open_only.setVisible(self.entity == "services")
        self.open_only.toggled.connect(lambda _on: self.apply_filter())
        bar.addWidget(self.open_only)
        bar.addStretch(1)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("count_label")
        bar.addWidget(self.count_label)
        self.village.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self._fill_villages()
        return bar

    def _date_box(self, key: str, label_id: str, mnemonic: str, bar: QHBoxLayout) -> DateEditor:
        box = DateEditor(FieldSpec(key, label_id, label_id, Kind.DATE))
        label = QLabel(mnemonic, self)
        label.setBuddy(box.edit)
        box.edit.setMaximumWidth(box.edit.fontMetrics().horizontalAdvance("00/00/00000") + 16)
        box.edit.editingFinished.connect(self.apply_filter)
        box.edit.returnPressed.connect(self.apply_filter)
        bar.addWidget(label)
        bar.addWidget(box.widget)
        return box

    def _fill_villages(self) -> None:
        names = regions.names(self._db, self._villages)
        self.village.blockSignals(True)
        self.village.clear()
        if self._villages:
            self.village.addItem(_("Desa tugas saya ({count})", count=len(self._villages)), MINE)
            for code in self._villages:
                self.village.addItem(names.get(code, code), code)
        self.village.addItem(_("Semua wilayah"), ALL)
        self.village.blockSignals(False)

    def set_villages(self, villages: Sequence[str]) -> None:
        self._villages = tuple(villages)
        self._fill_villages()
        self.apply_filter()

    # the list ------------------------------------------------------------------------------

    def _typed_date(self, box: DateEditor | None) -> tuple[str | None, bool]:
        """The ISO date typed in a filter box (None: empty) and whether what was typed is a date."""
        if box is None or not box.value():
            return None, True
        try:
            return coerce(box.spec, box.value()), True
        except CoerceError:
            return None, False

    def current_filter(self) -> ProgrammeFilter:
        choice = self.village.currentData()
        villages = self._villages if choice == MINE else () if choice in (ALL, None) else (str(choice),)
        date_from, _ok = self._typed_date(self.date_from)
        date_to, _ok = self._typed_date(self.date_to)
        return ProgrammeFilter(tuple(villages), date_from, date_to, self.open_only.isChecked())

    def apply_filter(self) -> None:
        selected = self.current_id()
        columns = self.page.columns
        if self.open_only.isChecked():
            columns = (*columns[:1], "age_days", *columns[1:])
        for box in (self.date_from, self.date_to):
            ok = self._typed_date(box)[1]
            if box is not None:
                box.edit.setStyleSheet("" if ok else "border: 1px solid #b00020;")
                box.edit.setToolTip("" if ok else _("Tanggal tidak dikenal: tulis hh/bb/tttt. Saringan ini diabaikan."))
        self.model.set_filter(self.current_filter(), columns)
        for column in range(len(columns) - 1):
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), LIST_COLUMN_MAX))
        self.select(selected)
        self._after_query()

    def refresh(self, select_id: str | None = None) -> None:
        selected = select_id or self.current_id()
        self.model.refresh()
        self.select(selected)
        self._after_query()

    def _after_query(self) -> None:
        self.count_label.setText(_("{count} data", count=grouped(self.model.total)))
        if self.model.total:
            self.empty_hint.hide()
        else:
            self.empty_hint.setText(_("Belum ada data yang cocok dengan saringan ini. Tekan Ctrl+N untuk mencatat "
                                      "yang baru."))
            self.empty_hint.show()

    def select(self, record_id: str | None) -> None:
        row = self.model.row_of(record_id) if record_id else None
        if row is not None:
            self.table.selectRow(row)

    def current_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.record_id(index.row()) if index.isValid() else None

    def focus_list(self) -> None:
        if self.model.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    # the form ------------------------------------------------------------------------------

    def editing(self) -> bool:
        return self.stack.currentWidget() is self.editor

    def _defaults(self) -> dict[str, object]:
        spec = questionnaire.entity_spec(self._db, self.entity)
        flt = self.current_filter()
        village = flt.villages[0] if len(flt.villages) == 1 else next(iter(self._villages), None)
        defaults: dict[str, object] = {}
        if spec.has("village_code") and village:
            defaults["village_code"] = village
        when = date_field(self.entity)
        if when and spec.field(when).required:
            defaults[when] = dt.date.today().isoformat()
        return defaults

    def new_record(self) -> bool:
        if self.editing() and not self.editor.ask_discard():
            return False
        defaults = self._defaults()
        if self.entity == "village_profiles" and defaults.get("village_code"):
            rec = prog.profile_for_village(self._db, str(defaults["village_code"]))  # the profile, if it exists
        else:
            rec = prog.new_record(self.entity, defaults)
        self.show_record(rec)
        return True

    def open_current(self) -> bool:
        record_id = self.current_id()
        if record_id is None:
            return False
        if self.editing() and self.editor.record.id == record_id and not self.editor.record.is_new:
            self.editor.focus_first_field()
            return True
        if self.editing() and not self.editor.ask_discard():
            return False
        try:
            rec = prog.load_record(self._db, self.entity, record_id)
        except KnownError as exc:
            dialogs.show_error(self, exc)
            self.refresh()
            return False
        self.show_record(rec)
        return True

    def show_record(self, rec: prog.ProgrammeRecord, *, restored: bool = False) -> None:
        self._current_editor().show_record(rec, restored=restored)
        self.stack.setCurrentWidget(self.editor)
        self.editor.focus_first_field()
        QTimer.singleShot(0, self, self._fit_form)  # once the form's layout has settled

    def close_editor(self) -> bool:
        if not self.editor.ask_discard():
            return False
        self.editor.discard_draft()
        shown = None if self.editor.record.is_new else self.editor.record.id
        self.stack.setCurrentWidget(self.placeholder)
        self.select(shown)
        self.focus_list()
        return True

    def _on_escape(self) -> None:
        """Esc closes the form, unless a drop-down list is open: then Esc is that list's (it closes)."""
        popup = QApplication.activePopupWidget()
        if popup is not None:
            owner = popup.parentWidget()
            owner.hidePopup() if isinstance(owner, QComboBox) else popup.hide()
            return
        self.close_editor()

    def save(self) -> bool:
        return self.editing() and self.editor.save()

    def _on_saved(self, record_id: str, changes: object, title: str) -> None:
        self.refresh(select_id=record_id)
        self.saved.emit(self.entity, record_id, changes, title)

    def delete_current(self) -> bool:
        """Delete the record of the open form (or the selected row) after asking; Ctrl+Z undoes it."""
        focus = QApplication.focusWidget()
        in_form = self.editing() and focus is not None and self.editor.isAncestorOf(focus)
        if in_form and self.editor.record.is_new:
            return self.close_editor()
        record_id = self.editor.record.id if in_form else self.current_id()
        if record_id is None:
            return False
        try:
            rec = prog.load_record(self._db, self.entity, record_id)
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return False
        name = prog.describe(self.entity, rec.values)
        if not dialogs.confirm(self, _("Hapus data"), _("Hapus {what}?", what=name), _("Hapus"), _("Batal"),
                               destructive=True,
                               detail=_("Masih bisa diurungkan dengan Ctrl+Z selama jendela ini belum ditutup.")):
            return False
        shown = self.editing() and self.editor.record.id == record_id
        loaded = self.editor.record.loaded if shown else None
        try:
            changes = prog.delete_record(self._db, self.entity, record_id, loaded=loaded)
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return False
        if shown:
            self.editor.discard_draft()
            self.editor.show_record(prog.new_record(self.entity))
            self.stack.setCurrentWidget(self.placeholder)
        self.refresh()
        self.focus_list()
        self.deleted.emit(self.entity, record_id, changes, name)
        return True

    def after_undo(self, record_id: str, live: bool) -> None:
        """An undo changed ``record_id``: the list and an unchanged open form show it as it is now."""
        if self.editing() and self.editor.record.id == record_id and not self.editor.dirty:
            if live:
                self.editor.show_record(prog.load_record(self._db, self.entity, record_id))
            else:
                self.stack.setCurrentWidget(self.placeholder)
        self.refresh(select_id=record_id if live else None)
