"""The sync GUI against a real ``desmig-hq serve`` on 127.0.0.1: login dialog, "Sync now", a real conflict.

The server process (one per module, wiped per test) and the second laptop come from the sync
test harness (``tests/sync``), so these tests start HQ exactly as the end-to-end tests do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from gui_helpers import click
from PySide6.QtCore import Qt
from sync_helpers import WAIT_MS, add_household

from desmig_desktop.services import sync_service
from desmig_desktop.store import records, settings
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.records import Change
from desmig_desktop.ui.sync.controller import Phase, SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, install_sync
from tests.sync.fixtures import hq_module, hq_server, hq_template, make_device  # noqa: F401
from tests.sync.harness import PASSWORD, VILLAGE_1, VILLAGE_2, HqServer, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def part(window: Any, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncWindowPart]:
    """The test window with the sync part, as the app builds it (real ``sync_service.run_cycle``)."""
    monkeypatch.setenv("DESMIG_SYNC_RETRY_BACKOFF", "0.02")  # transport retries: milliseconds, not seconds
    install_sync(window, ctx, SyncController(ctx))
    found = window.findChild(SyncWindowPart)
    assert found is not None
    yield found
    found.controller.stop()


def log_in_with_dialog(qtbot: Any, part: SyncWindowPart, url: str, user: str, password: str) -> Any:
    dialog = part.open_login("")
    dialog.server.setText(url)
    dialog.username.setText(user)
    dialog.password.setText(password)
    click(qtbot, dialog.login_button)
    return dialog


def sync_and_wait(qtbot: Any, controller: SyncController) -> Any:
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS) as done:
        assert controller.sync_now()
    outcome = done.args[0]
    assert outcome.ok, outcome.error or outcome.unexpected
    return outcome.report


def test_login_makes_villages_follow_the_server(part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any,
                                                hq_server: HqServer) -> None:
    assert settings.get(ctx.db, "villages") == ["32.01.05.2001"]  # chosen in the first-run wizard
    controller = part.controller
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):  # a first sync follows the login
        dialog = log_in_with_dialog(qtbot, part, hq_server.url, "ana", PASSWORD)
        assert not dialog.login_button.isEnabled() and dialog.message.text() == "Menghubungi server…"
    assert part.login_dialog is None  # closed (and deleted) after the login
    assert settings.get(ctx.db, "villages") == [VILLAGE_1, VILLAGE_2]
    combo = window.list_page.village
    assert [combo.itemData(i) for i in range(1, 3)] == [VILLAGE_1, VILLAGE_2]  # the list filter followed
    assert combo.currentIndex() == 0 and window.list_page.current_filter().villages == (VILLAGE_1, VILLAGE_2)
    assert controller.view().phase is Phase.SYNCED
    assert hq_server.query("SELECT count(*) AS n FROM devices")[0]["n"] == 1


def test_login_wrong_password_says_so(part: SyncWindowPart, qtbot: Any, hq_server: HqServer) -> None:
    dialog = log_in_with_dialog(qtbot, part, hq_server.url, "ana", "salah-sandi")
    qtbot.waitUntil(lambda: dialog.login_button.isEnabled(), timeout=WAIT_MS)
    assert dialog.isVisible()
    assert dialog.message.text() == "Nama pengguna atau kata sandi salah."
    assert dialog.password.hasSelectedText() or dialog.password.hasFocus()
    assert part.controller.view().phase is Phase.LOGGED_OUT
    dialog.reject()


def test_login_with_server_down_says_so(part: SyncWindowPart, qtbot: Any) -> None:
    dialog = log_in_with_dialog(qtbot, part, f"http://127.0.0.1:{free_port()}", "ana", PASSWORD)
    qtbot.waitUntil(lambda: dialog.login_button.isEnabled(), timeout=WAIT_MS)
    assert dialog.isVisible()
    assert dialog.message.text().startswith("Tidak bisa terhubung ke server.")
    assert part.controller.view().phase is Phase.LOGGED_OUT
    dialog.reject()


def test_sync_now_sends_records_to_hq(part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any,
                                      hq_server: HqServer) -> None:
    sync_service.login(ctx.db, hq_server.url, "ana", PASSWORD, "laptop-ana")
    controller = part.controller
    controller.on_logged_in(sync_service.LoginResult(hq_server.url, "ana", "", "laptop-ana", (VILLAGE_1, VILLAGE_2)))
    qtbot.waitUntil(lambda: not controller.running, timeout=WAIT_MS)  # the first sync after login: empty
    hid = add_household(ctx.db, VILLAGE_1, head="Sri Wahyuni")
    window.on_data_changed()
    assert "1 perubahan belum terkirim" in part.indicator.text.text()
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS) as done:
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert done.args[0].ok and done.args[0].report.pushed == 1
    rows = hq_server.query("SELECT data, scope FROM records WHERE entity = 'households' AND id = ?", (hid,))
    assert len(rows) == 1 and rows[0]["scope"] == VILLAGE_1
    assert json.loads(rows[0]["data"])["head_name"] == "Sri Wahyuni"
    assert st.pending_count(ctx.db) == 0
    assert part.indicator.text.text().startswith("Tersinkron pukul ")
    assert "belum terkirim" not in part.indicator.text.text()


def test_conflicts_inbox_keep_mine_and_accept(part: SyncWindowPart, qtbot: Any, window: Any, ctx: Any,
                                              hq_server: HqServer, make_device: Any) -> None:
    """Ana (this window) and HQ edit the same two fields; HQ's role wins both. Ana keeps one, accepts one."""
    sync_service.login(ctx.db, hq_server.url, "ana", PASSWORD, "laptop-ana")
    controller = part.controller
    controller.on_logged_in(sync_service.LoginResult(hq_server.url, "ana", "", "laptop-ana", (VILLAGE_1, VILLAGE_2)))
    qtbot.waitUntil(lambda: not controller.running, timeout=WAIT_MS)
    hid = add_household(ctx.db, VILLAGE_1, head="Sri Wahyuni")
    sync_and_wait(qtbot, controller)

    pusat = make_device("pusat")
    pusat.login(hq_server, "pusat")
    pusat.engine().pull_all([VILLAGE_1])
    pusat.edit("households", hid, head_name="Sri Wahyuningsih", address="Jl. Kenanga 5")
    pusat.sync()

    records.apply_changes(ctx.db, [Change("households", hid, {"head_name": "Sri W.", "address": "Jl. Mawar 1"})])
    report = sync_and_wait(qtbot, controller)
    assert report.conflicts == 2
    assert part.indicator.inbox_button.isVisible() and part.indicator.inbox_button.text() == "2 perlu diperiksa"
    assert records.get(ctx.db, "households", hid)["head_name"] == "Sri Wahyuningsih"  # the winner, locally too

    inbox = part.open_inbox()
    table = inbox.conflicts.table
    model = inbox.conflicts.model
    assert inbox.tabs.tabText(0) == "Konflik (2)"
    cells = {model.rows[r].field: (model.rows[r].mine, model.rows[r].theirs) for r in range(model.rowCount())}
    assert cells == {"Nama kepala keluarga": ("Sri W.", "Sri Wahyuningsih"),
                     "Alamat": ("Jl. Mawar 1", "Jl. Kenanga 5")}
    assert model.rows[0].household.startswith("Sri Wahyuningsih — ")

    head_row = next(r for r in range(model.rowCount()) if model.rows[r].field == "Nama kepala keluarga")
    table.selectRow(head_row)
    pending_before = st.pending_count(ctx.db)
    click(qtbot, inbox.keep_button)
    assert st.pending_count(ctx.db) == pending_before + 1
    op = st.take_batch(ctx.db, 10)[-1]
    assert op.record_id == hid and op.fields == {"head_name": "Sri W."}
    assert records.get(ctx.db, "households", hid)["head_name"] == "Sri W."

    assert model.rowCount() == 1 and model.rows[0].field == "Alamat"
    table.selectRow(0)
    click(qtbot, inbox.accept_button)
    assert st.pending_count(ctx.db) == pending_before + 1  # accepting writes nothing to send
    assert sync_service.list_conflicts(ctx.db) == []
    closed = {c.field: c.status for c in sync_service.list_conflicts(ctx.db, include_closed=True)}
    assert closed == {"head_name": "kept_mine", "address": "accepted"}
    assert not inbox.conflicts.table.isVisible() and inbox.conflicts.empty.isVisible()
    assert not part.indicator.inbox_button.isVisible()

    sync_and_wait(qtbot, controller)  # "keep mine" is an ordinary edit: it now wins at HQ
    data = json.loads(hq_server.query("SELECT data FROM records WHERE id = ?", (hid,))[0]["data"])
    assert (data["head_name"], data["address"]) == ("Sri W.", "Jl. Kenanga 5")
    inbox.close()


def test_value_overwritten_later_by_hq_shows_in_the_inbox_with_who_won_and_why(
        part: SyncWindowPart, qtbot: Any, ctx: Any, hq_server: HqServer, make_device: Any) -> None:
    """Ana's correction reached HQ first (no conflict then); HQ's concurrent edit, based on the
    version before it, overwrote it by role. Her next sync explains what happened to her value."""
    sync_service.login(ctx.db, hq_server.url, "ana", PASSWORD, "laptop-ana")
    controller = part.controller
    controller.on_logged_in(sync_service.LoginResult(hq_server.url, "ana", "", "laptop-ana", (VILLAGE_1, VILLAGE_2)))
    qtbot.waitUntil(lambda: not controller.running, timeout=WAIT_MS)
    hid = add_household(ctx.db, VILLAGE_1, head="Sri Wahyuni")
    sync_and_wait(qtbot, controller)
    pusat = make_device("pusat")
    pusat.login(hq_server, "pusat")
    pusat.engine().pull_all([VILLAGE_1])
    pusat.edit("households", hid, rw="011")

    records.apply_changes(ctx.db, [Change("households", hid, {"rw": "003"})])
    assert sync_and_wait(qtbot, controller).conflicts == 0  # applied: nothing lost yet
    pusat.sync()  # HQ's edit arrives later and wins by role: ana's 003 lost now
    assert sync_and_wait(qtbot, controller).conflicts == 1
    assert records.get(ctx.db, "households", hid)["rw"] == "011"
    assert part.indicator.inbox_button.isVisible() and part.indicator.inbox_button.text() == "1 perlu diperiksa"

    inbox = part.open_inbox()
    model = inbox.conflicts.model
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert "Dimenangkan oleh" in headers
    [row] = model.rows
    assert (row.field, row.mine, row.theirs) == ("RW", "003", "011")
    assert row.won_by == "HQ (pusat) — Peran lebih tinggi menang (HQ > supervisor > petugas)"
    column = headers.index("Dimenangkan oleh")
    assert model.data(model.index(0, column)) == row.won_by
    inbox.close()


def test_logout_revokes_the_token_at_hq(part: SyncWindowPart, qtbot: Any, ctx: Any, hq_server: HqServer) -> None:
    controller = part.controller
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        log_in_with_dialog(qtbot, part, hq_server.url, "ana", PASSWORD)
    with qtbot.waitSignal(controller.changed, timeout=WAIT_MS,
                          check_params_cb=lambda: controller.view().phase is Phase.LOGGED_OUT):
        assert part.logout()
    assert [r["revoked"] for r in hq_server.query("SELECT revoked FROM devices")] == [1]
    assert part.indicator.text.text() == "Belum masuk ke server"
