"""A form on a laptop still on questionnaire version 1 shows answers another device gave under a
later version (a new choice, a new choice of a multi answer, a longer text) without losing them:
the officer edits another field by keyboard and saves; the stored answers stay as they were and
the ops name only the edit. A household's form and a programme record's form."""

from __future__ import annotations

import json
from typing import Any

from gui_helpers import VILLAGE, fill, press_ctrl, show_active
from PySide6.QtCore import Qt

from desmig_desktop.services import programme as prog
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store.queries import rows
from desmig_desktop.ui.programme import ProgrammeWindow

LONG_HAMLET = "Krajan Kidul " * 12  # 156 characters: version 1 allows 100, a later version more


def _stored_later(db: Any, table: str, record_id: str, **values: Any) -> None:
    """Write answers as a pull stores another device's: as they are, not validated here."""
    db.execute(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?", [*values.values(), record_id])
    db.conn.commit()


def _ops(db: Any, entity: str) -> list[dict[str, Any]]:
    return [json.loads(r["fields"]) for r in rows(db, "SELECT fields FROM sync_outbox WHERE entity = ? ORDER BY op_seq",
                                                  [entity])]


def test_a_household_form_keeps_a_later_versions_answers(qtbot: Any, window: Any, db: Any) -> None:
    graph = HouseholdGraph({"village_code": VILLAGE, "head_name": "Sri Lestari", "visited_on": "2025-03-04",
                            "consent": True},
                           [{"name": "Sri Lestari", "sex": "P", "relationship": "kepala",
                             "migration_status": "pmi_aktif"}],
                           businesses=[{"name": "Warung Sri", "kbli_category": "G", "status": "aktif"}])
    graph.ensure_ids()
    graph.placements.append({"member_id": graph.members[0]["id"], "country": "MY", "job": "prt"})
    save_household(db, graph, confirm_warnings=True)
    hid, bid, pid = graph.household["id"], graph.businesses[0]["id"], graph.placements[0]["id"]
    _stored_later(db, "households", hid, hamlet=LONG_HAMLET.strip())
    _stored_later(db, "businesses", bid, capital_source="koperasi")
    _stored_later(db, "placements", pid, remittance_use="kesehatan,rumah")
    before = {e: len(_ops(db, e)) for e in ("households", "businesses", "placements")}

    editor = window.open_household(hid)
    assert editor.form.editors["hamlet"].value() == LONG_HAMLET.strip()
    combo = editor.businesses.form.editors["capital_source"].combo
    assert combo.currentData() == "koperasi" and "koperasi" in combo.currentText()
    multi = editor.members.placements.form.editors["remittance_use"]
    assert sorted(multi.value()) == ["kesehatan", "rumah"] and "kesehatan" in multi.later_label.text()
    fill(qtbot, editor.form, {"address": "Jl. Melati 4"})
    fill(qtbot, editor.businesses.form, {"workers": "3"})
    fill(qtbot, editor.members.placements.form, {"sector": "formal"})
    press_ctrl(qtbot, editor.form.editors["address"].edit, Qt.Key.Key_S)
    assert not editor.dirty, [editor.issues.list.item(i).text() for i in range(editor.issues.list.count())]

    household = rows(db, "SELECT hamlet, address FROM households WHERE id = ?", [hid])[0]
    business = rows(db, "SELECT capital_source, workers FROM businesses WHERE id = ?", [bid])[0]
    placement = rows(db, "SELECT remittance_use, sector FROM placements WHERE id = ?", [pid])[0]
    assert (household["hamlet"], household["address"]) == (LONG_HAMLET.strip(), "Jl. Melati 4")
    assert (business["capital_source"], business["workers"]) == ("koperasi", 3)
    assert (placement["remittance_use"], placement["sector"]) == ("kesehatan,rumah", "formal")
    sent = {e: _ops(db, e)[before[e]:] for e in before}
    assert sent == {"households": [{"address": "Jl. Melati 4"}], "businesses": [{"workers": 3}],
                    "placements": [{"sector": "formal"}]}


def test_a_programme_form_keeps_a_later_versions_answers(qtbot: Any, db: Any) -> None:
    rec = prog.new_record("services", {"village_code": VILLAGE, "served_on": "2025-03-04", "walk_in_name": "Rina",
                                       "service_type": "informasi", "status": "selesai"})
    record_id = prog.save_record(db, rec, confirm_warnings=True).record_id
    _stored_later(db, "services", record_id, referral="lsm")
    win = ProgrammeWindow(db, [VILLAGE], draft_delay_ms=60_000)
    qtbot.addWidget(win)
    show_active(qtbot, win)
    qtbot.keyClick(win.tabs.tabBar(), Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    page = win.current_page()
    page.refresh(select_id=record_id)
    assert page.open_current()
    assert page.editor.form.editors["referral"].value() == "lsm"
    fill(qtbot, page.editor.form, {"walk_in_name": "Rina Wati"})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert not page.editor.dirty, page.editor.status.text()
    stored = rows(db, "SELECT referral, walk_in_name FROM services WHERE id = ?", [record_id])[0]
    assert (stored["referral"], stored["walk_in_name"]) == ("lsm", "Rina Wati")
    assert _ops(db, "services")[-1] == {"walk_in_name": "Rina Wati"}
