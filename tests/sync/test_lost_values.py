"""Issue 13 §6: every value of an officer that lost a conflict reaches the officer's inbox — with
the winning value, who won and why — and ``desmig status --json`` counts it.

However the value lost: on arrival (the officer's op came later than HQ's), on arrival with the
push answer lost (replayed by the transport, or acknowledged by the pull's watermark without
its result), or later (the officer's op was applied first, then HQ's concurrent edit with an
older base overwrote it). Each against a real ``desmig-hq serve`` process; each ends with the
whole invariant suite, whose ``conflict-unseen`` check is the device side of "every losing value
is in conflicts".
"""

from __future__ import annotations

import json

import pytest

from desmig_desktop.services import sync_service
from desmig_desktop.sync.errors import SyncError
from tests.faults.proxy import TcpProxy, times
from tests.sync.harness import VILLAGE_1, Device, HqServer, only

pytestmark = pytest.mark.e2e


def _ana_and_hq(hq_server: HqServer, make_device) -> tuple[Device, Device, str]:
    ana, pusat = make_device("ana"), make_device("pusat")
    ana.login(hq_server, "ana"), pusat.login(hq_server, "pusat")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(), pusat.sync()
    return ana, pusat, hid


def _assert_lost_to_hq(ana: Device, hid: str) -> None:
    """ana's inbox holds exactly the lost head_name: hers, HQ's, who won and why; status counts it."""
    [item] = sync_service.list_conflicts(ana.db)
    assert (item.kind, item.record_id, item.field) == ("conflict", hid, "head_name")
    assert (item.mine, item.theirs) == ("Ejaan Petugas", "Ejaan HQ")
    assert item.winner == "HQ (pusat)"
    assert item.why == "Peran lebih tinggi menang (HQ > supervisor > petugas)"
    assert ana.row("households", hid)["head_name"] == "Ejaan HQ"  # the winner, locally too
    status = ana.cli("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["open_conflicts"] == 1


def test_officer_edit_arriving_after_hq_loses_and_is_in_the_inbox(hq_server, make_device, checker):
    ana, pusat, hid = _ana_and_hq(hq_server, make_device)
    pusat.edit("households", hid, head_name="Ejaan HQ")
    ana.edit("households", hid, head_name="Ejaan Petugas")
    pusat.sync()
    assert ana.sync().conflicts == 1
    _assert_lost_to_hq(ana, hid)
    pusat.sync()
    checker.check([ana, pusat], quiescent=True)


@pytest.mark.parametrize("cuts", [1, 3], ids=["replayed-by-transport", "replayed-next-cycle"])
def test_lost_push_answer_replayed_through_the_proxy_keeps_the_detail(hq_server, make_device, checker, cuts):
    """The answer is cut after the server committed. One cut: urllib3 resends the same body and
    the server answers the replay from ``applied_ops``. Three: the cycle gives up (its pull goes
    through the proxy too, and is cut), the next one replays the batch."""
    ana, pusat, hid = _ana_and_hq(hq_server, make_device)
    pusat.edit("households", hid, head_name="Ejaan HQ")
    ana.edit("households", hid, head_name="Ejaan Petugas")
    pusat.sync()
    pushes, pulls = times("cut", cuts), times("cut", cuts, path_suffix="/v1/sync/changes")  # (the pull)
    proxy = TcpProxy(hq_server.port, lambda method, path: pushes(method, path) or pulls(method, path))
    ana.point_at(proxy.url)
    try:
        try:
            ana.sync()
        except SyncError:
            assert cuts > 1
            ana.sync()
        assert ("POST", "/v1/sync/push", "cut") in proxy.log
        assert [p for _m, p, _a in proxy.log].count("/v1/sync/push") >= 2  # sent again: a replay
    finally:
        proxy.close()
    ana.point_at(hq_server.url)
    _assert_lost_to_hq(ana, hid)
    pusat.sync()
    checker.check([ana, pusat], quiescent=True)


def test_lost_push_answer_settled_by_the_pull_watermark_keeps_the_detail(hq_server, make_device, checker):
    """Every push answer lost: the cycle's pull acknowledges the op by its watermark, without a
    result; the lost-values feed brings the conflict in the same cycle."""
    ana, pusat, hid = _ana_and_hq(hq_server, make_device)
    pusat.edit("households", hid, head_name="Ejaan HQ")
    ana.edit("households", hid, head_name="Ejaan Petugas")
    pusat.sync()
    ana.adapter.plan = only("/v1/sync/push", "lose", times=50)
    with pytest.raises(SyncError):
        ana.sync()
    assert ana.pending() == 0  # acknowledged by the pull's watermark, never by an answer
    ana.adapter.plan = lambda _r: None
    _assert_lost_to_hq(ana, hid)
    pusat.sync(), ana.sync()
    checker.check([ana, pusat], quiescent=True)


def test_officer_value_applied_first_then_overwritten_by_hq_is_in_the_inbox(hq_server, make_device, checker):
    ana, pusat, hid = _ana_and_hq(hq_server, make_device)
    ana.edit("households", hid, head_name="Ejaan Petugas")
    pusat.edit("households", hid, head_name="Ejaan HQ")  # based on the version before ana's edit
    assert ana.sync().conflicts == 0  # applied: nothing lost yet
    assert pusat.sync().conflicts == 0  # HQ's value wins over ana's (higher role): ana's loses now
    assert [c["loser_user"] for c in hq_server.query("SELECT loser_user FROM conflicts")] == ["ana"]
    ana.sync()
    _assert_lost_to_hq(ana, hid)
    checker.check([ana, pusat], quiescent=True)
    before = len(ana.adapter.sent)
    ana.sync()  # nothing new: no second copy of the conflict, and no feed call
    assert len(sync_service.list_conflicts(ana.db)) == 1
    assert not any(p.endswith("/v1/sync/conflicts") for _m, p, _a in ana.adapter.sent[before:])


def test_same_role_later_arrival_and_delete_edit_say_why(hq_server, make_device, checker):
    """budi's value lost to ana's later edit (same role); ana's delete lost to budi's edit."""
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hid = ana.create_household(VILLAGE_1)
    other = ana.create_household(VILLAGE_1)
    ana.sync(), budi.sync()
    budi.edit("households", hid, head_name="Versi Budi")
    ana.edit("households", hid, head_name="Versi Ana")
    budi.edit("households", other, notes="masih tinggal di sini")
    ana.delete_household(other)
    budi.sync(), ana.sync(), budi.sync()
    [lost_by_budi] = sync_service.list_conflicts(budi.db)
    assert (lost_by_budi.field, lost_by_budi.mine, lost_by_budi.theirs) == ("head_name", "Versi Budi", "Versi Ana")
    assert lost_by_budi.winner == "Petugas (ana)"
    assert lost_by_budi.why == "Peran sama: perubahan yang tiba belakangan di server menang"
    lost_by_ana = [i for i in sync_service.list_conflicts(ana.db) if i.record_id == other]
    assert [(i.field, i.mine, i.theirs, i.winner) for i in lost_by_ana] == [
        ("*", {"deleted": True}, {"deleted": False}, "Petugas (budi)")]
    assert lost_by_ana[0].why.startswith("Penghapusan dan perubahan bersamaan")
    ana.sync()
    checker.check([ana, budi], quiescent=True)

