"""Issue 14 §4 in the form: household-level and identity warnings shown on save, confirmable;
a placement to Indonesia refused; a stored NIK that a new rule refuses is explained on its field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from gui_helpers import VILLAGE, click, fill, press_ctrl
from PySide6.QtCore import Qt
from test_editor_validation import MEMBER, new_valid, panel_texts

from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store.queries import entity_counts
from desmig_desktop.store.records import pending_ops

NO_HEAD = "Tidak ada anggota yang tercatat sebagai kepala keluarga"
SEVERAL_HEADS = "Ada 2 anggota yang tercatat sebagai kepala keluarga"


def _save_by_keyboard(qtbot: Any, editor: Any) -> None:
    press_ctrl(qtbot, editor.form.editors["head_name"].edit, Qt.Key.Key_S)


def _confirm_saves(qtbot: Any, editor: Any, db: Any, members: int) -> None:
    assert editor.issues.confirm_button.isVisibleTo(editor)  # warnings only: they can be confirmed
    click(qtbot, editor.issues.confirm_button)
    assert entity_counts(db)["households"] == 1 and entity_counts(db)["members"] == members
    assert not editor.dirty


def test_no_head_of_household_is_a_warning_beside_the_head_name(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_valid(qtbot, window, {**MEMBER, "relationship": "anak"})
    _save_by_keyboard(qtbot, editor)
    assert entity_counts(db)["households"] == 0 and pending_ops(db) == 0
    assert any(NO_HEAD in text for text in panel_texts(editor))
    beside = editor.form.messages["head_name"]
    assert beside.isVisibleTo(editor) and NO_HEAD in beside.text()
    _confirm_saves(qtbot, editor, db, 1)


def test_two_heads_of_household_warn_on_each_head(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_valid(qtbot, window, MEMBER)
    section = editor.members.members
    click(qtbot, section.add_button)
    fill(qtbot, section.form, {"name": "Kepala Kedua", "sex": "P", "relationship": "kepala",
                               "migration_status": "bukan"})
    _save_by_keyboard(qtbot, editor)
    assert entity_counts(db)["households"] == 0
    assert sum(SEVERAL_HEADS in text for text in panel_texts(editor)) == 2  # one line per head
    assert SEVERAL_HEADS in section.form.messages["relationship"].text()
    for row in range(2):
        assert SEVERAL_HEADS in section.model.data(section.model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
    _confirm_saves(qtbot, editor, db, 2)


def test_education_impossible_for_age_is_a_warning_on_the_education_field(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_valid(qtbot, window, MEMBER)
    section = editor.members.members
    click(qtbot, section.add_button)
    one_year_old = dt.date.today() - dt.timedelta(days=400)
    fill(qtbot, section.form, {"name": "Bayi", "sex": "L", "relationship": "anak", "migration_status": "bukan",
                               "birth_date": one_year_old.strftime("%d/%m/%Y"), "education": "sd"})
    assert not editor.save()
    message = section.form.messages["education"]
    assert message.isVisibleTo(editor) and "tidak mungkin untuk usia 1 tahun" in message.text()
    assert any("SD/sederajat tidak mungkin untuk usia 1 tahun" in text for text in panel_texts(editor))
    _confirm_saves(qtbot, editor, db, 2)


@pytest.mark.parametrize("kk, fragment", [
    ("3201053002200001", "Tanggal terbit dalam No. KK"),  # 30 February
    ("3201050101200000", "Nomor urut No. KK"),
    ("9901050101200001", "Kode provinsi dalam No. KK"),
    ("3504010101200001", "kabupaten/kota lain"),  # Kabupaten Tulungagung, the village is in Bogor
])
def test_kk_structure_warnings_show_beside_the_kk_field(qtbot: Any, window: Any, db: Any, kk: str,
                                                        fragment: str) -> None:
    editor = new_valid(qtbot, window, MEMBER)
    fill(qtbot, editor.form, {"kk_number": kk})
    assert not editor.save()
    beside = editor.form.messages["kk_number"]
    assert beside.isVisibleTo(editor) and fragment in beside.text()
    assert not any(kk in text for text in panel_texts(editor))  # the number itself is never repeated
    _confirm_saves(qtbot, editor, db, 1)


def test_a_placement_in_indonesia_is_refused_on_the_country_field(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_valid(qtbot, window, MEMBER)
    section = editor.members.placements
    click(qtbot, section.add_button)
    fill(qtbot, section.form, {"country": "ID", "job": "pabrik"})
    assert not editor.save()
    assert entity_counts(db)["households"] == 0 and pending_ops(db) == 0
    assert "negara tujuan tidak boleh Indonesia" in section.form.messages["country"].text()
    assert not editor.issues.confirm_button.isVisibleTo(editor)


@pytest.mark.parametrize("bad_nik, fragment", [
    ("3201053002800003", "tidak ada di kalender"),  # 30 February 1980, stored before the rule
    ("9901051201800003", "Kode provinsi dalam NIK"),  # a province never issued
])
def test_a_stored_nik_that_a_new_rule_refuses_is_explained_on_its_field(qtbot: Any, window: Any, db: Any,
                                                                         bad_nik: str, fragment: str) -> None:
    graph = HouseholdGraph({"village_code": VILLAGE, "head_name": "Budi Santoso", "visited_on": "2025-01-02",
                            "consent": True}, [{**MEMBER, "birth_date": "1980-01-12"}])
    household_id = save_household(db, graph).household_id
    member_id = graph.members[0]["id"]
    with db.atomic():  # as saved (or pulled) by an older version of the app
        db.execute("UPDATE members SET nik = ? WHERE id = ?", [bad_nik, member_id])
    ops_before = pending_ops(db)
    editor = window.open_household(household_id)
    fill(qtbot, editor.form, {"address": "Jl. Melati 3"})  # an unrelated edit
    assert not editor.save()
    assert pending_ops(db) == ops_before
    lines = [text for text in panel_texts(editor) if fragment in text]
    assert lines and "sudah tersimpan sebelum aturan" in lines[0] and bad_nik not in lines[0]
    editor.issues.item_activated.emit(editor.issues.list.item(0).data(Qt.ItemDataRole.UserRole))
    section = editor.members.members
    assert section.current()["id"] == member_id
    beside = section.form.messages["nik"]
    assert beside.isVisibleTo(editor) and fragment in beside.text() and "KTP/KK" in beside.text()
    fill(qtbot, section.form, {"nik": MEMBER["nik"]})  # corrected from the KTP
    assert editor.save()
    assert db.execute("SELECT nik FROM members WHERE id = ?", [member_id]).fetchone()[0] == MEMBER["nik"]
