"""The household list: search-as-you-type, filters and a lazily fetched, sortable table."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.services import questionnaire, regions
from desmig_desktop.services.handle import Database
from desmig_desktop.services.queries import HouseholdFilter
from desmig_desktop.ui.models import HouseholdTableModel
from desmig_desktop.ui.tables import ENTER, KeyTable, record_list

SEARCH_DELAY_MS = 250
MINE, ALL = "__mine__", "__all__"


class SearchEdit(QLineEdit):
    """Down arrow moves into the results."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


def fit_to_first_item(combo: QComboBox) -> None:
    """``combo`` as wide as its first item ("Semua …"); its list opens wide enough for every item, and
    a longer choice shown cut is whole in the tooltip."""
    metrics = combo.fontMetrics()  # Qt counts the room in widths of "X"
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(-(-metrics.horizontalAdvance(combo.itemText(0)) // metrics.horizontalAdvance("X")))
    metrics = combo.view().fontMetrics()
    combo.view().setMinimumWidth(max(metrics.horizontalAdvance(combo.itemText(n)) for n in range(combo.count())) + 40)
    combo.currentTextChanged.connect(combo.setToolTip)
    combo.setToolTip(combo.currentText())


class HouseholdListPage(QWidget):
    new_requested = Signal()
    open_requested = Signal(str)  # household id
    delete_requested = Signal(str)
    counts_changed = Signal()

    def __init__(self, db: Database, villages: Sequence[str] = (), *, page_size: int = 200,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._villages = tuple(villages)
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.new_button = QPushButton(_("Rumah tangga baru (Ctrl+N)"), self)
        self.new_button.setObjectName("new_household")
        self.new_button.clicked.connect(self.new_requested)
        bar.addWidget(self.new_button)
        self.search = SearchEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText(_("Cari nama, NIK atau No. KK… (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        bar.addWidget(self.search, 3)
        self.village = QComboBox(self)
        self.village.setObjectName("filter_village")
        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("filter_status")
        self.status_filter.addItem(_("Semua status migrasi"), None)
        # the statuses of the questionnaire this database is on (HQ may publish a new one)
        for choice in questionnaire.entity_spec(db, "members").field("migration_status").choices:
            self.status_filter.addItem(_("Ada anggota: {status}", status=pick(choice.label_id, choice.label_en)),
                                       choice.value)
        self.business_filter = QComboBox(self)
        self.business_filter.setObjectName("filter_business")
        self.business_filter.addItem(_("Dengan atau tanpa usaha"), None)
        self.business_filter.addItem(_("Punya usaha"), True)
        self.business_filter.addItem(_("Tidak punya usaha"), False)
        for combo in (self.village, self.status_filter, self.business_filter):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            bar.addWidget(combo)
        fit_to_first_item(self.status_filter)  # its long items would squeeze the search box at 1024 pixels
        hint = self.search.placeholderText()  # whole at 1024 pixels (the clear button shows only with text)
        self.search.setMinimumWidth(self.search.fontMetrics().horizontalAdvance(hint) + 16)
        self.search.setToolTip(hint)
        layout.addLayout(bar)
        self.model = HouseholdTableModel(db, page_size=page_size, parent=self)
        self.table = KeyTable(self)
        self.table.setObjectName("household_table")
        self.table.setModel(self.model)
        record_list(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate((260, 200, 170, 120, 80, 70)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # sorts once, by the indicator
        self.empty_hint = QLabel(self)  # above the (empty) table, where the eye goes first
        self.empty_hint.setObjectName("empty_hint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet("font-size: 12pt; color: #1d3d5f; background: #f3f6fa; "
                                      "border: 1px solid #d5dde8; border-radius: 4px; padding: 16px;")
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.table)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search.textEdited.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self._apply_now_and_focus_table)
        self.search.down_pressed.connect(self._apply_now_and_focus_table)
        for combo in (self.village, self.status_filter, self.business_filter):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.table.bind(ENTER, self._open_current)
        self.table.doubleClicked.connect(lambda index: self.open_requested.emit(self.model.household_id(index.row())))
        self.table.bind(Qt.Key.Key_Delete, self._delete_current)
        self.set_villages(self._villages)

    def set_villages(self, villages: Sequence[str]) -> None:
        """The officer's villages: the default filter, one entry each, and "all areas"."""
        self._villages = tuple(villages)
        names = regions.names(self._db, self._villages)
        self.village.blockSignals(True)
        self.village.clear()
        if self._villages:
            self.village.addItem(_("Desa tugas saya ({count})", count=len(self._villages)), MINE)
            for code in self._villages:
                self.village.addItem(names.get(code, code), code)
        self.village.addItem(_("Semua wilayah"), ALL)
        self.village.setCurrentIndex(0)
        self.village.blockSignals(False)
        self.apply_filter()

    def current_filter(self) -> HouseholdFilter:
        choice = self.village.currentData()
        villages = self._villages if choice == MINE else () if choice in (ALL, None) else (choice,)
        return HouseholdFilter(text=self.search.text().strip(), villages=tuple(villages),
                               migration_status=self.status_filter.currentData(),
                               has_business=self.business_filter.currentData())

    def selected_village(self) -> str | None:
        """The single village the list is narrowed to (a sensible default for a new household)."""
        flt = self.current_filter()
        return flt.villages[0] if len(flt.villages) == 1 else None

    def apply_filter(self) -> None:
        self._timer.stop()
        selected = self.current_household_id()
        self.model.set_filter(self.current_filter())
        self.select(selected)
        self._after_query()

    def refresh(self, select_id: str | None = None) -> None:
        """Re-run the current query (after a save, delete, undo or background job)."""
        selected = select_id or self.current_household_id()
        self.model.refresh()
        self.select(selected)
        self._after_query()

    def _after_query(self) -> None:
        if self.model.total:
            self.empty_hint.hide()
        else:
            self.empty_hint.setText(self._empty_text())
            self.empty_hint.show()
        self.counts_changed.emit()

    def _empty_text(self) -> str:
        """Why the list is empty: nothing recorded yet (how to start), or which filters hide how many."""
        hidden = self.model.count_all()
        if not hidden:
            return _("Belum ada rumah tangga yang didata. Tekan Ctrl+N (atau tombol \"Rumah tangga baru\") "
                     "untuk mendata rumah tangga pertama.")
        flt = self.model.filter
        active = [_("pencarian \"{text}\"", text=flt.text)] if flt.text else []
        if self.village.currentData() != ALL:
            active.append(self.village.currentText())
        active += [combo.currentText() for combo in (self.status_filter, self.business_filter)
                   if combo.currentIndex() > 0]
        return _("Tidak ada yang cocok: {count} rumah tangga tersembunyi oleh saringan ({filters}). "
                 "Kosongkan pencarian atau pilih \"Semua wilayah\" untuk melihatnya.",
                 count=grouped(hidden), filters="; ".join(active))

    def select(self, household_id: str | None) -> None:
        row = self.model.row_of(household_id) if household_id else None
        if row is not None:
            self.table.selectRow(row)

    def current_household_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.household_id(index.row()) if index.isValid() else None

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _apply_now_and_focus_table(self) -> None:
        if self._timer.isActive():
            self.apply_filter()
        if self.model.rowCount():
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _open_current(self) -> None:
        household_id = self.current_household_id()
        if household_id:
            self.open_requested.emit(household_id)

    def _delete_current(self) -> None:
        household_id = self.current_household_id()
        if household_id:
            self.delete_requested.emit(household_id)
