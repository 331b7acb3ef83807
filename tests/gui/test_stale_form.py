"""A form left open while a sync pulls a correction of its household (issue 13 §1b), against a real
``desmig-hq serve`` on 127.0.0.1: typing a note and pressing Ctrl+S must not send the form's stale
values back — HQ and the laptop keep the correction and the note.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from PySide6.QtCore import Qt

from desmig_desktop.services import sync_service
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.domain.ids import new_id
from desmig_desktop.store import records
from desmig_desktop.store import sync_store as st
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, extend_window
from tests.sync.fixtures import hq, hq_module, hq_template, make_device  # noqa: F401
from tests.sync.harness import PASSWORD, VILLAGE_1, VILLAGE_2, HqServer

from gui_helpers import click, press_ctrl, show_active
from sync_helpers import WAIT_MS

pytestmark = pytest.mark.e2e
NOTE = "Dikunjungi ulang, KK baru"


@pytest.fixture
def part(window: Any, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncWindowPart]:
    monkeypatch.setenv("DESMIG_SYNC_RETRY_BACKOFF", "0.02")
    extend_window(window, ctx)
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


def hq_data(hq: HqServer, hid: str) -> dict[str, Any]:
    return dict(json.loads(hq.query("SELECT data FROM records WHERE id = ?", (hid,))[0]["data"]))


def logged_in_with_household(qtbot: Any, part: SyncWindowPart, ctx: Any, hq: HqServer, make_device: Any
                             ) -> tuple[str, Any]:
    """Ana's laptop (this window) with one synced household at RW 003, and HQ's device that saw it."""
    sync_service.login(ctx.db, hq.url, "ana", PASSWORD, "laptop-ana")
    controller = part.controller
    controller.on_logged_in(sync_service.LoginResult(hq.url, "ana", "", "laptop-ana", (VILLAGE_1, VILLAGE_2)))
    qtbot.waitUntil(lambda: not controller.running, timeout=WAIT_MS)
    hid = new_id()
    save_household(ctx.db, HouseholdGraph({"id": hid, "village_code": VILLAGE_1, "head_name": "Sri Wahyuni",
                                           "visited_on": "2025-03-01", "consent": True, "rt": "002", "rw": "003"}),
                   confirm_warnings=True)
    sync_and_wait(qtbot, controller)
    pusat = make_device("pusat")
    pusat.login(hq, "pusat")
    pusat.engine().pull_all([VILLAGE_1])
    return hid, pusat


def test_open_form_keeps_the_correction_a_sync_pulled(part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any,
                                                      hq: HqServer, make_device: Any) -> None:
    hid, pusat = logged_in_with_household(qtbot, part, ctx, hq, make_device)
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
    data = hq_data(hq, hid)
    assert (data["rw"], data["notes"]) == ("011", NOTE)
    assert (records.get(ctx.db, "households", hid)["rw"], records.get(ctx.db, "households", hid)["notes"]) \
        == ("011", NOTE)


def test_same_field_changed_in_the_open_form_and_by_hq_is_a_conflict(
        part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any, hq: HqServer, make_device: Any) -> None:
    """Both changed RW: the server sees it (HQ's role wins) and keeps Ana's value as the losing one."""
    hid, pusat = logged_in_with_household(qtbot, part, ctx, hq, make_device)
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
    assert hq_data(hq, hid)["rw"] == "011"
    lost = hq.query("SELECT field, losing_value, winning_value FROM conflicts WHERE record_id = ?", (hid,))
    assert [(r["field"], json.loads(r["losing_value"]), json.loads(r["winning_value"])) for r in lost] \
        == [("rw", "005", "011")]


def test_reload_untouched_fields_takes_the_correction_and_keeps_the_edit(
        part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any, hq: HqServer, make_device: Any) -> None:
    hid, pusat = logged_in_with_household(qtbot, part, ctx, hq, make_device)
    editor = window.open_household(hid)
    notes = editor.form.editors["notes"].edit
    notes.setFocus()
    qtbot.keyClicks(notes, NOTE)
    pusat.edit("households", hid, rw="011")
    pusat.sync()
    sync_and_wait(qtbot, part.controller)
    assert editor.underneath.isVisible()  # the form says the household changed underneath it
    back_to(qtbot, window, ctx)
    click(qtbot, editor.reload_untouched_button)
    assert not editor.underneath.isVisible()
    assert editor.form.editors["rw"].value() == "011" and editor.form.editors["notes"].value() == NOTE
    assert editor.dirty
