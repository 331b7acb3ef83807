"""The officer's keyboard flow (issue 20 §1–4): every step by key events, as a keyboard sends them.

Tab leaves every table; Ctrl+Shift+A/P/U add a member, placement or business and put the cursor in
its first field; Enter presses a focused button; after a refused save the summary has the focus and
Enter on a line goes to its field (record selected, field on screen); Esc closes an open drop-down
and nothing else; a stray key in the region picker empties nothing; mnemonics are unique; closing a
form goes back to the list it was opened from.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from gui_helpers import OTHER_VILLAGE, VILLAGE, fill, press_ctrl, show_active
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu, QPushButton, QWidget
from sync_helpers import FakeSync

from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store import settings
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import install_sync

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
HEAD = {"nik": "3201051201800003", "name": "Budi Santoso", "sex": "L", "birth_date": "1980-01-12",
        "relationship": "kepala", "migration_status": "pmi_purna"}


def household(name: str = "Budi Santoso", village: str = VILLAGE) -> HouseholdGraph:
    head = {**HEAD, "name": name}
    return HouseholdGraph({"village_code": village, "head_name": name, "visited_on": "2025-03-04", "consent": True},
                          [head, {"name": "Sari", "sex": "P", "relationship": "anak", "migration_status": "bukan"}],
                          [{"member_id": None, "country": "MY", "job": "perkebunan"}],
                          [{"name": "Warung Budi", "kbli_category": "G", "status": "aktif"}])


def stored(db: Any, name: str = "Budi Santoso", village: str = VILLAGE) -> str:
    """A saved household; one outside the officer's villages stands for one a sync brought in
    (a save refuses villages outside the assignment, so the assignment is widened meanwhile)."""
    graph = household(name, village)
    graph.ensure_ids()
    graph.placements[0]["member_id"] = graph.members[0]["id"]
    assigned = settings.get(db, "villages")
    settings.put(db, "villages", sorted({*assigned, village}))
    try:
        return save_household(db, graph, confirm_warnings=True).household_id
    finally:
        settings.put(db, "villages", assigned)


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def on_screen(editor: Any, widget: QWidget) -> bool:
    """Whether ``widget`` lies inside the visible part of the editor's scroll area."""
    viewport = editor.page.viewport()
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    return viewport.rect().contains(QRect(top_left, widget.size()))


def press(qtbot: Any, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the keyboard sends it: to the focused widget (or the open drop-down list)."""
    target = QApplication.activePopupWidget() or focused()
    assert target is not None
    qtbot.keyClick(target, key, modifiers)


# §1 tables ---------------------------------------------------------------------------------------

def every_table(qtbot: Any, window: Any, db: Any) -> dict[str, Any]:
    """The household list, the three child tables of an open form and the dashboard, each with rows."""
    hid = stored(db)
    window.list_page.refresh()
    editor = window.open_household(hid)
    pmi = next(m for m in editor.records.members if m["migration_status"] == "pmi_purna")
    editor.members.members.select_id(pmi["id"])  # the PMI, so the placements table shows
    window.tabs.setCurrentWidget(window.dashboard)
    qtbot.waitUntil(lambda: window.dashboard.model.rowCount() > 0, timeout=10_000)
    show_active(qtbot, window)  # offscreen Qt drops the activation during the report; a window manager does not
    return {"list": (window.list_page, window.list_page.table), "members": (editor, editor.members.members.table),
            "placements": (editor, editor.members.placements.table), "businesses": (editor, editor.businesses.table),
            "dashboard": (window.dashboard, window.dashboard.table)}


@pytest.mark.parametrize("name", ["list", "members", "placements", "businesses", "dashboard"])
def test_tab_and_shift_tab_leave_every_table_and_ctrl_tab_moves_between_cells(qtbot: Any, window: Any, db: Any,
                                                                             name: str) -> None:
    page, table = every_table(qtbot, window, db)[name]
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(table.isVisible)
    assert table.model().rowCount() > 0 and table.model().columnCount() > 1
    for key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
        table.setFocus()
        table.setCurrentIndex(table.model().index(0, 0))
        qtbot.keyClick(table, key)
        assert focused() is not table, f"{name}: {key.name} stays in the table"
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Tab, CTRL)
    assert focused() is table and table.currentIndex().column() == 1
    qtbot.keyClick(table, Qt.Key.Key_Backtab, CTRL | SHIFT)
    assert focused() is table and table.currentIndex().column() == 0


def test_no_item_view_in_the_window_traps_tab(qtbot: Any, window: Any, db: Any) -> None:
    """The class: every item view that can hold the focus lets Tab go (lists and tables alike)."""
    every_table(qtbot, window, db)
    for page in (window.list_page, window.dashboard, window.editors()[0]):
        window.tabs.setCurrentWidget(page)
        for view in page.findChildren(QAbstractItemView):
            if view.isVisible() and view.focusPolicy() & Qt.FocusPolicy.TabFocus and view.model().rowCount():
                view.setFocus()
                qtbot.keyClick(view, Qt.Key.Key_Tab)
                assert focused() is not view, view.objectName() or type(view).__name__


# §2 adding child records -------------------------------------------------------------------------

def test_ctrl_shift_a_p_u_add_a_record_and_put_the_cursor_in_its_first_field(qtbot: Any, window: Any) -> None:
    press_ctrl(qtbot, window, Qt.Key.Key_N)
    editor = window.current_editor()
    head = editor.form.editors["head_name"].edit
    head.setFocus()
    qtbot.keyClicks(head, "Budi Santoso")
    press(qtbot, Qt.Key.Key_A, CTRL | SHIFT)
    members = editor.members.members
    assert len(editor.records.members) == 1 and members.current() is editor.records.members[0]
    nik = members.form.editors["nik"].edit
    assert nik.hasFocus()
    qtbot.waitUntil(lambda: on_screen(editor, nik))
    qtbot.keyClicks(nik, HEAD["nik"])
    press(qtbot, Qt.Key.Key_P, CTRL | SHIFT)  # "bukan PMI" yet: no placement, and the status line says why
    assert editor.records.placements == [] and "PMI" in editor.status.text()
    fill(qtbot, members.form, {"migration_status": "pmi_aktif"})
    press(qtbot, Qt.Key.Key_P, CTRL | SHIFT)
    assert len(editor.records.placements) == 1
    country = editor.members.placements.form.editors["country"].focus_widget
    assert country.hasFocus()
    qtbot.waitUntil(lambda: on_screen(editor, country))
    press(qtbot, Qt.Key.Key_U, CTRL | SHIFT)
    assert len(editor.records.businesses) == 1
    owner = editor.businesses.form.editors["owner_member_id"].focus_widget
    assert owner.hasFocus()
    qtbot.waitUntil(lambda: on_screen(editor, owner))
    press(qtbot, Qt.Key.Key_A, CTRL | SHIFT)
    assert len(editor.records.members) == 2 and members.form.editors["nik"].edit.hasFocus()


def test_the_add_shortcuts_are_on_the_buttons_and_in_the_edit_menu(qtbot: Any, window: Any) -> None:
    editor = window.new_household()
    menu = {a.shortcut().toString(): a.text() for a in window.edit_menu.actions() if not a.isSeparator()}
    for section, key in ((editor.members.members, "Ctrl+Shift+A"), (editor.members.placements, "Ctrl+Shift+P"),
                         (editor.businesses, "Ctrl+Shift+U")):
        assert key in section.add_button.text()
        assert key in menu and menu[key].startswith("Tambah")


def test_enter_presses_every_button_of_the_form(qtbot: Any, window: Any) -> None:
    press_ctrl(qtbot, window, Qt.Key.Key_N)
    editor = window.current_editor()
    qtbot.keyClick(editor.members.members.add_button, Qt.Key.Key_Return)
    assert len(editor.records.members) == 1
    qtbot.keyClick(editor.save_button, Qt.Key.Key_Enter)  # the keypad's Enter too
    assert editor.issues.isVisibleTo(editor)
    buttons = [b for b in editor.findChildren(QPushButton) if b.isVisibleTo(editor) and b.isEnabled()]
    buttons.sort(key=lambda b: b is editor.close_button)  # closing last: it ends the form
    assert len(buttons) >= 5
    for button in buttons:
        with qtbot.waitSignal(button.clicked, timeout=1000):
            qtbot.keyClick(button, Qt.Key.Key_Return)


# §3 the error summary ----------------------------------------------------------------------------

def faulty_form(qtbot: Any, window: Any) -> Any:
    """A form with one hard error in each kind of record, the faulty records not selected."""
    editor = window.new_household()
    fill(qtbot, editor.form, {"head_name": "Budi Santoso", "consent": True, "kk_number": "3201"})
    members = editor.members.members
    members.add()
    fill(qtbot, members.form, {**HEAD, "nik": "320105", "birth_date": "12/01/1980", "migration_status": "pmi_aktif"})
    editor.members.placements.add()  # no country, no job
    members.add()
    fill(qtbot, members.form, {"name": "Sari", "sex": "P", "relationship": "anak", "migration_status": "bukan"})
    editor.businesses.add()  # no name
    editor.businesses.add()
    fill(qtbot, editor.businesses.form, {"name": "Warung", "kbli_category": "G"})
    editor.form.editors["head_name"].edit.setFocus()
    return editor


def test_a_refused_save_focuses_the_summary_and_enter_on_each_line_goes_to_its_field(qtbot: Any,
                                                                                     window: Any) -> None:
    editor = faulty_form(qtbot, window)
    press(qtbot, Qt.Key.Key_S, CTRL)
    summary = editor.issues.list
    assert summary.hasFocus() and summary.currentRow() == 0
    lines = [summary.item(n).data(Qt.ItemDataRole.UserRole) for n in range(summary.count())]
    assert {i.entity for i in lines} == {"households", "members", "placements", "businesses"}
    for n, line in enumerate(lines):
        editor.page.verticalScrollBar().setValue(0 if n % 2 else editor.page.verticalScrollBar().maximum())
        summary.setFocus()
        qtbot.keyClick(summary, Qt.Key.Key_Home)
        for _ in range(n):
            qtbot.keyClick(summary, Qt.Key.Key_Down)
        qtbot.keyClick(summary, Qt.Key.Key_Return)
        section = {"households": None, "members": editor.members.members, "placements": editor.members.placements,
                   "businesses": editor.businesses}[line.entity]
        form = editor.form if section is None else section.form
        if section is not None:
            assert section.current()["id"] == line.record_id, f"line {n}: wrong {line.entity} row"
        field = form.editors[line.field].focus_widget
        assert field.hasFocus(), f"line {n}: {line.entity}.{line.field} not focused"
        qtbot.waitUntil(lambda field=field: on_screen(editor, field))


# §4 Esc in a drop-down, a stray key in the region picker ---------------------------------------------

@pytest.mark.parametrize("where", ["region list", "choice list"])
def test_escape_closes_an_open_drop_down_and_not_the_form(qtbot: Any, window: Any, answers: Any, where: str) -> None:
    press_ctrl(qtbot, window, Qt.Key.Key_N)
    editor = window.current_editor()
    fill(qtbot, editor.form, {"head_name": "Belum Disimpan"})  # a change: closing would ask
    if where == "region list":
        province = editor.form.editors["village_code"].picker.levels[0]
        province.setFocus()
        qtbot.keyClick(province, Qt.Key.Key_A, CTRL)
        qtbot.keyClicks(province, "jawa")
    else:
        combo = editor.form.editors["consent"].combo
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)
    assert answers.questions == [] and window.current_editor() is editor
    answers.next = [False]
    press(qtbot, Qt.Key.Key_Escape)  # with no list open Esc is the form's again: it asks
    assert answers.questions and window.current_editor() is editor
    press(qtbot, Qt.Key.Key_Tab)  # leave the field while the database is open (leaving a region level looks it up)


STRAY = [  # (level, keys typed after Ctrl+A, or after End when the text is kept)
    (0, "k", True), (0, "x", False), (0, "", True), (1, "z", True), (2, "q", False), (3, "w", True),
]


@pytest.mark.parametrize(("level", "typed", "replace"), STRAY)
def test_a_stray_key_in_a_region_level_empties_nothing(qtbot: Any, window: Any, level: int, typed: str,
                                                       replace: bool) -> None:
    editor = window.new_household()
    picker = editor.form.editors["village_code"].picker
    assert picker.code() == VILLAGE
    names = [e.text() for e in picker.levels]
    edit = picker.levels[level]
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, CTRL) if replace else qtbot.keyClick(edit, Qt.Key.Key_End)
    qtbot.keyClicks(edit, typed)
    if not typed:
        qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    press(qtbot, Qt.Key.Key_Tab)
    if QApplication.activePopupWidget() is not None:  # the list was open: Tab went to it
        press(qtbot, Qt.Key.Key_Tab)
    assert picker.code() == VILLAGE and [e.text() for e in picker.levels] == names
    assert editor.records.household["village_code"] == VILLAGE


def test_another_province_empties_the_levels_below_and_ctrl_z_brings_them_back(qtbot: Any, window: Any,
                                                                              db: Any) -> None:
    settings.put(db, "villages", [VILLAGE, "51.01.01.2001"])  # the officer also serves a village in Bali
    editor = window.new_household()
    picker = editor.form.editors["village_code"].picker
    province = picker.levels[0]
    province.setFocus()
    qtbot.keyClick(province, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(province, "bali")
    press(qtbot, Qt.Key.Key_Return)
    assert province.region.code == "51" and picker.code() is None
    assert picker.note.isVisibleTo(picker) and "Cijayanti" in picker.note.text()
    press(qtbot, Qt.Key.Key_Z, CTRL)  # the cursor is in Kabupaten/kota now
    assert picker.code() == VILLAGE and not picker.note.isVisibleTo(picker)
    assert editor.records.household["village_code"] == VILLAGE


# §4 mnemonics, closing back to the list -------------------------------------------------------------

def mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&])", text.replace("&&", ""))
    return found.group(1).casefold() if found else None


@pytest.mark.parametrize("language", ["id", "en"])
def test_menu_mnemonics_are_unique_in_the_bar_and_in_each_menu(qtbot: Any, ctx: Any, language: str) -> None:
    set_language(language)
    window = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(window)
    controller = SyncController(ctx, run_cycle=FakeSync())
    try:
        install_sync(window, ctx, controller)  # the sync menu, as the app adds it
        menus = [a.menu() for a in window.menuBar().actions() if isinstance(a.menu(), QMenu)]
        assert window.sync_menu in menus and len(menus) >= 4
        for texts in [[m.title() for m in menus]] + [[a.text() for a in m.actions() if not a.isSeparator()]
                                                      for m in menus]:
            keys = [mnemonic(t) for t in texts]
            assert None not in keys, texts
            assert len(set(keys)) == len(keys), texts
    finally:
        controller.stop()


def test_closing_a_form_goes_back_to_the_list_with_its_filter_and_selection(qtbot: Any, window: Any,
                                                                           db: Any) -> None:
    first, second = stored(db, "Ahmad Pertama"), stored(db, "Ahmad Kedua")
    stored(db, "Bambang Lain")
    page = window.list_page
    press_ctrl(qtbot, window, Qt.Key.Key_F)
    qtbot.keyClicks(page.search, "ahmad")
    qtbot.keyClick(page.search, Qt.Key.Key_Down)  # into the results
    assert page.table.hasFocus() and page.model.total == 2
    page.select(first)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert window.current_editor().household_id == first
    press_ctrl(qtbot, window, Qt.Key.Key_F)  # back to the list, open the second one too
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    page.select(second)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert window.current_editor().household_id == second
    press(qtbot, Qt.Key.Key_Escape)  # nothing changed: closes without asking
    assert window.tabs.currentWidget() is page, "closing went to another form, not to the list"
    assert page.search.text() == "ahmad" and page.model.total == 2
    assert page.current_household_id() == second and page.table.hasFocus()


# §12 the empty list -------------------------------------------------------------------------------

EMPTY_LISTS = [  # (households stored where, search typed, words the hint must hold, words it must not)
    (None, "", ["Ctrl+N", "pertama"], ["saringan", "cocok"]),
    (OTHER_VILLAGE, "", ["2 rumah tangga tersembunyi", "Desa tugas saya"], ["pertama"]),
    (VILLAGE, "zzz", ["2 rumah tangga tersembunyi", "pencarian \"zzz\""], ["pertama"]),
]


@pytest.mark.parametrize(("village", "search", "says", "not_says"), EMPTY_LISTS,
                         ids=["first-run", "elsewhere", "search"])
def test_the_empty_list_says_why_it_is_empty(qtbot: Any, window: Any, db: Any, village: str | None, search: str,
                                             says: list[str], not_says: list[str]) -> None:
    if village:
        stored(db, "Ahmad", village)
        stored(db, "Wati", village)
    page = window.list_page
    page.refresh()
    if search:
        press_ctrl(qtbot, window, Qt.Key.Key_F)
        qtbot.keyClicks(page.search, search)
        qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert page.model.total == 0 and page.empty_hint.isVisibleTo(page)
    hint = page.empty_hint.text()
    assert all(w in hint for w in says) and not any(w in hint for w in not_says), hint
    if village is None:  # what it says works: Ctrl+N from the empty list opens a new form
        page.table.setFocus()
        press_ctrl(qtbot, page.table, Qt.Key.Key_N)
        assert window.current_editor() is not None
