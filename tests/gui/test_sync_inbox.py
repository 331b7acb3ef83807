"""The rejected side of the conflicts inbox: the server's reason, fix in a form, resend, dismiss, open the household.

Rejections are recorded through the store exactly as a push reply records them (``apply_ack``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gui_helpers import VILLAGE, click, fill
from sync_helpers import FakeSync, add_household, pretend_logged_in

from desmig_desktop.domain.ids import new_id
from desmig_desktop.services import sync_service
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.scheduler import BackoffPolicy
from desmig_desktop.ui.editor import HouseholdEditor
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, install_sync
from desmig_desktop.ui.sync.inbox_model import InboxModel, inbox_rows


@pytest.fixture
def part(window: Any, ctx: Any) -> Iterator[SyncWindowPart]:
    pretend_logged_in(ctx.db)
    quiet = BackoffPolicy(interval_s=3600, after_edit_s=3600)
    controller = SyncController(ctx, run_cycle=FakeSync("ok"), policy=quiet)
    controller.scheduler.succeeded(controller._clock())  # as if just synced: no cycle during the test
    install_sync(window, ctx, controller)
    found = window.findChild(SyncWindowPart)
    assert found is not None and found.controller is controller
    yield found
    controller.stop()


def reject_pending(db: Any, reasons: dict[str, str]) -> None:
    """The server's reply refusing every pending op on an entity (``reasons``: entity → reason)."""
    ops = st.take_batch(db, 100)
    st.apply_ack(db, ops[-1].op_seq, [st.OpOutcome(op.op_seq, "rejected", reason=reasons.get(op.entity, "?"))
                                      for op in ops if op.entity in reasons])


def test_rejected_change_is_fixed_in_a_form_and_resent(part: SyncWindowPart, qtbot: Any, ctx: Any) -> None:
    hid = add_household(ctx.db, VILLAGE, head="Budi Santoso")
    reject_pending(ctx.db, {"households": "head_name: Nama kepala keluarga harus lengkap"})
    part.controller.refresh()
    assert part.indicator.inbox_button.isVisible() and part.indicator.inbox_button.text() == "1 perlu diperiksa"

    inbox = part.open_inbox()
    assert inbox.tabs.currentWidget() is inbox.rejected  # nothing in the conflicts tab: start where the work is
    assert inbox.tabs.tabText(1) == "Ditolak server (1)"
    row = inbox.rejected.model.rows[0]
    assert row.reason == "Nama kepala keluarga: Nama kepala keluarga harus lengkap"  # the key became its label
    assert row.household_id == hid and "Budi Santoso" in row.mine

    dialog = inbox.fix()
    assert dialog is not None and dialog.form is not None
    assert dialog.form.values()["head_name"] == "Budi Santoso"  # the refused values, ready to correct
    assert set(dialog.form.editors) == {"village_code", "head_name", "visited_on", "consent"}  # what was sent
    fill(qtbot, dialog.form, {"head_name": ""})
    assert not dialog.submit()  # a hard error: nothing is sent
    assert dialog.form.messages["head_name"].isVisible()
    assert st.pending_count(ctx.db) == 0
    fill(qtbot, dialog.form, {"head_name": "Budi Santoso Wibowo"})
    with qtbot.waitSignal(inbox.changed):
        click(qtbot, dialog.send_button)
    ops = st.take_batch(ctx.db, 10)
    assert len(ops) == 1 and ops[0].record_id == hid
    assert ops[0].fields["head_name"] == "Budi Santoso Wibowo"
    assert ops[0].fields["village_code"] == VILLAGE  # the whole refused change goes again, not only the fix
    assert [c.status for c in sync_service.list_conflicts(ctx.db, include_closed=True)] == ["resent"]
    assert inbox.tabs.tabText(1) == "Ditolak server (0)" and inbox.rejected.empty.isVisible()
    assert not part.indicator.inbox_button.isVisible()
    assert "1 perubahan belum terkirim" in part.indicator.text.text()
    assert part.controller.save_timer.isActive()  # the resent change goes out once things are quiet
    inbox.close()


def test_rejected_member_opens_its_household_and_can_be_dismissed(part: SyncWindowPart, qtbot: Any, ctx: Any,
                                                                    window: Any, answers: Any) -> None:
    hid, mid = new_id(), new_id()
    save_household(ctx.db, HouseholdGraph(
        {"id": hid, "village_code": VILLAGE, "head_name": "Wati", "visited_on": "2025-03-01", "consent": True},
        [{"id": mid, "name": "Siti Aminah", "sex": "P", "relationship": "anak", "migration_status": "pmi_aktif"}]),
        confirm_warnings=True)
    reject_pending(ctx.db, {"members": "nik: NIK sudah dipakai anggota lain"})
    part.controller.refresh()
    inbox = part.open_inbox()
    row = inbox.rejected.model.rows[0]
    assert row.record == "Anggota rumah tangga: Siti Aminah" and row.household_id == hid
    assert row.household.startswith("Wati — ")
    click(qtbot, inbox.open_rejected_button)
    editor = window.current_editor()
    assert isinstance(editor, HouseholdEditor) and editor.household_id == hid

    answers.next = [False]
    assert not inbox.dismiss()  # the officer changed their mind
    assert len(sync_service.list_conflicts(ctx.db)) == 1
    assert inbox.dismiss()
    assert sync_service.list_conflicts(ctx.db) == []
    assert st.pending_count(ctx.db) == 0  # dismissing sends nothing
    assert "Abaikan perubahan ini?" in answers.questions[-1]
    inbox.close()


def test_inbox_model_is_a_proper_table(qtmodeltester: Any, ctx: Any) -> None:
    add_household(ctx.db, VILLAGE, head="Ani")
    add_household(ctx.db, VILLAGE, head="Ina")
    reject_pending(ctx.db, {"households": "village_code: Desa di luar wilayah tugas"})
    rows = inbox_rows(ctx.db, sync_service.list_conflicts(ctx.db))
    model = InboxModel("rejected")
    model.set_rows(rows)
    assert model.rowCount() == 2 and model.columnCount() == 5
    qtmodeltester.check(model)
    empty = InboxModel("conflict")
    empty.set_rows(rows)  # rejections are not conflicts
    assert empty.rowCount() == 0
    qtmodeltester.check(empty)


def test_the_values_compared_have_room_beside_who_won(part: SyncWindowPart, qtbot: Any, ctx: Any) -> None:
    """"Dimenangkan oleh" sized to its long text ("admin (pusat) — Peran lebih tinggi menang (…)") left
    "Nilai saya" and "Nilai yang berlaku" a few pixels ("088…") in a 1000-pixel inbox: the values the
    officer compares are shown whole, and who won shares the rest (whole in its tooltip)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFontMetrics

    from desmig_desktop.store.sync_lost import LostValue

    hid = add_household(ctx.db, VILLAGE, head="Sri Wahyuni")
    ops = st.take_batch(ctx.db, 10)
    theirs = {"head_name": "Sri Wahyuningsih", "phone": "+85291234567"}
    st.apply_ack(ctx.db, ops[-1].op_seq, [st.OpOutcome(ops[-1].op_seq, "conflict", clashes=tuple(
        (f, False) for f in theirs), lost=tuple(LostValue(server_id=n, field=f, theirs=v, winner_role="admin",
                                                           winner_user="pusat", rule="higher_role")
                                                for n, (f, v) in enumerate(theirs.items(), 1)))])
    part.controller.refresh()
    inbox = part.open_inbox()
    inbox.resize(1000, 520)
    inbox.tabs.setCurrentWidget(inbox.conflicts)
    qtbot.waitExposed(inbox)
    page = inbox.conflicts
    assert page.model.rowCount() == 2 and page.model.rows[0].household_id == hid
    keys = [k for k, _title in page.model.columns]
    metrics = QFontMetrics(page.table.font())
    for row in range(page.model.rowCount()):
        for key in ("mine", "theirs"):
            column = keys.index(key)
            text = page.model.data(page.model.index(row, column))
            assert metrics.horizontalAdvance(text) + 12 <= page.table.columnWidth(column), (key, text)
    won_by = page.model.index(0, keys.index("won_by"))
    assert "pusat" in page.model.data(won_by, Qt.ItemDataRole.ToolTipRole)
    inbox.close()
