"""The "Program Desmigratif" window driven by keyboard as an officer would: one record of each kind,
an edit, delete and Ctrl+Z, the open-cases view, attendance of a child of PMI, refused input
shown at its field, the unsaved-changes guard and drafts."""

from __future__ import annotations

from typing import Any

import pytest
from gui_helpers import VILLAGE, fill, press_ctrl, show_active
from PySide6.QtCore import Qt

from desmig_desktop.services import drafts
from desmig_desktop.services import programme as prog
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.ui.programme import ProgrammeWindow
from desmig_desktop.ui.programme.page import RecordPage


@pytest.fixture
def family(db: Any) -> HouseholdGraph:
    """A household of the officer's village: the mother abroad (PMI aktif), her son of 9, his grandmother."""
    graph = HouseholdGraph(
        {"village_code": VILLAGE, "head_name": "Sri Wahyuni", "visited_on": "2025-03-04", "consent": True},
        [{"name": "Sri Wahyuni", "sex": "P", "relationship": "kepala", "migration_status": "pmi_aktif"},
         {"name": "Bayu Pratama", "sex": "L", "relationship": "anak", "migration_status": "bukan",
          "birth_date": "2017-05-01"},
         {"name": "Sumiati", "sex": "P", "relationship": "orang_tua", "migration_status": "bukan"}],
        businesses=[{"name": "Keripik Singkong Sri", "kbli_category": "C", "status": "aktif"}])
    save_household(db, graph, confirm_warnings=True)
    return graph


@pytest.fixture
def programme(qtbot: Any, db: Any) -> ProgrammeWindow:
    win = ProgrammeWindow(db, [VILLAGE], draft_delay_ms=60_000)
    qtbot.addWidget(win)
    show_active(qtbot, win)
    return win


def goto(qtbot: Any, win: ProgrammeWindow, number: int) -> RecordPage:
    """Alt+<number>: the page of that number."""
    qtbot.keyClick(win.tabs.tabBar(), Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.AltModifier)
    page = win.current_page()
    return page


def new_and_save(qtbot: Any, win: ProgrammeWindow, page: RecordPage, values: dict[str, Any]) -> str:
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    assert page.editing() and page.editor.isAncestorOf(win.focusWidget())
    fill(qtbot, page.editor.form, values)
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert not page.editor.dirty, page.editor.status.text()
    return page.editor.record.id


def live(db: Any, entity: str) -> list[dict[str, Any]]:
    cur = db.execute(f"SELECT * FROM {entity} WHERE deleted = 0")
    return [dict(zip([c[0] for c in cur.description], row)) for row in cur.fetchall()]


def ops(db: Any, entity: str) -> int:
    return int(db.execute("SELECT count(*) FROM sync_outbox WHERE entity = ?", [entity]).fetchone()[0])


def test_an_officer_records_one_of_each_kind_by_keyboard(qtbot: Any, programme: ProgrammeWindow, db: Any,
                                                         family: HouseholdGraph) -> None:
    win = programme
    mother, child, grandmother = (m["id"] for m in family.members)
    business = family.businesses[0]["id"]

    page = goto(qtbot, win, 1)
    assert page.entity == "village_profiles"
    new_and_save(qtbot, win, page, {"joined_year": "2017", "status": "aktif", "facilitators": "Rina, Joko",
                                    "centre_days": ["1_senin", "4_kamis"]})
    assert [r["id"] for r in live(db, "village_profiles")] == [prog.village_profile_id(VILLAGE)]

    page = goto(qtbot, win, 2)
    new_and_save(qtbot, win, page, {"served_on": "02/11/2026", "member_id": mother, "service_type": "pengaduan",
                                    "case_kind": "gaji", "referral": "bp2mi", "status": "terbuka"})
    page = goto(qtbot, win, 3)
    new_and_save(qtbot, win, page, {"business_id": business, "support_type": "pelatihan",
                                    "received_on": "03/11/2026", "provider": "Dinaker Bogor", "amount": "1500000"})
    assert live(db, "business_supports")[0]["amount"] == 1_500_000

    page = goto(qtbot, win, 4)
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    fill(qtbot, page.editor.form, {"held_on": "04/11/2026", "activity_type": "kelompok_belajar",
                                   "topic": "Membaca bersama", "walk_in_children": "3"})
    attendance = page.editor.sections["parenting_attendance"]
    attendance.add_button.setFocus()
    qtbot.keyClick(attendance.add_button, Qt.Key.Key_Space)
    fill(qtbot, attendance.form, {"member_id": child})
    assert attendance.form.editors["role"].value() == "anak"  # a child of PMI attends as a child
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert not page.editor.dirty, page.editor.status.text()

    page = goto(qtbot, win, 5)
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    fill(qtbot, page.editor.form, {"name": "KUB Sejahtera", "group_kind": "kelompok", "legal_status": "belum",
                                   "status": "aktif", "capital": "2000000"})
    members = page.editor.sections["cooperative_members"]
    members.add()
    fill(qtbot, members.form, {"member_id": grandmother, "role": "ketua"})
    supported = page.editor.sections["cooperative_businesses"]
    supported.add()
    fill(qtbot, supported.form, {"business_id": business, "support": "Pemasaran bersama"})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert not page.editor.dirty, page.editor.status.text()

    page = goto(qtbot, win, 6)
    new_and_save(qtbot, win, page, {"held_on": "05/11/2026", "activity_kind": "rapat_koordinasi",
                                    "partners": ["pemdes", "dinaker"], "topic": "Data PMI desa", "attendance": "12"})

    for entity in ("village_profiles", "services", "business_supports", "parenting_activities", "parenting_attendance",
                   "cooperatives", "cooperative_members", "cooperative_businesses", "officer_activities"):
        assert len(live(db, entity)) == 1 and ops(db, entity) == 1, entity
    assert live(db, "parenting_attendance")[0]["member_id"] == child
    assert live(db, "cooperative_members")[0]["member_id"] == grandmother
    assert all(win.pages[e].model.total == 1 for e in win.pages)


def test_open_cases_stay_listed_until_closed(qtbot: Any, programme: ProgrammeWindow, db: Any) -> None:
    win = programme
    page = goto(qtbot, win, 2)
    page.open_only.setFocus()
    qtbot.keyClick(page.open_only, Qt.Key.Key_Space)
    assert page.open_only.isChecked() and "age_days" in page.model.columns
    record_id = new_and_save(qtbot, win, page, {"served_on": "01/10/2026", "walk_in_name": "Tamu Desa",
                                                "walk_in_sex": "L", "service_type": "pengaduan",
                                                "case_kind": "hilang", "status": "ditindaklanjuti"})
    assert page.model.total == 1 and page.model.record_id(0) == record_id
    fill(qtbot, page.editor.form, {"status": "selesai"})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert page.model.total == 0  # closed: no longer an open case
    qtbot.keyClick(page.open_only, Qt.Key.Key_Space)
    assert page.model.total == 1


def test_edit_delete_and_undo_from_the_list(qtbot: Any, programme: ProgrammeWindow, db: Any,
                                            answers: Any) -> None:
    win = programme
    page = goto(qtbot, win, 6)
    record_id = new_and_save(qtbot, win, page, {"held_on": "05/11/2026", "activity_kind": "sosialisasi",
                                                "partners": ["tokoh"], "topic": "Migrasi aman"})
    qtbot.keyClick(win.focusWidget(), Qt.Key.Key_Escape)
    assert not page.editing() and page.table.hasFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert page.editing() and page.editor.record.id == record_id
    fill(qtbot, page.editor.form, {"topic": "Migrasi aman dan lowongan"})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert live(db, "officer_activities")[0]["topic"] == "Migrasi aman dan lowongan"
    qtbot.keyClick(win.focusWidget(), Qt.Key.Key_Escape)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert answers.questions[-1].startswith("Hapus")
    assert live(db, "officer_activities") == [] and page.model.total == 0
    press_ctrl(qtbot, page.table, Qt.Key.Key_Z)
    assert [r["topic"] for r in live(db, "officer_activities")] == ["Migrasi aman dan lowongan"]
    assert page.model.total == 1


def test_refused_input_is_shown_at_its_field_and_nothing_is_saved(qtbot: Any, programme: ProgrammeWindow,
                                                                   db: Any, answers: Any) -> None:
    win = programme
    page = goto(qtbot, win, 6)
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    fill(qtbot, page.editor.form, {"held_on": "31/02/2026", "activity_kind": "sosialisasi"})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    messages = page.editor.form.messages
    assert {k for k, m in messages.items() if m.isVisibleTo(page.editor)} == {"held_on", "partners", "topic"}
    assert messages["topic"].text() == "Wajib diisi."
    assert live(db, "officer_activities") == [] and ops(db, "officer_activities") == 0
    answers.next = [False]  # Esc with unsaved changes: asked; "Kembali mengisi" keeps the form
    qtbot.keyClick(win.focusWidget(), Qt.Key.Key_Escape)
    assert answers.questions[-1].startswith("Perubahan pada") and page.editing() and page.editor.dirty


def test_a_service_needs_a_member_or_a_walk_in(qtbot: Any, programme: ProgrammeWindow, db: Any) -> None:
    win = programme
    page = goto(qtbot, win, 2)
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    fill(qtbot, page.editor.form, {"service_type": "informasi", "status": "selesai"})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert page.editor.form.messages["walk_in_name"].isVisibleTo(page.editor)
    assert live(db, "services") == []


def test_unsaved_form_is_kept_when_the_window_closes_and_shown_again(qtbot: Any, db: Any) -> None:
    first = ProgrammeWindow(db, [VILLAGE], draft_delay_ms=60_000)
    qtbot.addWidget(first)
    show_active(qtbot, first)
    page = goto(qtbot, first, 5)
    press_ctrl(qtbot, first, Qt.Key.Key_N)
    fill(qtbot, page.editor.form, {"name": "Koperasi Belum Simpan"})
    first.close()  # no question: the draft keeps it
    second = ProgrammeWindow(db, [VILLAGE], draft_delay_ms=60_000)
    qtbot.addWidget(second)
    again = second.pages["cooperatives"]
    assert second.current_page() is again and again.editing() and again.editor.dirty
    assert again.editor.form.editors["name"].value() == "Koperasi Belum Simpan"
    assert live(db, "cooperatives") == []
    assert len(prog.programme_drafts(db)) == 1
    assert drafts.load_drafts(db) == []  # not offered among the household forms' drafts
    show_active(qtbot, second)
    fill(qtbot, again.editor.form, {"group_kind": "koperasi", "legal_status": "belum", "status": "aktif"})
    press_ctrl(qtbot, second.focusWidget(), Qt.Key.Key_S)
    assert [r["name"] for r in live(db, "cooperatives")] == ["Koperasi Belum Simpan"]
    assert prog.programme_drafts(db) == []  # saving forgets it



def test_the_main_window_opens_it_with_ctrl_shift_d(qtbot: Any, window: Any) -> None:
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.programme is not None
    qtbot.waitUntil(window.programme.isVisible)


def test_long_lists_are_fetched_page_by_page(qtbot: Any, qtmodeltester: Any, db: Any) -> None:
    from desmig_desktop.domain.ids import new_id
    from desmig_desktop.store.records import Change, apply_changes

    apply_changes(db, [Change("officer_activities", new_id(), {
        "village_code": VILLAGE, "held_on": f"2026-{1 + n % 11:02d}-{1 + n % 28:02d}", "activity_kind": "kunjungan",
        "partners": "pemdes", "topic": f"Kunjungan {n:03d}"}) for n in range(450)])
    win = ProgrammeWindow(db, [VILLAGE], page_size=100)
    qtbot.addWidget(win)
    page = win.show_page("officer_activities")
    assert page.model.total == 450 and page.model.rowCount() == 100 and page.model.pages_fetched == 1
    qtmodeltester.check(page.model, force_py=True)
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.pages_fetched > 1)
    shown = [page.model.data(page.model.index(r, 0)) for r in range(page.model.rowCount())]
    iso = ["-".join(reversed(d.split("/"))) for d in shown]
    assert shown[0] == "28/11/2026" and iso == sorted(iso, reverse=True)  # newest first, across pages
    assert len({page.model.record_id(r) for r in range(page.model.rowCount())}) == page.model.rowCount()
