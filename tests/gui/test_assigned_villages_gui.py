"""The editor offers and accepts only the officer's villages (issue 13 §5).

The ``db`` fixture's setup wizard chose ``VILLAGE``; once the device is registered, the server's
scopes (``sync_state``) replace that choice.
"""

from __future__ import annotations

from typing import Any

from gui_helpers import OTHER_VILLAGE, VILLAGE, fill, press_ctrl
from PySide6.QtCore import Qt

from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.queries import entity_counts

SECOND = "32.01.05.2002"  # same district as VILLAGE
VALID = {"head_name": "Budi Santoso", "consent": True}


def _type(qtbot: Any, edit: Any, text: str) -> list[str]:
    edit.setFocus()
    qtbot.keyClicks(edit, text)
    return [r.name for r in edit.model.regions()]


def test_the_village_picker_lists_only_the_officers_villages(qtbot: Any, window: Any) -> None:
    editor = window.new_household()
    picker = editor.form.editors["village_code"].picker
    assert picker.code() == VILLAGE  # a new household starts in the officer's village
    picker.set_code(None)
    province, regency, district, village = picker.levels
    assert _type(qtbot, province, "jawa") == ["Jawa Barat"]  # Jawa Tengah/Timur left out
    qtbot.keyClick(province.completer_.popup(), Qt.Key.Key_Return)
    assert province.region is not None and province.region.code == "32"
    assert [r.code for r in province.filter("")] == ["32"]  # not the 38 provinces
    assert [r.code for r in regency.filter("")] == ["32.01"]
    regency.set_region(regency.model.region(0))
    assert [r.code for r in district.filter("")] == ["32.01.05"]
    district.set_region(district.model.region(0))
    assert [r.code for r in village.filter("")] == [VILLAGE]


def test_a_typed_code_of_another_village_is_not_taken(qtbot: Any, window: Any) -> None:
    editor = window.new_household()
    picker = editor.form.editors["village_code"].picker
    picker.set_code(None)
    picker.levels[0].setFocus()
    qtbot.keyClicks(picker.levels[0], OTHER_VILLAGE)
    assert picker.code() is None
    picker.levels[0].clear()
    qtbot.keyClicks(picker.levels[0], VILLAGE)
    assert picker.code() == VILLAGE


def test_registered_device_follows_the_servers_villages(qtbot: Any, window: Any, db: Any) -> None:
    st.put_state(db, st.K_DEVICE_ID, "dev-1")
    st.put_state(db, st.K_ROLE, "officer")
    st.put_state(db, st.K_SCOPES, [SECOND])
    editor = window.new_household()
    village = editor.form.editors["village_code"].picker.levels[3]
    editor.form.editors["village_code"].picker.set_code(SECOND)
    assert [r.code for r in village.filter("")] == [SECOND]  # the wizard's VILLAGE no longer offered


def test_saving_a_household_of_another_village_shows_why(qtbot: Any, window: Any, db: Any) -> None:
    """A household this laptop holds in a village the officer no longer has (HQ took it away):
    the editor shows it, and refuses to save it there, in the officer's language."""
    st.put_state(db, st.K_DEVICE_ID, "dev-1")
    st.put_state(db, st.K_ROLE, "officer")
    st.put_state(db, st.K_SCOPES, [OTHER_VILLAGE])
    save_household(db, HouseholdGraph({"id": "h-away", "village_code": OTHER_VILLAGE, "head_name": "Budi",
                                       "visited_on": "2025-03-01", "consent": True}, []), confirm_warnings=True)
    st.put_state(db, st.K_SCOPES, [VILLAGE])
    editor = window.open_household("h-away")
    assert editor.form.editors["village_code"].picker.code() == OTHER_VILLAGE  # shown as stored
    fill(qtbot, editor.form, {"notes": "kunjungan ulang"})
    press_ctrl(qtbot, editor.form.editors["notes"].focus_widget, Qt.Key.Key_S)
    message = editor.form.messages["village_code"]
    assert message.isVisibleTo(editor) and "Di luar desa tugas Anda." in message.text()
    fill(qtbot, editor.form, {"village_code": VILLAGE})  # moved into one of the officer's villages
    press_ctrl(qtbot, editor.form.editors["notes"].focus_widget, Qt.Key.Key_S)
    assert not editor.dirty and entity_counts(db)["households"] == 1
