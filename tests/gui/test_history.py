"""The Riwayat tab: one row per saved field change, labelled and formatted as the form shows it."""

from __future__ import annotations

from typing import Any

import pytest
from gui_helpers import VILLAGE, fill, show_active
from PySide6.QtCore import Qt

from desmig_desktop.services.households import HouseholdGraph, load_household, save_household
from desmig_desktop.store.records import history
from desmig_desktop.ui.editor import HouseholdEditor
from desmig_desktop.ui.history import HistoryModel, HistoryRow


def saved_household(db: Any) -> str:
    graph = HouseholdGraph(
        {"village_code": VILLAGE, "head_name": "Siti Aminah", "visited_on": "2025-05-02", "consent": True},
        [{"id": "m-siti", "name": "Siti Aminah", "sex": "P", "relationship": "kepala", "migration_status": "bukan"}],
        [],
        [{"id": "b-keripik", "owner_member_id": "m-siti", "name": "Keripik Siti", "kbli_category": "C",
          "capital": 40_000_000, "status": "aktif"}])
    return save_household(db, graph, confirm_warnings=True).household_id


@pytest.fixture
def editor(qtbot: Any, db: Any, paths: Any) -> HouseholdEditor:
    widget = HouseholdEditor(db, load_household(db, saved_household(db)))
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    show_active(qtbot, widget)
    return widget


def rows(editor: HouseholdEditor) -> list[HistoryRow]:
    return [editor.history.model.row(n) for n in range(editor.history.model.rowCount())]


def save(editor: HouseholdEditor, qtbot: Any, values: dict[str, Any], form: Any = None) -> None:
    fill(qtbot, form or editor.form, values)
    assert editor.save(confirm_warnings=True)


def test_each_saved_field_change_is_one_row(qtbot: Any, editor: HouseholdEditor, db: Any) -> None:
    hid = editor.household_id
    save(editor, qtbot, {"head_name": "Siti A."})
    save(editor, qtbot, {"head_name": "Siti Aminah Putri", "visited_on": "03/05/2025"})
    editor.show_history()
    assert editor.history.current_record() == ("households", hid)
    shown = rows(editor)
    assert len(shown) == len(history(db, "households", hid))  # creation (one row per field) + 3 changes
    assert [(r.field, r.old, r.new) for r in shown[:3]] == [
        ("Nama kepala keluarga", "Siti A.", "Siti Aminah Putri"),
        ("Tanggal kunjungan", "02/05/2025", "03/05/2025"),
        ("Nama kepala keluarga", "Siti Aminah", "Siti A.")]
    assert [r.field for r in shown].count("Nama kepala keluarga") == 3  # created, then edited twice
    assert all(r.who == "Siti Petugas" for r in shown)
    created = {r.field: r.new for r in shown if r.old == "–"}
    assert created["Desa/kelurahan"].startswith("Cijayanti, Babakan Madang")
    assert created["Persetujuan responden"] == "Ya"
    assert len(shown[0].when) == len("31/12/2025 23:59")


def test_history_follows_the_record_worked_on(qtbot: Any, editor: HouseholdEditor, db: Any) -> None:
    businesses = editor.businesses
    businesses.select_id("b-keripik")
    save(editor, qtbot, {"capital": "2000000"}, businesses.form)
    editor.members.members.select_id("m-siti")
    save(editor, qtbot, {"migration_status": "calon_pmi"}, editor.members.members.form)
    editor.members.members.form.focus_field("name")  # the officer was last in the member's form
    editor.show_history()
    assert editor.history.current_record() == ("members", "m-siti")
    assert (rows(editor)[0].field, rows(editor)[0].old, rows(editor)[0].new) == (
        "Status migrasi", "Bukan PMI", "Calon PMI")
    editor.show_form()
    editor.businesses.select_id("b-keripik")
    editor.businesses.form.focus_field("name")
    editor.show_history()
    assert editor.history.current_record() == ("businesses", "b-keripik")
    shown = rows(editor)
    assert len(shown) == len(history(db, "businesses", "b-keripik"))
    assert (shown[0].field, shown[0].old, shown[0].new) == (
        "Modal usaha (di luar tanah & bangunan)", "Rp 40.000.000", "Rp 2.000.000")
    owner = next(r for r in shown if r.field == "Pemilik")
    assert owner.new == "Siti Aminah"  # a link to a member reads as the member's name
    labels = [editor.history.picker.itemText(i) for i in range(editor.history.picker.count())]
    assert labels == ["Rumah tangga: Siti Aminah", "Anggota: Siti Aminah", "Usaha: Keripik Siti"]


def test_saving_while_history_is_shown_refreshes_it(qtbot: Any, editor: HouseholdEditor) -> None:
    editor.show_history()
    before = editor.history.model.rowCount()
    editor.show_form()
    fill(qtbot, editor.form, {"hamlet": "Dusun Kaler"})
    editor.show_history()
    assert editor.history.model.rowCount() == before  # unsaved typing is not history
    assert editor.save(confirm_warnings=True)
    assert editor.history.model.rowCount() == before + 1 and rows(editor)[0].new == "Dusun Kaler"


def test_a_new_household_has_no_history_yet(qtbot: Any, db: Any, paths: Any) -> None:
    editor = HouseholdEditor(db)
    qtbot.addWidget(editor)
    editor.show_history()
    assert editor.history.model.rowCount() == 0 and "Belum ada perubahan" in editor.history.note.text()


def test_history_model_passes_the_model_tester(qtmodeltester: Any, editor: HouseholdEditor) -> None:
    editor.show_history()
    qtmodeltester.check(editor.history.model)
    qtmodeltester.check(HistoryModel())


@pytest.mark.parametrize("key, modifier", [(Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier),
                                           (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)],
                         ids=["Tab", "Shift+Tab"])
def test_tab_leaves_the_history_table(qtbot: Any, editor: HouseholdEditor, key: Qt.Key,
                                      modifier: Qt.KeyboardModifier) -> None:
    """The history table is the app's one table class: Tab and Shift+Tab leave it wherever the
    cursor is, instead of walking its cells (an officer on the keyboard would be trapped)."""
    editor.show_history()
    table = editor.history.table
    assert table.model().rowCount() > 1
    for row, column in ((0, 0), (1, 2), (table.model().rowCount() - 1, 4)):
        table.setFocus(Qt.FocusReason.OtherFocusReason)
        table.setCurrentIndex(table.model().index(row, column))
        qtbot.waitUntil(table.hasFocus)
        qtbot.keyClick(table, key, modifier)
        assert not table.hasFocus(), (row, column)
