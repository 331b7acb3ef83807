"""The sync cycle against a real ``desmig-hq serve`` process: push, pull, merge, conflicts,
rejections, rebase, lost acks, batches, identity. Every test ends with the invariant suite."""

from __future__ import annotations

import gzip
import json

import pytest

from desmig_desktop.services import sync_service
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.engine import Progress
from desmig_desktop.sync.errors import ErrorKind, SyncError
from tests.sync.harness import VILLAGE_1, VILLAGE_2, FaultAdapter, only, skewed_clock

pytestmark = pytest.mark.e2e


def test_first_sync_sends_everything_and_converges(hq_server, make_device, checker):
    ana = make_device("ana")
    ids = [ana.create_household(VILLAGE_1, members=2), ana.create_household(VILLAGE_2)]
    ana.login(hq_server, "ana")
    report = ana.sync()
    assert report.pushed == 5 and report.pending_ops == 0 and report.rejected == 0
    assert {r["id"] for r in hq_server.query("SELECT id FROM records WHERE entity = 'households'")} == set(ids)
    assert st.state(ana.db, st.K_LAST_SUCCESS) is not None
    assert sync_service.sync_status(ana.db).last_success == st.state(ana.db, st.K_LAST_SUCCESS)
    checker.check([ana], quiescent=True)


def test_two_officers_of_one_village_converge(hq_server, make_device, checker):
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    mine = ana.create_household(VILLAGE_1, members=2)
    ana.create_household(VILLAGE_2)  # budi must never receive this one
    theirs = budi.create_household(VILLAGE_1)
    for device in (ana, budi, ana):
        device.sync()
    assert budi.row("households", mine) is not None and ana.row("households", theirs) is not None
    assert budi.db.execute("SELECT count(*) FROM households WHERE village_code = ?", [VILLAGE_2]).fetchone()[0] == 0
    checker.check([ana, budi], quiescent=True)


def test_disjoint_field_edits_merge_silently(hq_server, make_device, checker):
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(), budi.sync()
    ana.edit("households", hid, hamlet="Dusun Krajan")
    budi.edit("households", hid, notes="Rumah dekat masjid")
    ana.sync(), budi.sync(), ana.sync()
    for device in (ana, budi):
        row = device.row("households", hid)
        assert (row["hamlet"], row["notes"]) == ("Dusun Krajan", "Rumah dekat masjid")
    assert sync_service.list_conflicts(ana.db) == [] and sync_service.list_conflicts(budi.db) == []
    checker.check([ana, budi], quiescent=True)


def test_same_field_conflict_later_arrival_wins_and_loser_sees_it(hq_server, make_device, checker):
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(), budi.sync()
    budi.edit("households", hid, head_name="Versi Budi")
    ana.edit("households", hid, head_name="Versi Ana")
    budi.sync()
    report = ana.sync()  # arrives later: wins (same role)
    budi.sync()
    assert budi.row("households", hid)["head_name"] == "Versi Ana"
    assert report.conflicts == 0
    losing = hq_server.query("SELECT * FROM conflicts")
    assert [(c["field"], json.loads(c["losing_value"])) for c in losing] == [("head_name", "Versi Budi")]
    checker.check([ana, budi], quiescent=True)


def test_conflict_lost_by_the_pusher_lands_in_its_inbox_and_keep_mine_resends(hq_server, make_device, checker):
    ana, pusat = make_device("ana"), make_device("pusat")
    ana.login(hq_server, "ana"), pusat.login(hq_server, "pusat")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(), pusat.sync()
    pusat.edit("households", hid, head_name="Ejaan HQ")
    ana.edit("households", hid, head_name="Ejaan Petugas")
    pusat.sync()
    report = ana.sync()  # later, but HQ outranks an officer: ana loses
    assert report.conflicts == 1
    [item] = sync_service.list_conflicts(ana.db)
    assert (item.kind, item.field, item.mine, item.theirs) == ("conflict", "head_name", "Ejaan Petugas", "Ejaan HQ")
    assert ana.row("households", hid)["head_name"] == "Ejaan HQ"
    pusat.sync()
    checker.check([ana, pusat], quiescent=True)
    sync_service.keep_mine(ana.db, item.id)  # a new edit on top of the winner: it applies
    ana.remember()
    ana.sync(), pusat.sync()
    assert pusat.row("households", hid)["head_name"] == "Ejaan Petugas"
    assert sync_service.list_conflicts(ana.db) == []
    checker.check([ana, pusat], quiescent=True)


def test_delete_racing_an_edit_is_a_conflict_not_a_silent_win(hq_server, make_device, checker):
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(), budi.sync()
    budi.edit("households", hid, notes="masih tinggal di sini")
    ana.delete_household(hid)
    budi.sync()
    report = ana.sync()
    assert report.conflicts >= 1
    rows = [i for i in sync_service.list_conflicts(ana.db) if i.record_id == hid]
    assert rows and rows[0].field == "*" and rows[0].mine == {"deleted": True}
    assert ana.row("households", hid)["deleted"] == 0  # the edit stood; ana's copy follows the server
    budi.sync()
    checker.check([ana, budi], quiescent=True)


def test_rejected_record_is_reported_kept_and_resent_after_a_fix(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    hid = ana.create_household(VILLAGE_1)
    ana.sync()
    ana.edit("households", hid, visited_on="2999-01-01")  # the store does not validate; the server does
    report = ana.sync()
    assert report.rejected == 1 and report.attention is ErrorKind.REJECTED
    [item] = sync_service.list_conflicts(ana.db)
    assert item.kind == "rejected" and "visited_on" in (item.reason or "")
    assert sync_service.sync_status(ana.db).open_rejections == 1
    checker.check([ana], quiescent=True)  # the server's copy came back: converged
    sync_service.resend_rejected(ana.db, item.id, {"visited_on": "2025-04-02"})
    ana.remember()
    assert ana.sync().rejected == 0
    assert json.loads(hq_server.query("SELECT data FROM records WHERE id = ?", (hid,))[0]["data"])["visited_on"] == "2025-04-02"
    checker.check([ana], quiescent=True)


def test_ack_rebases_only_never_sent_ops(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    hid = ana.create_household(VILLAGE_1, members=0)
    for note in ("satu", "dua", "tiga"):
        ana.edit("households", hid, notes=note)
    st.put_state(ana.db, st.K_BATCH, 1)
    # batch 1: the create. Batch 2 (the first edit, still 1 op) leaves before batch 1's reply is
    # applied (pipelined), so it keeps base 0. That ack then grows batches to 2 and rebases the
    # two edits not sent yet; they leave together as batch 3, after which batch 2's ack (applied
    # while batch 3 is in flight) must not touch them: a sent op's hash is fixed.
    ana.engine().push_all()
    journal = {op.op_seq: op for op in st.journal_ops(ana.db)}
    create, first, second, third = sorted(journal)
    created = ana.db.execute("SELECT version FROM sync_journal WHERE op_seq = ?", [create]).fetchone()[0]
    assert created > 0
    assert [journal[s].base_version for s in (create, first, second, third)] == [0, 0, created, created]
    assert hq_server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"] == 4  # each sent once
    checker.check([ana])


def test_lost_push_answer_is_healed_by_the_pull_watermark(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1)
    ana.adapter.plan = only("/v1/sync/push", "lose", times=10)
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.NETWORK
    assert ana.pending() == 0  # the server committed; the pull's watermark dropped the ops
    assert {op.op_seq for op in st.journal_ops(ana.db)} == set(ana.made)
    checker.check([ana])
    ana.adapter.plan = lambda _r: None
    ana.sync()
    checker.check([ana], quiescent=True)


def test_duplicated_and_truncated_requests_change_nothing(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1, members=2)
    ana.adapter.plan = only("/v1/sync/push", "duplicate")
    ana.sync()
    ana.create_household(VILLAGE_2)
    ana.adapter.plan = only("/v1/sync/push", "truncate")
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.SERVER and err.value.status == 400
    ana.adapter.plan = lambda _r: None
    ana.sync()
    assert hq_server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"] == len(ana.made)
    checker.check([ana], quiescent=True)


def test_push_bodies_are_gzip_json_and_batches_halve_on_413_and_timeouts(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    for _ in range(3):
        ana.create_household(VILLAGE_1, members=3)  # 12 ops
    bodies = []
    inner = FaultAdapter.send

    def spy(self, request, *args, **kwargs):
        if request.path_url.startswith("/v1/sync/push"):
            assert request.headers["Content-Encoding"] == "gzip"
            bodies.append(json.loads(gzip.decompress(request.body)))
        return inner(self, request, *args, **kwargs)

    ana.adapter.send = spy.__get__(ana.adapter)
    plans = iter(["reply:413:{\"error\": \"body_too_large\"}", "timeout", None])
    ana.adapter.plan = lambda r: next(plans, None) if r.path_url.startswith("/v1/sync/push") else None
    ana.sync()
    sizes = [len(b["ops"]) for b in bodies]
    assert sizes[0] == 12 and sizes[1] == 6 and sizes[2] == 3, sizes
    assert all(b["device_id"] == st.state(ana.db, st.K_DEVICE_ID) for b in bodies)
    checker.check([ana], quiescent=True)


def test_progress_in_records_and_cancel_stops_at_a_safe_point(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    for _ in range(4):
        ana.create_household(VILLAGE_1, members=1)
    st.put_state(ana.db, st.K_BATCH, 2)
    seen: list[Progress] = []
    report = ana.sync(progress=seen.append, cancel=lambda: len(seen) >= 2)
    # Cancel stops taking batches; the one already in flight (pipelined) is finished and acked.
    # Batch 2 leaves before batch 1's ack grows the size, so sizes are 2, 2, 3.
    assert report.cancelled and report.pending_ops == 1
    assert [(p.phase, p.done, p.total) for p in seen] == [("push", 2, 8), ("push", 4, 8), ("push", 7, 8)]
    assert st.state(ana.db, st.K_LAST_SUCCESS) is None
    checker.check([ana])
    ana.sync()
    checker.check([ana], quiescent=True)


def test_error_kinds_for_the_gui(hq_server, make_device):
    ana = make_device("ana")
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.AUTH  # never logged in
    ana.login(hq_server, "ana")
    for status, kind in ((401, ErrorKind.AUTH), (426, ErrorKind.TOO_OLD), (503, ErrorKind.SERVER)):
        ana.adapter.plan = only("/v1/sync/hello", f"reply:{status}")
        with pytest.raises(SyncError) as err:
            ana.sync()
        assert err.value.kind is kind and err.value.kind.message()
        assert sync_service.sync_status(ana.db).last_error_kind is kind
    ana.adapter.plan = only("/v1/sync/hello", "down")
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.NETWORK
    ana.adapter.plan = only("/v1/sync/hello", 'reply:200:{"server_time": "x", "min_schema": 99, "max_schema": 99,'
                                              ' "last_op_seq": 0, "scopes": []}')
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.TOO_OLD
    with pytest.raises(SyncError) as err:
        sync_service.login(ana.db, hq_server.url, "ana", "salah-sandi", session=ana.session)
    assert err.value.kind is ErrorKind.AUTH and err.value.status == 401


def test_clock_offset_warns_but_orders_nothing(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1)
    report = ana.sync(now=skewed_clock(3))
    assert report.clock_offset_s is not None and report.clock_offset_s < -3 * 86400 + 120
    assert report.warnings and report.pending_ops == 0
    checker.check([ana], quiescent=True)


def test_new_login_restarts_numbering_and_pending_ops_go_out(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1)
    ana.sync()
    hid = ana.create_household(VILLAGE_1)
    ana.lose_token(hq_server, "revoked")  # (a login while the device lives carries on as that device)
    ana.login(hq_server, "ana")  # after the token was revoked: a new device, its log starts at 0
    base = st.op_seq_base(ana.db)
    assert base == min(op.op_seq for op in st.take_batch(ana.db, 100)) - 1
    ana.sync()
    assert hq_server.query("SELECT count(*) AS n FROM records WHERE id = ?", (hid,))[0]["n"] == 1
    assert len(st.state(ana.db, st.K_REGISTRATIONS)) == 2
    checker.check([ana], quiescent=True)


def test_a_cloned_laptop_is_refused(hq_server, make_device, checker, tmp_path):
    import shutil

    ana = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1)
    ana.sync()
    ana.close()
    shutil.copytree(ana.root, tmp_path / "clone")
    clone = make_device("clone")
    clone.made = dict(ana.made)
    clone.create_household(VILLAGE_1, head="Dibuat di salinan")
    ana.create_household(VILLAGE_1, head="Dibuat di asli")
    ana.sync()
    with pytest.raises(SyncError) as err:
        clone.sync()
    assert err.value.kind is ErrorKind.AUTH and err.value.code == "device_mismatch"
    checker.check([ana], quiescent=True)
    # The way out: log in again as a new device; its pending op then goes out once.
    clone.foreign_devices = {st.state(ana.db, st.K_DEVICE_ID)}
    clone.login(hq_server, "ana")
    clone.sync()
    ana.sync()
    checker.check([ana, clone], quiescent=True)


def test_logout_revokes_the_token_and_a_new_login_carries_pending_work(hq_server, make_device, checker):
    ana = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1)
    ana.sync()
    old = st.state(ana.db, st.K_DEVICE_ID)
    ana.create_household(VILLAGE_1)
    sync_service.logout(ana.db, session=ana.session)
    assert not sync_service.sync_status(ana.db).logged_in
    assert hq_server.query("SELECT revoked FROM devices WHERE device_id = ?", (old,))[0]["revoked"]
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.AUTH
    ana.login(hq_server, "ana")
    assert ana.sync().pending_ops == 0
    checker.check([ana], quiescent=True)


def test_token_is_rotated_before_it_expires_and_a_lost_rotation_is_harmless(tmp_path, hq_template, make_device):
    import shutil

    from tests.sync.harness import HqServer
    from tests.sync.invariants import InvariantChecker

    shutil.copy(hq_template, tmp_path / "hq.db")
    server = HqServer(tmp_path / "hq.db", tmp_path / "serve.log", env={"DESMIG_HQ_TOKEN_TTL_DAYS": "10"}).start()
    try:
        ana = make_device("ana")
        ana.login(server, "ana")
        first = st.state(ana.db, st.K_TOKEN)
        assert st.state(ana.db, st.K_TOKEN_EXPIRES)
        ana.create_household(VILLAGE_1)
        ana.adapter.plan = only("/v1/devices/rotate", "lose")  # the new token never arrives ...
        ana.sync()
        assert st.state(ana.db, st.K_TOKEN) == first  # ... so the old one is kept, and still works
        ana.sync()  # 10 days < 30: rotated now
        rotated = st.state(ana.db, st.K_TOKEN)
        assert rotated != first
        ana.create_household(VILLAGE_1)
        assert ana.sync().pending_ops == 0  # the new token works
        InvariantChecker(server.db_path).check([ana], quiescent=True)
    finally:
        server.stop()
