"""The household list pages lazily through 20k households; every model passes qtmodeltester."""

from __future__ import annotations

from typing import Any

import pytest
from gui_helpers import BIG_HOUSEHOLDS, OTHER_VILLAGE, VILLAGE, press_ctrl, show_active
from PySide6.QtCore import Qt

from desmig_desktop.domain.fields import MEMBERS
from desmig_desktop.store.queries import HouseholdFilter
from desmig_desktop.ui.models import HouseholdTableModel, RecordListModel
from desmig_desktop.ui.region_picker import RegionListModel


@pytest.fixture
def big_window(qtbot: Any, big_db: Any, paths: Any) -> Any:
    from desmig_desktop.app import database_factory
    from desmig_desktop.ui.context import AppContext
    from desmig_desktop.ui.main_window import MainWindow
    from desmig_desktop.ui.taskman import TaskManager

    tasks = TaskManager(database_factory(paths))
    win = MainWindow(AppContext(big_db, paths, tasks), autosave_ms=60_000)
    qtbot.addWidget(win)
    win.resize(1200, 700)
    show_active(qtbot, win)
    yield win
    tasks.shutdown()


def test_household_model_passes_qtmodeltester(qtmodeltester: Any, big_db: Any) -> None:
    model = HouseholdTableModel(big_db, page_size=50)
    model.set_filter(HouseholdFilter())
    qtmodeltester.check(model, force_py=True)
    assert model.rows_fetched < BIG_HOUSEHOLDS


def test_record_and_region_models_pass_qtmodeltester(qtmodeltester: Any, db: Any) -> None:
    members = [{"id": "a", "name": "Budi", "sex": "L", "relationship": "kepala", "migration_status": "pmi_aktif"},
               {"id": "b", "name": "", "nik": "3201"}]
    record_model = RecordListModel(MEMBERS, ("name", "nik", "sex", "migration_status"), lambda: members)
    qtmodeltester.check(record_model, force_py=True)
    assert record_model.data(record_model.index(0, 3)) == "PMI aktif (sedang di luar negeri)"
    assert record_model.data(record_model.index(1, 0)) == "(belum diisi)"
    region_model = RegionListModel(db)
    region_model.load("32.01", "ci")
    qtmodeltester.check(region_model, force_py=True)
    assert region_model.rowCount() > 0


def test_list_pages_through_20k_without_loading_them_all(qtbot: Any, big_window: Any) -> None:
    page = big_window.list_page
    page.village.setCurrentIndex(page.village.findData("__all__"))
    model = page.model
    assert model.total == BIG_HOUSEHOLDS
    assert model.rows_fetched == model.page_size  # one page at start
    for expected in (2, 3, 4):
        page.table.scrollToBottom()
        qtbot.waitUntil(lambda n=expected: model.pages_fetched >= n)
    assert model.rows_fetched == 4 * model.page_size < BIG_HOUSEHOLDS
    assert model.data(model.index(0, 0)) == "Kepala 00000"
    assert model.data(model.index(model.rows_fetched - 1, 0)) == f"Kepala {model.rows_fetched - 1:05d}"
    assert "20.000" in big_window.count_label.text()


def test_sorting_and_filters_requery_sql(qtbot: Any, big_window: Any) -> None:
    page = big_window.list_page
    page.village.setCurrentIndex(page.village.findData("__all__"))
    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert page.model.data(page.model.index(0, 0)) == f"Kepala {BIG_HOUSEHOLDS - 1:05d}"
    assert page.model.rows_fetched == page.model.page_size
    page.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # visit date, shown dd/mm/yyyy
    assert page.model.data(page.model.index(0, 3)).endswith("/2024")
    page.village.setCurrentIndex(page.village.findData("__all__"))
    big_window.list_page.set_villages([VILLAGE, OTHER_VILLAGE])
    page.village.setCurrentIndex(page.village.findData(OTHER_VILLAGE))
    assert page.model.total == BIG_HOUSEHOLDS // 2
    page.business_filter.setCurrentIndex(page.business_filter.findData(True))
    assert page.model.total == 0 and page.empty_hint.isVisibleTo(page)
    assert "0 dari 20.000" in big_window.count_label.text()


def test_search_as_you_type_is_debounced(qtbot: Any, big_window: Any) -> None:
    page = big_window.list_page
    page.village.setCurrentIndex(page.village.findData("__all__"))
    press_ctrl(qtbot, big_window, Qt.Key.Key_F)
    assert page.search.hasFocus()
    queries: list[str] = []
    page.model.modelReset.connect(lambda: queries.append(page.model.filter.text))
    qtbot.keyClicks(page.search, "Kepala 01234")
    assert queries == []  # nothing runs while typing
    qtbot.waitUntil(lambda: page.model.filter.text == "Kepala 01234")
    assert queries == ["Kepala 01234"] and page.model.total == 1
    assert page.model.data(page.model.index(0, 0)) == "Kepala 01234"
    page.search.clear()
    qtbot.keyClicks(page.search, "3201051234002468")  # a No. KK
    qtbot.keyClick(page.search, Qt.Key.Key_Return)  # Enter searches at once and moves into the results
    assert page.model.total == 1 and page.table.hasFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    editor = big_window.current_editor()
    assert editor is not None and editor.form.editors["head_name"].value() == "Kepala 02468"


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("width", [1024, 1366])
def test_search_placeholder_and_filters_fit_a_small_laptop(qtbot: Any, db: Any, language: str, width: int) -> None:
    """Issue 20 §13: at 1024 pixels the search box's hint was cut ("Cari nama, NIK atau N…") because the
    migration-status filter grew to its longest choice; every filter's current choice is in its tooltip."""
    from PySide6.QtWidgets import QLineEdit, QStyle, QStyleOptionFrame, QToolButton

    from desmig_desktop.domain.i18n import set_language
    from desmig_desktop.ui.household_list import HouseholdListPage

    set_language(language)
    page = HouseholdListPage(db, [VILLAGE])
    qtbot.addWidget(page)
    page.resize(width - 20, 500)  # the main window's margins
    page.show()
    qtbot.waitExposed(page)
    search = page.search
    option = QStyleOptionFrame()
    search.initStyleOption(option)
    room = search.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, search).width()
    room -= sum(b.width() for b in search.findChildren(QToolButton) if b.isVisible())  # clear button: with text only
    assert search.fontMetrics().horizontalAdvance(search.placeholderText()) <= room, (language, width, room)
    assert isinstance(search, QLineEdit) and search.toolTip() == search.placeholderText()
    combo = page.status_filter
    qtbot.keyClick(combo, Qt.Key.Key_End)  # the longest choices: cut in the box, whole in the tooltip
    assert combo.currentIndex() == combo.count() - 1 and combo.toolTip() == combo.currentText()
    assert combo.view().minimumWidth() >= max(combo.fontMetrics().horizontalAdvance(combo.itemText(n))
                                              for n in range(combo.count()))
