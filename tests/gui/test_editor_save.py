"""Filling a household through the widgets and saving it with Ctrl+S."""

from __future__ import annotations

import json
from typing import Any

from gui_helpers import VILLAGE, click, fill, press_ctrl
from PySide6.QtCore import Qt

from desmig_desktop.store.queries import entity_counts, rows
from desmig_desktop.store.records import pending_ops

HOUSEHOLD = {"hamlet": "Dusun Sukamaju", "rt": "003", "rw": "002", "address": "Jl. Melati 4",
             "kk_number": "3201051201150001", "head_name": "Budi Santoso", "phone": "081234567890",
             "consent": True}
HEAD = {"nik": "3201051201800003", "sex": "L", "birth_place": "Bogor", "birth_date": "12011980",
        "education": "smp", "marital_status": "kawin", "occupation": "Petani", "migration_status": "pmi_purna"}
PLACEMENT = {"country": "MY", "job": "perkebunan", "sector": "formal", "scheme": "p3mi",
             "agency_name": "PT Maju Jaya", "departed_on": "01022005", "returned_on": "01/02/2008",
             "monthly_remittance": "2500000", "remittance_use": ["rumah", "pendidikan"]}
SPOUSE = {"nik": "3201055203850002", "name": "Sri Wahyuni", "sex": "P", "birth_date": "12/03/1985",
          "relationship": "suami_istri", "migration_status": "bukan"}
BUSINESS = {"name": "Warung Sri", "kbli_category": "G", "kbli_code": "47111", "capital": "50000000",
            "annual_turnover": "120000000", "workers": "2", "export_ready": False}


def fill_household(qtbot: Any, window: Any) -> Any:
    editor = window.new_household()
    fill(qtbot, editor.form, HOUSEHOLD)
    members = editor.members
    click(qtbot, members.members.add_button)
    assert members.members.form.editors["name"].value() == "Budi Santoso"  # first member = the head
    fill(qtbot, members.members.form, HEAD)
    assert members.placements.isVisibleTo(editor)  # PMI purna: placements are asked
    click(qtbot, members.placements.add_button)
    fill(qtbot, members.placements.form, PLACEMENT)
    assert members.placements.form.editors["monthly_remittance"].edit.text() == "Rp 2.500.000"
    click(qtbot, members.members.add_button)
    fill(qtbot, members.members.form, SPOUSE)
    assert not members.placements.isVisibleTo(editor)  # not a PMI: no placements
    click(qtbot, editor.businesses.add_button)
    spouse_id = members.members.current()["id"]
    fill(qtbot, editor.businesses.form, {**BUSINESS, "owner_member_id": spouse_id})
    umkm = editor.businesses.form.editors["umkm_class"].label.text()
    assert "Mikro" in umkm and "modal" in umkm
    return editor


def test_ctrl_s_stores_exactly_the_records_and_their_outbox_ops(qtbot: Any, window: Any, db: Any) -> None:
    assert pending_ops(db) == 0
    editor = fill_household(qtbot, window)
    assert editor.form.editors["village_code"].value() == VILLAGE  # the officer's village by default
    press_ctrl(qtbot, editor.businesses.form.editors["name"].edit, Qt.Key.Key_S)
    assert not editor.dirty, [editor.issues.list.item(i).text() for i in range(editor.issues.list.count())]
    assert entity_counts(db) == {"households": 1, "members": 2, "placements": 1, "businesses": 1}
    ops = rows(db, "SELECT entity, record_id, kind, fields FROM sync_outbox ORDER BY op_seq")
    assert sorted(op["entity"] for op in ops) == ["businesses", "households", "members", "members", "placements"]
    assert {op["kind"] for op in ops} == {"upsert"}
    household = rows(db, "SELECT * FROM households")[0]
    assert (household["village_code"], household["head_name"], household["kk_number"], household["consent"]) == (
        VILLAGE, "Budi Santoso", "3201051201150001", 1)
    placement = rows(db, "SELECT * FROM placements")[0]
    assert (placement["departed_on"], placement["returned_on"], placement["monthly_remittance"],
            placement["remittance_use"], placement["agency_name"]) == (
        "2005-02-01", "2008-02-01", 2_500_000, "pendidikan,rumah", "PT Maju Jaya")
    head, spouse = rows(db, "SELECT * FROM members ORDER BY name")
    assert (head["name"], head["relationship"], head["birth_date"]) == ("Budi Santoso", "kepala", "1980-01-12")
    assert placement["member_id"] == head["id"]
    business = rows(db, "SELECT * FROM businesses")[0]
    assert (business["owner_member_id"], business["umkm_class"], business["umkm_basis"], business["capital"]) == (
        spouse["id"], "mikro", "modal", 50_000_000)
    household_op = next(op for op in ops if op["entity"] == "households")
    assert json.loads(household_op["fields"])["head_name"] == "Budi Santoso"
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Budi Santoso"
    assert window.list_page.model.total == 1
    assert "1 perubahan" not in window.pending_label.text() and "5 perubahan" in window.pending_label.text()


def test_saving_again_without_changes_adds_no_ops(qtbot: Any, window: Any, db: Any) -> None:
    editor = fill_household(qtbot, window)
    assert editor.save()
    before = pending_ops(db)
    assert editor.save()
    assert pending_ops(db) == before


def test_editing_a_saved_household_sends_only_the_changed_field(qtbot: Any, window: Any, db: Any) -> None:
    editor = fill_household(qtbot, window)
    assert editor.save()
    before = pending_ops(db)
    fill(qtbot, editor.form, {"address": "Jl. Kenanga 9"})
    assert editor.dirty
    assert editor.save()
    ops = rows(db, "SELECT entity, fields FROM sync_outbox WHERE op_seq > ?", [before])
    assert [(op["entity"], json.loads(op["fields"])) for op in ops] == [("households", {"address": "Jl. Kenanga 9"})]
