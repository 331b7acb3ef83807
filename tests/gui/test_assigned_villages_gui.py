"""The editor offers and accepts only the officer's villages (issue 13 §5).

The ``db`` fixture's setup wizard chose ``VILLAGE``; once the device is registered, the server's
scopes (``sync_state``) replace that choice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gui_helpers import OTHER_VILLAGE, VILLAGE, click, fill, press_ctrl
from PySide6.QtCore import Qt
from sync_helpers import FakeSync, add_household, pretend_logged_in

from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services import sync_service
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store import settings
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.queries import entity_counts
from desmig_desktop.sync.scheduler import BackoffPolicy
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, install_sync
from desmig_desktop.ui.sync.inbox_model import readable_reason

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
                                       "visited_on": "2025-03-01", "consent": True},
                                      [{"name": "Budi", "sex": "L", "relationship": "kepala",
                                        "migration_status": "bukan"}]), confirm_warnings=True)
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


@pytest.fixture
def part(window: Any, ctx: Any) -> Iterator[SyncWindowPart]:
    pretend_logged_in(ctx.db)
    quiet = BackoffPolicy(interval_s=3600, after_edit_s=3600)
    controller = SyncController(ctx, run_cycle=FakeSync("ok"), policy=quiet)
    controller.scheduler.succeeded(controller._clock())  # as if just synced: no cycle during the test
    install_sync(window, ctx, controller)
    found = window.findChild(SyncWindowPart)
    assert found is not None
    yield found
    controller.stop()


def test_an_op_rejected_as_outside_is_moved_to_an_own_village_from_the_inbox(part: SyncWindowPart, qtbot: Any,
                                                                              ctx: Any) -> None:
    """HQ took SECOND away while a new household there was queued: the server rejected it per
    op; the inbox shows why, and its fix form offers only the officer's villages."""
    settings.put(ctx.db, "villages", [VILLAGE, SECOND])
    hid = add_household(ctx.db, SECOND)
    settings.put(ctx.db, "villages", [VILLAGE])  # the assignment the server now gives
    ops = st.take_batch(ctx.db, 10)
    st.apply_ack(ctx.db, ops[-1].op_seq, [st.OpOutcome(ops[0].op_seq, "rejected", reason="Di luar desa tugas Anda.")])
    part.controller.refresh()
    inbox = part.open_inbox()
    row = inbox.rejected.model.rows[0]
    assert row.reason == "Di luar desa tugas Anda." and row.item.record_id == hid
    dialog = inbox.fix()
    assert dialog is not None and dialog.form is not None
    picker = dialog.form.editors["village_code"].picker
    assert picker.code() == SECOND  # the refused value, shown as sent
    picker.set_code(None)
    assert [r.code for r in picker.levels[0].filter("")] == ["32"]
    assert not dialog.submit()  # no village chosen: nothing is sent
    fill(qtbot, dialog.form, {"village_code": VILLAGE})
    with qtbot.waitSignal(inbox.changed):
        click(qtbot, dialog.send_button)
    [op] = st.take_batch(ctx.db, 10)
    assert (op.record_id, op.fields["village_code"]) == (hid, VILLAGE)
    assert [c.status for c in sync_service.list_conflicts(ctx.db, include_closed=True)] == ["resent"]
    inbox.close()


def test_server_reasons_are_shown_in_the_officers_language() -> None:
    set_language("en")
    try:
        assert readable_reason("households", "Di luar desa tugas Anda.") == "Outside your assigned villages."
        assert readable_reason("households", "village_code: Kode desa tidak ada dalam daftar wilayah Kemendagri.; "
                                             "Ada isian yang tidak dikenal.") == (
            "Village: The village code is not in the Kemendagri region list.; Unknown fields.")
        assert readable_reason("households", "something new") == "something new"
    finally:
        set_language("id")
