"""Nothing typed is lost (drafts), undo of the last save/delete, and the keyboard shortcuts."""

from __future__ import annotations

from typing import Any

from gui_helpers import VILLAGE, click, fill, press_ctrl, restore_all_drafts, show_active
from PySide6.QtCore import Qt

from desmig_desktop.services import drafts
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store import records
from desmig_desktop.store.queries import entity_counts
from desmig_desktop.ui.main_window import MainWindow

MEMBER = {"nik": "3201051201800003", "name": "Budi Santoso", "sex": "L", "birth_date": "12/01/1980",
          "relationship": "kepala", "migration_status": "bukan"}


def stored_household(db: Any, name: str = "Ahmad Tersimpan") -> str:
    graph = HouseholdGraph({"village_code": VILLAGE, "head_name": name, "visited_on": "2025-03-04", "consent": True},
                           [{**MEMBER, "name": name, "birth_date": "1980-01-12"}])
    return save_household(db, graph).household_id


def test_draft_survives_a_crash_and_is_offered_back(qtbot: Any, ctx: Any, answers: Any) -> None:
    first = MainWindow(ctx, autosave_ms=30)
    qtbot.addWidget(first)
    show_active(qtbot, first)
    editor = first.new_household()
    fill(qtbot, editor.form, {"head_name": "Wati Belum Simpan", "rt": "7"})
    click(qtbot, editor.members.members.add_button)
    fill(qtbot, editor.members.members.form, {"nik": "3201055203850002"})
    qtbot.waitUntil(lambda: any(d.data["members"] and d.data["members"][0].get("nik") == "3201055203850002"
                                for d in drafts.load_drafts(ctx.db)))
    first.hide()
    first.deleteLater()  # gone without closeEvent, as in a crash or power cut
    qtbot.waitUntil(lambda: not first.isVisible())

    second = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(second)
    show_active(qtbot, second)
    assert restore_all_drafts(qtbot, second) == 1
    restored = second.current_editor()
    assert restored is not None and restored.dirty and restored.is_new
    assert restored.form.editors["head_name"].value() == "Wati Belum Simpan"
    assert restored.form.editors["rt"].value() == "7"
    assert restored.members.members.form.editors["nik"].value() == "3201055203850002"
    assert second.tabs.tabText(second.tabs.currentIndex()).endswith("*")


def test_closing_the_window_keeps_unsaved_forms_and_saving_forgets_the_draft(qtbot: Any, ctx: Any,
                                                                             answers: Any) -> None:
    window = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    editor = window.new_household()
    fill(qtbot, editor.form, {"head_name": "Tutup Tanpa Simpan", "consent": True})
    window.close()  # no question: closing never loses anything
    assert answers.questions == []
    [draft] = drafts.load_drafts(ctx.db)
    again = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(again)
    chooser = again.offer_drafts()
    assert chooser is not None and "1 isian" in chooser.heading.text()
    qtbot.keyClick(chooser.list, Qt.Key.Key_Escape)  # "Nanti saja": kept for later
    assert again.editors() == [] and len(drafts.load_drafts(ctx.db)) == 1
    assert restore_all_drafts(qtbot, again) == 1
    restored = again.current_editor()
    # confirm_warnings: a household with no member listed is a warning (issue 20 §6)
    assert restored.household_id == draft.key and restored.save(confirm_warnings=True)
    assert drafts.load_drafts(ctx.db) == []
    assert entity_counts(ctx.db)["households"] == 1


def test_undo_after_save_of_a_new_household(qtbot: Any, window: Any, db: Any) -> None:
    editor = window.new_household()
    fill(qtbot, editor.form, {"head_name": "Baru Sekali", "consent": True})
    assert editor.save(confirm_warnings=True)  # no member yet: a warning, confirmed
    household_id = editor.household_id
    assert window.undo_action.isEnabled() and "Baru Sekali" in window.undo_action.text()
    window.tabs.setCurrentWidget(window.list_page)
    press_ctrl(qtbot, window.list_page.table, Qt.Key.Key_Z)
    assert records.get(db, "households", household_id)["deleted"] == 1
    assert window.editor_for(household_id) is None  # its tab is closed: the record is gone
    assert window.list_page.model.total == 0 and not window.undo_action.isEnabled()


def test_undo_after_editing_restores_previous_values(qtbot: Any, window: Any, db: Any, answers: Any) -> None:
    household_id = stored_household(db)
    editor = window.open_household(household_id)
    fill(qtbot, editor.form, {"head_name": "Nama Diubah", "address": "Jl. Baru"})
    assert editor.save()
    assert window.undo_last()  # from inside the form: asked first
    assert answers.questions and "Nama Diubah" in answers.questions[-1]
    stored = records.get(db, "households", household_id)
    assert (stored["head_name"], stored["address"]) == ("Ahmad Tersimpan", None)
    assert editor.form.editors["head_name"].value() == "Ahmad Tersimpan"  # the open form shows it too


def test_soft_delete_asks_and_undo_brings_everything_back(qtbot: Any, window: Any, db: Any, answers: Any) -> None:
    household_id = stored_household(db)
    window.list_page.refresh(select_id=household_id)
    answers.next = [False]
    window.list_page.table.setFocus()
    qtbot.keyClick(window.list_page.table, Qt.Key.Key_Delete)
    assert "Ahmad Tersimpan" in answers.questions[-1]
    assert entity_counts(db)["households"] == 1  # declined: nothing deleted
    qtbot.keyClick(window.list_page.table, Qt.Key.Key_Delete)
    assert entity_counts(db) == {"households": 0, "members": 0, "placements": 0, "businesses": 0}
    assert records.get(db, "households", household_id)["deleted"] == 1  # soft: the row stays
    assert window.list_page.model.total == 0
    press_ctrl(qtbot, window.list_page.table, Qt.Key.Key_Z)
    assert entity_counts(db)["households"] == 1 and entity_counts(db)["members"] == 1
    assert window.list_page.model.total == 1


def test_keyboard_flow(qtbot: Any, window: Any, answers: Any) -> None:
    press_ctrl(qtbot, window, Qt.Key.Key_N)
    editor = window.current_editor()
    assert editor is not None
    hamlet = editor.form.editors["hamlet"].edit
    hamlet.setFocus()
    qtbot.keyClicks(hamlet, "Krajan")
    qtbot.keyClick(hamlet, Qt.Key.Key_Return)  # Enter moves on, in paper-form order
    assert editor.form.editors["rt"].edit.hasFocus()
    qtbot.keyClick(editor.form.editors["rt"].edit, Qt.Key.Key_Tab)
    assert editor.form.editors["rw"].edit.hasFocus()
    answers.next = [False]
    qtbot.keyClick(editor.form.editors["rw"].edit, Qt.Key.Key_Escape)  # dirty: asks, officer goes back
    assert "belum disimpan" in answers.questions[-1] and window.current_editor() is editor
    answers.next = [True]
    qtbot.keyClick(editor.form.editors["rw"].edit, Qt.Key.Key_Escape)
    assert window.current_editor() is None and window.editors() == []


def test_ctrl_n_replaces_a_saved_form_and_keeps_an_unsaved_one(qtbot: Any, window: Any) -> None:
    editor = window.new_household()
    fill(qtbot, editor.form, {"head_name": "Pertama", "consent": True})
    assert editor.save(confirm_warnings=True)  # no member yet: a warning, confirmed
    second = window.new_household()  # the saved, unchanged form is replaced: one tab for a data-entry run
    assert window.editors() == [second]
    assert second.form.editors["village_code"].value() == VILLAGE  # same village as the last save
    fill(qtbot, second.form, {"head_name": "Kedua"})
    third = window.new_household()
    assert window.editors() == [second, third]
