"""Data an officer actually meets (issue 20 §5–§7), driven by the keyboard: foreign phone numbers,
households that look wrong, "Ambil lokasi" with an injected position source, interview times."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gui_helpers import fill, press_ctrl
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from desmig_desktop.domain.phone import allowed_formats
from desmig_desktop.store.queries import rows
from desmig_desktop.ui import location
from desmig_desktop.ui.location import Fix, LocationBar, PositionSource, QtPositionSource, no_source_message

HOUSEHOLD = {"head_name": "Budi Santoso", "consent": True}
HEAD = {"sex": "L", "birth_date": "12011980", "migration_status": "bukan"}


class FakeSource(PositionSource):
    """Answers the next request, as the location service would, after the event loop turns."""

    def __init__(self, parent: QObject | None, *, fix: Fix | None = None, message: str = "") -> None:
        super().__init__(parent)
        self.fix, self.message, self.requests = fix, message, 0

    def request(self) -> None:
        self.requests += 1
        if self.fix is not None:
            QTimer.singleShot(0, lambda: self.found.emit(self.fix))
        else:
            QTimer.singleShot(0, lambda: self.failed.emit(self.message))


def new_editor(qtbot: Any, window: Any, with_head: bool = True) -> Any:
    editor = window.new_household()
    fill(qtbot, editor.form, HOUSEHOLD)
    if with_head:
        editor.members.members.add_button.setFocus()
        qtbot.keyClick(editor.members.members.add_button, Qt.Key.Key_Space)
        fill(qtbot, editor.members.members.form, HEAD)
    return editor


def issue_texts(editor: Any) -> list[str]:
    return [editor.issues.list.item(i).text() for i in range(editor.issues.list.count())]


def save_by_keyboard(qtbot: Any, editor: Any) -> None:
    press_ctrl(qtbot, editor.form.editors["head_name"].edit, Qt.Key.Key_S)


# -- §5 phone numbers ------------------------------------------------------------------------------
def test_phone_fields_show_the_expected_format(qtbot: Any, window: Any) -> None:
    editor = new_editor(qtbot, window)
    for form in (editor.form, editor.members.members.form):
        edit = form.editors["phone"].edit
        assert "+60" in edit.placeholderText() and "08" in edit.placeholderText()
        assert edit.toolTip() == allowed_formats()


def test_foreign_numbers_typed_in_the_form_are_saved_in_e164(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_editor(qtbot, window)
    fill(qtbot, editor.form, {"phone": "+852 9123 4567"})
    fill(qtbot, editor.members.members.form, {"phone": "+60 12-345 6789"})
    save_by_keyboard(qtbot, editor)
    assert not editor.dirty, issue_texts(editor)
    assert rows(db, "SELECT phone FROM households") == [{"phone": "+85291234567"}]
    assert rows(db, "SELECT phone FROM members") == [{"phone": "+60123456789"}]


@pytest.mark.parametrize("typed, fragment", [
    ("+999 1234567", "Kode negara"),
    ("+852 1234", "Panjang No. HP"),
    ("0812", "No. HP tidak valid"),
    ("60123456789", "No. HP tidak valid"),
])
def test_an_impossible_number_is_refused_with_the_allowed_formats(qtbot: Any, window: Any, db: Any, typed: str,
                                                                  fragment: str) -> None:
    editor = new_editor(qtbot, window)
    fill(qtbot, editor.form, {"phone": typed})
    save_by_keyboard(qtbot, editor)
    assert editor.dirty and rows(db, "SELECT id FROM households") == []
    message = editor.form.messages["phone"]
    assert message.isVisibleTo(editor) and fragment in message.text() and "+60" in message.text()


# -- §6 implausible households ------------------------------------------------------------------------
def test_a_household_without_members_needs_a_confirmation(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_editor(qtbot, window, with_head=False)
    save_by_keyboard(qtbot, editor)
    assert rows(db, "SELECT id FROM households") == []
    assert any("belum punya anggota" in t for t in issue_texts(editor))
    assert editor.issues.list.hasFocus()  # a refused save puts the cursor on the summary (issue 20 §3)
    qtbot.keyClick(editor.issues.list, Qt.Key.Key_Tab)
    assert editor.issues.confirm_button.hasFocus()
    qtbot.keyClick(editor.issues.confirm_button, Qt.Key.Key_Space)  # "Simpan tetap"
    assert not editor.dirty and len(rows(db, "SELECT id FROM households")) == 1


@pytest.mark.parametrize("member, fragment", [
    ({"relationship": "kepala", "birth_date": "01012016"}, "Kepala keluarga berusia"),
    ({"marital_status": "kawin", "birth_date": "01012014"}, "Status perkawinan Kawin tidak masuk akal"),
])
def test_a_young_head_or_a_married_child_is_warned(qtbot: Any, window: Any, db: Any, member: dict[str, str],
                                                   fragment: str) -> None:
    editor = new_editor(qtbot, window)
    fill(qtbot, editor.members.members.form, member)
    save_by_keyboard(qtbot, editor)
    assert rows(db, "SELECT id FROM households") == []
    assert any(fragment in t for t in issue_texts(editor)), issue_texts(editor)
    assert not any("kesalahan" in t for t in [editor.status.text()])  # warnings only: can be confirmed


# -- §7 location --------------------------------------------------------------------------------------
FIX = Fix(-6.5971234567, 106.8060987654, 8.4, "2026-03-01T02:03:04Z")


def test_take_location_by_keyboard_fills_the_point_with_accuracy_and_time(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_editor(qtbot, window)
    made: list[FakeSource] = []
    editor.location.make_source = lambda parent: made.append(FakeSource(parent, fix=FIX)) or made[-1]
    longitude = editor.form.editors["longitude"].edit
    longitude.setFocus()
    qtbot.keyClick(longitude, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is editor.location.button  # Bujur, Tab, "Ambil lokasi"
    with qtbot.waitSignal(editor.location.fix_taken, timeout=5_000):
        qtbot.keyClick(editor.location.button, Qt.Key.Key_Return)
    assert made[0].requests == 1
    assert editor.form.editors["latitude"].edit.text() == "-6.597123"
    assert editor.form.editors["longitude"].edit.text() == "106.806099"
    assert "±8 m" in editor.location.status.text() and editor.dirty
    assert QApplication.focusWidget() is editor.location.button  # the officer goes on from where they were
    qtbot.keyClick(editor.location.button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is editor.form.editors["visited_on"].focus_widget
    save_by_keyboard(qtbot, editor)
    assert not editor.dirty, issue_texts(editor)
    stored = rows(db, "SELECT latitude, longitude, location_accuracy_m, location_at FROM households")[0]
    assert stored == {"latitude": -6.597123, "longitude": 106.806099, "location_accuracy_m": 8.4,
                      "location_at": "2026-03-01T02:03:04Z"}
    op = rows(db, "SELECT fields FROM sync_outbox WHERE entity = 'households'")[0]
    assert json.loads(op["fields"])["location_at"] == "2026-03-01T02:03:04Z"


def test_typing_coordinates_after_a_fix_drops_its_accuracy_and_time(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_editor(qtbot, window)
    editor.location.make_source = lambda parent: FakeSource(parent, fix=FIX)
    with qtbot.waitSignal(editor.location.fix_taken, timeout=5_000):
        editor.location.button.setFocus()
        qtbot.keyClick(editor.location.button, Qt.Key.Key_Space)
    fill(qtbot, editor.form, {"latitude": "-6.6"})
    assert editor.location.status.text() == ""
    save_by_keyboard(qtbot, editor)
    assert rows(db, "SELECT latitude, longitude, location_accuracy_m, location_at FROM households") == [
        {"latitude": -6.6, "longitude": 106.806099, "location_accuracy_m": None, "location_at": None}]


def test_without_a_location_service_the_officer_is_told_and_nothing_changes(qtbot: Any, window: Any) -> None:
    editor = new_editor(qtbot, window)
    fill(qtbot, editor.form, {"latitude": "-6.5", "longitude": "106.8"})
    editor.location.make_source = lambda parent: FakeSource(parent, message=no_source_message())
    editor.location.button.setFocus()
    qtbot.keyClick(editor.location.button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not editor.location.busy)
    assert editor.location.status.text() == no_source_message() and "Ketik lintang dan bujur" in no_source_message()
    assert (editor.form.editors["latitude"].value(), editor.form.editors["longitude"].value()) == ("-6.5", "106.8")
    assert editor.records.household.get("location_at") is None


def test_the_qt_source_says_so_when_the_laptop_has_no_location_service(qtbot: Any, monkeypatch: Any) -> None:
    from PySide6.QtPositioning import QGeoPositionInfoSource

    monkeypatch.setattr(QGeoPositionInfoSource, "createDefaultSource", staticmethod(lambda *args: None))
    bar = LocationBar()
    qtbot.addWidget(bar)
    assert bar.make_source is QtPositionSource
    bar.button.setFocus()
    qtbot.keyClick(bar.button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not bar.busy)
    assert bar.status.text() == no_source_message()


def test_location_errors_have_bahasa_messages() -> None:
    from PySide6.QtPositioning import QGeoPositionInfoSource as Source

    kinds = Source.Error
    assert "ditolak" in location.error_message(kinds.AccessError, kinds)
    assert "30 detik" in location.error_message(kinds.UpdateTimeoutError, kinds)
    assert location.error_message(kinds.UnknownSourceError, kinds) == no_source_message()


def test_a_point_far_from_the_villages_province_is_a_warning(qtbot: Any, window: Any, db: Any) -> None:
    editor = new_editor(qtbot, window)  # a village in Kabupaten Bogor, Jawa Barat
    fill(qtbot, editor.form, {"latitude": "3.5952", "longitude": "98.6722"})  # Medan
    save_by_keyboard(qtbot, editor)
    assert rows(db, "SELECT id FROM households") == []
    assert any("di luar provinsi desa ini" in t for t in issue_texts(editor)), issue_texts(editor)
    assert editor.issues.confirm_button.isVisibleTo(editor)  # a warning: the officer may confirm


# -- §7 interview times -------------------------------------------------------------------------------
def test_interview_start_and_end_are_recorded_invisibly(qtbot: Any, window: Any, db: Any) -> None:
    editor = window.new_household()
    assert "interview_started_at" not in editor.form.editors and "location_at" not in editor.form.editors
    assert editor.records.household.get("interview_started_at") is None  # opening is not interviewing
    fill(qtbot, editor.form, HOUSEHOLD)
    started = editor.records.household["interview_started_at"]
    assert started.endswith("Z") and len(started) == 20
    qtbot.keyClick(editor.members.members.add_button, Qt.Key.Key_Space)
    fill(qtbot, editor.members.members.form, HEAD)
    save_by_keyboard(qtbot, editor)
    assert not editor.dirty, issue_texts(editor)
    [stored] = rows(db, "SELECT interview_started_at, interview_ended_at FROM households")
    assert stored["interview_started_at"] == started and stored["interview_ended_at"] >= started
    ops_before = rows(db, "SELECT count(*) AS n FROM sync_outbox")[0]["n"]
    fill(qtbot, editor.form, {"address": "Jl. Kenanga 9"})  # a correction later: the interview stays as it was
    save_by_keyboard(qtbot, editor)
    assert rows(db, "SELECT interview_started_at, interview_ended_at FROM households") == [stored]
    last = rows(db, "SELECT fields FROM sync_outbox ORDER BY op_seq DESC LIMIT 1")[0]
    assert json.loads(last["fields"]) == {"address": "Jl. Kenanga 9"}
    assert rows(db, "SELECT count(*) AS n FROM sync_outbox")[0]["n"] == ops_before + 1


# -- §14 who made a pulled change -----------------------------------------------------------------------
@pytest.mark.parametrize("by, who", [("pusat", "pusat (dari server)"), (None, "(tanpa nama) (dari server)")])
def test_a_change_pulled_from_hq_shows_who_made_it_in_the_history_tab(qtbot: Any, window: Any, db: Any,
                                                                      by: str | None, who: str) -> None:
    from desmig_desktop.domain.fields import HOUSEHOLDS
    from desmig_desktop.domain.wire import PulledRecord as ServerRecord
    from desmig_desktop.store import records, sync_store
    from desmig_desktop.store.sync_pull import apply_pull

    editor = new_editor(qtbot, window)
    save_by_keyboard(qtbot, editor)
    assert not editor.dirty, issue_texts(editor)
    stored = records.get(db, "households", editor.household_id)
    data = {k: stored[k] for k in HOUSEHOLDS.keys if stored.get(k) is not None}
    # HQ corrected the hamlet (an older server sends no "by": the history says so)
    apply_pull(db, stored["village_code"], [ServerRecord("households", editor.household_id,
                                                         {**data, "hamlet": "Dusun Krajan"}, 7, False, 7, by=by)],
               7, sync_store.last_acked(db))
    tabs = editor.pages.tabBar()
    tabs.setFocus()
    qtbot.keyClick(tabs, Qt.Key.Key_Right)  # Formulir → Riwayat
    assert editor.pages.currentWidget() is editor.history
    picker = editor.history.picker  # it shows the member last worked on; the household is the first entry
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Home)
    assert editor.history.current_record() == ("households", editor.household_id)
    model = editor.history.model
    newest = model.row(0)
    assert (newest.field, newest.new, newest.who) == ("Dusun", "Dusun Krajan", who)
    assert model.row(model.rowCount() - 1).who == "Siti Petugas"  # the officer's own save


def test_alt_l_takes_the_location_from_anywhere_in_the_form(qtbot: Any, window: Any) -> None:
    editor = new_editor(qtbot, window)
    editor.location.make_source = lambda parent: FakeSource(parent, fix=FIX)
    head = editor.form.editors["head_name"].edit
    head.setFocus()
    with qtbot.waitSignal(editor.location.fix_taken, timeout=5_000):
        qtbot.keyClick(head, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)  # the button's mnemonic
    assert editor.form.editors["latitude"].edit.text() == "-6.597123"
