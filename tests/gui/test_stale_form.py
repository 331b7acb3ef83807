"""A form left open while a sync pulls a correction of its household (issue 13 §1b), against a real
``desmig-hq serve`` on 127.0.0.1: typing a note and pressing Ctrl+S must not send the form's stale
values back — HQ and the laptop keep the correction and the note.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from gui_helpers import VILLAGE, click, press_ctrl, restore_all_drafts, show_active
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame
from sync_helpers import WAIT_MS

from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.wire import PulledRecord as ServerRecord
from desmig_desktop.services import drafts, sync_service
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store import records
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.sync_pull import apply_pull
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, install_sync
from tests.sync.fixtures import hq_module, hq_server, hq_template, make_device  # noqa: F401
from tests.sync.harness import PASSWORD, VILLAGE_1, VILLAGE_2, HqServer

pytestmark = pytest.mark.e2e
NOTE = "Dikunjungi ulang, KK baru"


@pytest.fixture
def part(window: Any, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncWindowPart]:
    monkeypatch.setenv("DESMIG_SYNC_RETRY_BACKOFF", "0.02")
    install_sync(window, ctx, SyncController(ctx))
    found = window.findChild(SyncWindowPart)
    assert found is not None
    yield found
    found.controller.stop()


def sync_and_wait(qtbot: Any, controller: SyncController) -> Any:
    """Sync now and wait for the cycle's outcome."""
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS) as done:
        assert controller.sync_now()
    outcome = done.args[0]
    assert outcome.ok, outcome.error or outcome.unexpected
    return outcome.report


def back_to(qtbot: Any, window: Any, ctx: Any) -> None:
    """Back to the main window once the sync's progress dialog is gone (shortcuts need the active window)."""
    qtbot.waitUntil(lambda: ctx.tasks.dialog is None, timeout=WAIT_MS)
    show_active(qtbot, window)


def hq_data(hq_server: HqServer, hid: str) -> dict[str, Any]:
    return dict(json.loads(hq_server.query("SELECT data FROM records WHERE id = ?", (hid,))[0]["data"]))


HEAD = {"name": "Sri Wahyuni", "sex": "P", "relationship": "kepala", "migration_status": "bukan"}


def logged_in_with_household(qtbot: Any, part: SyncWindowPart, ctx: Any, hq_server: HqServer, make_device: Any
                             ) -> tuple[str, Any]:
    """Ana's laptop (this window) with one synced household at RW 003, and HQ's device that saw it."""
    sync_service.login(ctx.db, hq_server.url, "ana", PASSWORD, "laptop-ana")
    controller = part.controller
    controller.on_logged_in(sync_service.LoginResult(hq_server.url, "ana", "", "laptop-ana", (VILLAGE_1, VILLAGE_2)))
    qtbot.waitUntil(lambda: not controller.running, timeout=WAIT_MS)
    hid = new_id()
    save_household(ctx.db, HouseholdGraph({"id": hid, "village_code": VILLAGE_1, "head_name": "Sri Wahyuni",
                                           "visited_on": "2025-03-01", "consent": True, "rt": "002", "rw": "003"},
                                          [HEAD]), confirm_warnings=True)
    sync_and_wait(qtbot, controller)
    pusat = make_device("pusat")
    pusat.login(hq_server, "pusat")
    pusat.engine().pull_all([VILLAGE_1])
    return hid, pusat


def test_open_form_keeps_the_correction_a_sync_pulled(part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any,
                                                      hq_server: HqServer, make_device: Any) -> None:
    hid, pusat = logged_in_with_household(qtbot, part, ctx, hq_server, make_device)
    loaded_version = records.get(ctx.db, "households", hid)["server_version"]
    assert loaded_version > 0
    editor = window.open_household(hid)
    assert editor.form.editors["rw"].value() == "003"

    pusat.edit("households", hid, rw="011")  # HQ corrects the RW while Ana's form stays open
    pusat.sync()
    sync_and_wait(qtbot, part.controller)
    assert records.get(ctx.db, "households", hid)["rw"] == "011"  # pulled
    assert editor.form.editors["rw"].value() == "003"  # the open form still shows what it loaded
    back_to(qtbot, window, ctx)

    notes = editor.form.editors["notes"].edit
    notes.setFocus()
    qtbot.keyClicks(notes, NOTE)
    press_ctrl(qtbot, notes, Qt.Key.Key_S)
    assert not editor.dirty, [editor.issues.list.item(i).text() for i in range(editor.issues.list.count())]

    ops = st.take_batch(ctx.db, 10)
    assert [(op.record_id, op.fields, op.base_version) for op in ops] == [(hid, {"notes": NOTE}, loaded_version)]
    stored = records.get(ctx.db, "households", hid)
    assert (stored["rw"], stored["notes"]) == ("011", NOTE)  # the laptop keeps the correction too
    assert editor.form.editors["rw"].value() == "011"  # the form shows the stored record after the save

    report = sync_and_wait(qtbot, part.controller)
    assert report.conflicts == 0  # different fields: merged, nothing lost
    data = hq_data(hq_server, hid)
    assert (data["rw"], data["notes"]) == ("011", NOTE)
    assert (records.get(ctx.db, "households", hid)["rw"], records.get(ctx.db, "households", hid)["notes"]) \
        == ("011", NOTE)


def test_same_field_changed_in_the_open_form_and_by_hq_is_a_conflict(
        part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any, hq_server: HqServer, make_device: Any) -> None:
    """Both changed RW: the server sees it (HQ's role wins) and keeps Ana's value as the losing one."""
    hid, pusat = logged_in_with_household(qtbot, part, ctx, hq_server, make_device)
    editor = window.open_household(hid)
    pusat.edit("households", hid, rw="011")
    pusat.sync()
    sync_and_wait(qtbot, part.controller)
    back_to(qtbot, window, ctx)

    rw = editor.form.editors["rw"].edit
    rw.setFocus()
    rw.selectAll()
    qtbot.keyClicks(rw, "005")
    press_ctrl(qtbot, rw, Qt.Key.Key_S)
    assert not editor.dirty
    report = sync_and_wait(qtbot, part.controller)
    assert report.conflicts == 1
    assert hq_data(hq_server, hid)["rw"] == "011"
    lost = hq_server.query("SELECT field, losing_value, winning_value FROM conflicts WHERE record_id = ?", (hid,))
    assert [(r["field"], json.loads(r["losing_value"]), json.loads(r["winning_value"])) for r in lost] \
        == [("rw", "005", "011")]


def test_reload_untouched_fields_takes_the_correction_and_keeps_the_edit(
        part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any, hq_server: HqServer, make_device: Any) -> None:
    hid, pusat = logged_in_with_household(qtbot, part, ctx, hq_server, make_device)
    editor = window.open_household(hid)
    notes = editor.form.editors["notes"].edit
    notes.setFocus()
    qtbot.keyClicks(notes, NOTE)
    pusat.edit("households", hid, rw="011")
    pusat.sync()
    sync_and_wait(qtbot, part.controller)
    assert editor.underneath.isVisible()  # the form says the household changed underneath it
    back_to(qtbot, window, ctx)
    click(qtbot, editor.underneath.button)
    assert not editor.underneath.isVisible()
    assert editor.form.editors["rw"].value() == "011" and editor.form.editors["notes"].value() == NOTE
    assert editor.dirty


# -- without a server: a pull applied to the store directly -------------------------------------------
def synced(db: Any, version: int = 5) -> str:
    """A household this laptop pulled from HQ at ``version`` (nothing pending), with its head."""
    hid = new_id()
    pulled(db, hid, {}, version)
    apply_pull(db, VILLAGE, [ServerRecord("members", new_id(), {**HEAD, "household_id": hid}, version, False,
                                          version)], version, st.last_acked(db))
    return hid


def pulled(db: Any, hid: str, change: dict[str, Any], version: int) -> None:
    data = {"village_code": VILLAGE, "head_name": "Sri Wahyuni", "visited_on": "2025-03-01", "consent": True,
            "rt": "002", "rw": "003", **change}
    apply_pull(db, VILLAGE, [ServerRecord("households", hid, data, version, False, version)], version,
               st.last_acked(db))


def restart_with_drafts(qtbot: Any, ctx: Any, old: Any) -> Any:
    old.close()  # keeps the open forms as drafts
    again = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(again)
    show_active(qtbot, again)
    assert restore_all_drafts(qtbot, again) == 1
    return again


@pytest.mark.parametrize("old_layout", [False, True], ids=["draft", "draft-from-before"])
def test_a_draft_restored_days_later_sends_only_its_edits_on_the_version_it_loaded(
        qtbot: Any, ctx: Any, window: Any, old_layout: bool) -> None:
    hid = synced(ctx.db)
    editor = window.open_household(hid)
    notes = editor.form.editors["notes"].edit
    notes.setFocus()
    qtbot.keyClicks(notes, NOTE)
    if old_layout:  # a draft written before drafts kept the loaded copy
        data = editor.snapshot()
        del data["loaded"]
        drafts.save_draft(ctx.db, hid, data)
        editor.dirty = False
    window.close()  # the form is kept as a draft
    pulled(ctx.db, hid, {"rw": "011"}, 6)  # days later a sync (run from the CLI) brought HQ's correction
    again = restart_with_drafts(qtbot, ctx, window)
    restored = again.current_editor()
    assert restored.form.editors["rw"].value() == "003"
    notice = restored.findChild(QFrame, "changed_underneath")
    told = notice is not None and notice.isVisible()
    press_ctrl(qtbot, restored.form.editors["notes"].edit, Qt.Key.Key_S)
    assert not restored.dirty
    [op] = st.take_batch(ctx.db, 10)
    if old_layout:  # it cannot tell its edits from stale values: all go, on the old version (a conflict at HQ)
        assert (op.fields, op.base_version) == ({"rw": "003", "notes": NOTE}, 5)
    else:
        assert (op.fields, op.base_version) == ({"notes": NOTE}, 5)
        assert records.get(ctx.db, "households", hid)["rw"] == "011"
    assert told is not old_layout  # the restored form said the household changed (an old draft cannot tell)


def test_ctrl_z_after_a_pull_undoes_only_the_save(qtbot: Any, window: Any, ctx: Any, answers: Any) -> None:
    hid = synced(ctx.db)
    editor = window.open_household(hid)
    notes = editor.form.editors["notes"].edit
    notes.setFocus()
    qtbot.keyClicks(notes, NOTE)
    press_ctrl(qtbot, notes, Qt.Key.Key_S)
    assert not editor.dirty
    pulled(ctx.db, hid, {"rw": "011", "notes": NOTE}, 6)  # our save went out; HQ corrected RW
    window.on_data_changed()
    press_ctrl(qtbot, window.list_page, Qt.Key.Key_Z)  # the window's undo shortcut
    stored = records.get(ctx.db, "households", hid)
    assert (stored["rw"], stored["notes"]) == ("011", None)
    undo_op = st.take_batch(ctx.db, 10)[-1]
    assert (undo_op.fields, undo_op.base_version) == ({"notes": None}, 5)
