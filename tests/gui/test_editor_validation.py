"""Hard errors block saving and are shown; warnings need one confirmation; duplicate NIK links."""

from __future__ import annotations

from typing import Any

import pytest
from gui_helpers import VILLAGE, click, fill, press_ctrl
from PySide6.QtCore import Qt

from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store.queries import entity_counts
from desmig_desktop.store.records import pending_ops

VALID = {"head_name": "Budi Santoso", "consent": True}
MEMBER = {"nik": "3201051201800003", "name": "Budi Santoso", "sex": "L", "birth_date": "12/01/1980",
          "relationship": "kepala", "migration_status": "pmi_purna"}


def panel_texts(editor: Any) -> list[str]:
    return [editor.issues.list.item(i).text() for i in range(editor.issues.list.count())]


def new_valid(qtbot: Any, window: Any, member: dict[str, Any] | None = None) -> Any:
    editor = window.new_household()
    fill(qtbot, editor.form, VALID)
    if member is not None:
        click(qtbot, editor.members.members.add_button)
        fill(qtbot, editor.members.members.form, member)
    return editor


HOUSEHOLD_ERRORS = [
    ({"head_name": ""}, "head_name", "Wajib diisi."),
    ({"kk_number": "3201"}, "kk_number", "No. KK harus tepat 16 digit angka."),
    ({"visited_on": "01/01/2999"}, "visited_on", "Tanggal tidak boleh di masa depan."),
    ({"visited_on": "31/02/2024"}, "visited_on", "Tanggal tidak valid; gunakan format hh/bb/tttt."),
    ({"consent": False}, "consent", "Data hanya boleh disimpan bila responden sudah memberi persetujuan."),
    ({"phone": "12345"}, "phone", ("No. HP tidak valid. Gunakan nomor Indonesia (0812…, 62812… atau +62812…) atau "
                                   "nomor luar negeri dengan + dan kode negara, misalnya +60 12 345 6789 (Malaysia) "
                                   "atau +852 9123 4567 (Hong Kong).")),
    ({"latitude": "20"}, "latitude", "Tidak boleh lebih dari 6.5."),
]


@pytest.mark.parametrize(("values", "key", "message"), HOUSEHOLD_ERRORS, ids=[e[1] + "-" + e[2][:12] for e in HOUSEHOLD_ERRORS])
def test_household_hard_error_blocks_and_shows_message(qtbot: Any, window: Any, db: Any, values: dict[str, Any],
                                                       key: str, message: str) -> None:
    editor = new_valid(qtbot, window)
    fill(qtbot, editor.form, values)
    press_ctrl(qtbot, editor.form.editors[key].focus_widget, Qt.Key.Key_S)
    assert editor.dirty
    assert entity_counts(db)["households"] == 0 and pending_ops(db) == 0
    beside = editor.form.messages[key]
    assert beside.isVisibleTo(editor) and message in beside.text()
    assert any(message in text for text in panel_texts(editor))
    assert not editor.issues.confirm_button.isVisibleTo(editor)  # errors cannot be confirmed away


def test_village_is_required(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_valid(qtbot, window)
    editor.form.editors["village_code"].picker.levels[0].set_region(None)
    assert not editor.save()
    assert "Wajib diisi." in editor.form.messages["village_code"].text()


CHILD_ERRORS = [
    ("members", {**MEMBER, "nik": "3201059901800003"}, "nik", "Tanggal lahir dalam NIK (digit 7–8)"),
    ("members", {**MEMBER, "nik": "320105"}, "nik", "NIK harus tepat 16 digit angka."),
    ("members", {**MEMBER, "name": ""}, "name", "Wajib diisi."),
    ("placements", {"country": "MY", "job": "pabrik", "departed_on": "01/02/2010", "returned_on": "01/02/2009"},
     "returned_on", "Tanggal kembali harus sesudah tanggal berangkat."),
    ("placements", {"job": "pabrik"}, "country", "Wajib diisi."),
    ("businesses", {"name": "Toko", "kbli_category": "A", "kbli_code": "47111"}, "kbli_code",
     "Kode KBLI bukan bagian dari kategori A."),
]


@pytest.mark.parametrize(("entity", "values", "key", "message"), CHILD_ERRORS,
                         ids=[f"{e[0]}-{e[2]}-{e[3][:10]}" for e in CHILD_ERRORS])
def test_child_hard_error_blocks_and_shows_message(qtbot: Any, window: Any, db: Any, entity: str,
                                                   values: dict[str, Any], key: str, message: str) -> None:
    if entity == "members":
        editor = new_valid(qtbot, window, values)
        section = editor.members.members
    elif entity == "placements":
        editor = new_valid(qtbot, window, MEMBER)
        section = editor.members.placements
        click(qtbot, section.add_button)
        fill(qtbot, section.form, values)
    else:
        editor = new_valid(qtbot, window)
        section = editor.businesses
        click(qtbot, section.add_button)
        fill(qtbot, section.form, values)
    assert not editor.save()
    assert entity_counts(db)["households"] == 0 and pending_ops(db) == 0
    assert message in section.form.messages[key].text() and section.form.messages[key].isVisibleTo(editor)
    assert any(message in text for text in panel_texts(editor))
    row = section.table.currentIndex().row()
    assert message in section.model.data(section.model.index(row, 0), Qt.ItemDataRole.ToolTipRole)


def test_clicking_a_summary_line_goes_to_the_field(qtbot: Any, window: Any) -> None:
    editor = new_valid(qtbot, window, {**MEMBER, "nik": "320105"})
    click(qtbot, editor.members.members.add_button)  # the faulty member is no longer selected
    assert not editor.save()
    editor.issues.item_activated.emit(editor.issues.list.item(0).data(Qt.ItemDataRole.UserRole))
    assert editor.members.members.current()["nik"] == "320105"
    assert editor.members.members.form.editors["nik"].edit.hasFocus()


def test_soft_warning_needs_one_explicit_confirmation(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_valid(qtbot, window, {**MEMBER, "sex": "P"})  # the NIK says male
    press_ctrl(qtbot, editor.form.editors["head_name"].edit, Qt.Key.Key_S)
    assert entity_counts(db)["households"] == 0
    assert any("Jenis kelamin tidak sesuai dengan NIK" in t for t in panel_texts(editor))
    assert editor.issues.confirm_button.isVisibleTo(editor)
    press_ctrl(qtbot, editor.form.editors["head_name"].edit, Qt.Key.Key_S)  # Ctrl+S again is not a confirmation
    assert entity_counts(db)["households"] == 0
    fill(qtbot, editor.form, {"rt": "1"})  # a change after the warning: it must be checked again
    assert not editor.issues.confirm_button.isVisibleTo(editor)
    assert not editor.save()
    click(qtbot, editor.issues.confirm_button)
    assert entity_counts(db) == {"households": 1, "members": 1, "placements": 0, "businesses": 0}
    assert not editor.dirty and not editor.issues.isVisibleTo(editor)


def test_duplicate_nik_warning_opens_the_other_household(qtbot: Any, window: Any, db: Any) -> None:
    other = HouseholdGraph({"village_code": VILLAGE, "head_name": "Ahmad Lain", "visited_on": "2025-01-02",
                            "consent": True},
                           [{"nik": MEMBER["nik"], "name": "Ahmad Lain", "sex": "L", "relationship": "kepala",
                             "migration_status": "bukan"}])
    other_id = save_household(db, other).household_id
    editor = new_valid(qtbot, window, MEMBER)
    assert not editor.save()
    assert any("NIK ini sudah dipakai" in t for t in panel_texts(editor))
    [link] = editor.issues.link_buttons
    click(qtbot, link)
    opened = window.current_editor()
    assert opened is not editor and opened.household_id == other_id
    assert opened.form.editors["head_name"].value() == "Ahmad Lain"
    assert editor.dirty  # the form being filled is still there, unsaved
    window.tabs.setCurrentWidget(editor)
    click(qtbot, editor.issues.confirm_button)
    assert entity_counts(db)["households"] == 2
