"""The DESIGN §4 fault matrix. Every case ends with the whole invariant suite after recovery
(``quiescent=True``), and checks the always-true invariants right after the fault as well."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from desmig_desktop.domain.ops import APP_SCHEMA
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.client import SyncClient, make_retry, make_session
from desmig_desktop.sync.errors import ErrorKind, SyncError
from desmig_desktop.sync.hooks import CRASH_EXIT_CODE, CRASH_POINTS
from tests.faults.proxy import TcpProxy, times
from tests.sync.harness import VILLAGE_1, VILLAGE_2, Device, HqServer, only, skewed_clock
from tests.sync.invariants import InvariantChecker

pytestmark = pytest.mark.e2e


def officers_with_work(server: HqServer, make_device) -> tuple[Device, Device]:
    """ana and budi share village 1; both synced once, then both edited offline: creates, edits
    of the other's records (one field on both sides: a conflict), a delete."""
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(server, "ana"), budi.login(server, "budi")
    h_ana = ana.create_household(VILLAGE_1, members=2)
    gone = ana.create_household(VILLAGE_2)
    h_budi = budi.create_household(VILLAGE_1)
    ana.sync(), budi.sync(), ana.sync()
    ana.edit("households", h_budi, notes="dicek ana")
    ana.edit("households", h_ana, head_name="Nama versi ana")
    ana.delete_household(gone)
    ana.create_household(VILLAGE_1, members=1)
    budi.edit("households", h_ana, head_name="Nama versi budi", hamlet="Dusun Budi")
    budi.create_household(VILLAGE_1, members=3)
    return ana, budi


def settle(checker: InvariantChecker, devices: list[Device], *, restored: bool = False) -> None:
    """Faults over: everyone syncs until nothing moves, then the full suite."""
    for _round in range(2):
        for device in devices:
            device.sync()
    checker.check(devices, quiescent=True, restored=restored)


# -- the server is down, killed, restarted --------------------------------------------------------
def test_server_down(own_hq, make_device, tmp_path):
    checker = InvariantChecker(own_hq.db_path)
    ana, budi = officers_with_work(own_hq, make_device)
    budi.sync()
    own_hq.stop()
    started = time.monotonic()
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.NETWORK and err.value.unreachable and time.monotonic() - started < 5
    done = ana.cli("sync", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["error"] == "network"
    assert len(done.stderr.strip().splitlines()) == 1
    checker.check([ana, budi])
    own_hq.start()
    before = len(ana.adapter.sent)
    assert ana.sync().pending_ops == 0
    # No retry storm once the server is back: hello, one push batch, one pull per village.
    assert len(ana.adapter.sent) - before <= 1 + 1 + 2, ana.adapter.sent[before:]
    settle(checker, [ana, budi])


@pytest.mark.parametrize("delay", [0.0, 0.004, 0.02])
def test_server_killed_mid_push(own_hq, make_device, delay):
    checker = InvariantChecker(own_hq.db_path)
    ana, budi = officers_with_work(own_hq, make_device)
    for _ in range(12):
        ana.create_household(VILLAGE_1, members=2)
    st.put_state(ana.db, st.K_BATCH, 8)

    def kill() -> None:
        time.sleep(delay)
        own_hq.kill()

    proxy = TcpProxy(own_hq.port, _after(2, "/v1/sync/push", kill))  # dies with the third push in flight
    ana.point_at(proxy.url)
    with pytest.raises(SyncError) as err:
        ana.sync()
    assert err.value.kind is ErrorKind.NETWORK and err.value.partial.pushed > 0
    checker.check([ana, budi])
    own_hq.start()
    proxy.close()
    ana.point_at(own_hq.url)
    settle(checker, [ana, budi])


def _after(n: int, suffix: str, action):
    seen = [0]

    def rule(_method: str, path: str):
        if path.endswith(suffix):
            seen[0] += 1
            if seen[0] == n + 1:
                return action
        return None
    return rule


def test_server_restarted_between_and_during_cycles(own_hq, make_device):
    checker = InvariantChecker(own_hq.db_path)
    ana, budi = officers_with_work(own_hq, make_device)
    ana.sync()
    own_hq.restart()
    budi.sync()
    for _ in range(6):
        ana.create_household(VILLAGE_2)
    st.put_state(ana.db, st.K_BATCH, 3)
    restarted = []

    def restart_once(progress) -> None:
        if not restarted:
            restarted.append(progress)
            own_hq.restart()  # graceful stop + start while the cycle is between batches

    report = ana.sync(progress=restart_once)
    assert restarted and report.pending_ops == 0
    checker.check([ana, budi])
    settle(checker, [ana, budi])


# -- lost responses, duplicates, truncation ------------------------------------------------------
def test_response_lost_after_commit_by_the_transport_adapter(hq_server, make_device, checker):
    ana, budi = officers_with_work(hq_server, make_device)
    budi.sync()
    ana.adapter.plan = only("/v1/sync/push", "lose", times=50)
    with pytest.raises(SyncError):
        ana.sync()  # every push answer lost; the pull still ran and its watermark settled the outbox
    assert ana.pending() == 0
    checker.check([ana, budi])
    budi.edit("households", budi.live()[0], notes="diubah budi sesudahnya")
    budi.sync()
    ana.adapter.plan = lambda _r: None
    settle(checker, [ana, budi])


@pytest.mark.parametrize("cuts", [1, 2, 6])
def test_response_lost_after_commit_by_a_tcp_proxy(hq_server, make_device, checker, cuts):
    """1-2 cuts: urllib3's read retries resend the same body, the server skips it as a replay.
    6 cuts: retries run out, the cycle fails, and the next one finishes the job."""
    ana, budi = officers_with_work(hq_server, make_device)
    proxy = TcpProxy(hq_server.port, times("cut", cuts))
    ana.point_at(proxy.url)
    try:
        try:
            report = ana.sync()
            assert cuts < 3 and report.pending_ops == 0
        except SyncError as err:
            assert cuts >= 3 and err.kind is ErrorKind.NETWORK
        assert [a for _m, _p, a in proxy.log].count("cut") == min(cuts, 3 if cuts >= 3 else cuts)
        checker.check([ana, budi])
        settle(checker, [ana, budi])
        assert hq_server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"] == len(ana.made) + len(budi.made)
    finally:
        proxy.close()


def test_truncated_request_through_the_proxy_applies_nothing(hq_server, make_device, checker):
    ana, budi = officers_with_work(hq_server, make_device)
    proxy = TcpProxy(hq_server.port, times("truncate", 1))
    ana.point_at(proxy.url)
    try:
        ana.sync()  # the cut request is retried whole by the transport
        assert ("POST", "/v1/sync/push", "truncate") in proxy.log
        checker.check([ana, budi])
        settle(checker, [ana, budi])
    finally:
        proxy.close()


def test_duplicated_concurrent_pushes_apply_once(hq_server, make_device, checker):
    ana, budi = officers_with_work(hq_server, make_device)
    ops = [op.wire(st.op_seq_base(ana.db)) for op in st.take_batch(ana.db, 100)]
    st.mark_sent(ana.db, st.take_batch(ana.db, 100)[-1].op_seq)
    token, device_id = st.state(ana.db, st.K_TOKEN), st.state(ana.db, st.K_DEVICE_ID)
    replies, errors = [], []

    def push() -> None:
        client = SyncClient(hq_server.url, token, session=make_session(make_retry(0.01)))
        try:
            replies.append(client.push(device_id, 1, ops))
        except SyncError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=push) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and {r.last_op_seq for r in replies} == {ops[-1]["op_seq"]}
    assert len({json.dumps(r.results, sort_keys=True) for r in replies}) == 1  # replays answer the stored results
    checker.check([ana, budi])
    settle(checker, [ana, budi])


# -- the sync process dies ------------------------------------------------------------------------
def test_sync_process_sigkilled_between_server_commit_and_local_ack(hq_server, make_device, checker, tmp_path):
    ana, budi = officers_with_work(hq_server, make_device)
    budi.sync()
    flag = tmp_path / "reached"
    proc = ana.popen("sync", env={"DESMIG_CRASH_AT": "push.response", "DESMIG_CRASH_MODE": "pause",
                                  "DESMIG_CRASH_FLAG": str(flag)})
    deadline = time.monotonic() + 60
    while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert flag.read_text() == "push.response"
    applied_before = hq_server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"]
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    assert applied_before == len(ana.made) + len(budi.made)  # the server had committed the push
    assert ana.pending() > 0  # ... and the laptop never acked it
    checker.check([ana, budi])
    settle(checker, [ana, budi])


@pytest.mark.parametrize("point", [p for p in CRASH_POINTS if p not in ("reenqueue.in_tx", "restore.reconcile.in_tx")])
def test_crash_at_each_named_step(hq_server, make_device, checker, point):
    ana, budi = officers_with_work(hq_server, make_device)
    budi.sync()  # so ana's pull has others' changes to apply over her pending ops
    ana.close()
    done = ana.cli("sync", env={"DESMIG_CRASH_AT": point})
    assert done.returncode == CRASH_EXIT_CODE, done.stderr
    checker.check([ana, budi])
    again = ana.cli("sync", "--json")
    assert again.returncode == 0, again.stderr
    settle(checker, [ana, budi])


# -- the server goes back in time ----------------------------------------------------------------
@pytest.mark.parametrize("crash", [None, "reenqueue.in_tx", "push.ack.in_tx"])
def test_server_restored_from_an_older_backup(own_hq, make_device, tmp_path, crash):
    checker = InvariantChecker(own_hq.db_path)
    ana, budi = officers_with_work(own_hq, make_device)
    ana.sync(), budi.sync()
    own_hq.backup_to(tmp_path / "backup.db")
    ana.create_household(VILLAGE_2, members=2)
    ana.edit("households", ana.live()[0], notes="setelah cadangan")
    budi.create_household(VILLAGE_1)
    ana.sync(), budi.sync(), ana.sync()
    checker.check([ana, budi], quiescent=True)
    own_hq.stop()
    own_hq.restore_from(tmp_path / "backup.db")
    own_hq.start()
    checker.forget_versions()
    if crash:
        done = ana.cli("sync", env={"DESMIG_CRASH_AT": crash})
        assert done.returncode == CRASH_EXIT_CODE, done.stderr
    report = ana.sync()
    assert report.pushed > 0  # the journal refilled the server
    settle(checker, [ana, budi])
    ana.edit("households", ana.live()[0], notes="sesudah pemulihan")
    settle(checker, [ana, budi])  # and from here on versions only go forward again


# -- clocks --------------------------------------------------------------------------------------
def _clock_scenario(server: HqServer, make_device, prefix: str, skew_ana: float, skew_budi: float,
                    monkeypatch) -> dict[str, dict]:
    """The same edits with given laptop clock offsets (days); returns the server's data by id."""
    import desmig_desktop.domain.ids as ids
    import desmig_desktop.store.records as records_mod
    import desmig_desktop.store.sync_pull as pull_mod
    import desmig_desktop.store.sync_store as store_mod

    real_now = ids.utc_now
    clocked = (records_mod, store_mod, pull_mod)  # every module stamping local rows (force_edit writes through records)

    def with_clock(days: float):
        def stamp() -> str:
            return (skewed_clock(days)()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for module in clocked:
            monkeypatch.setattr(module, "utc_now", stamp)

    ana, budi = make_device(f"{prefix}-ana"), make_device(f"{prefix}-budi")
    ana.login(server, "ana"), budi.login(server, "budi")
    h1, h2 = f"{prefix}-h1", f"{prefix}-h2"
    with_clock(skew_ana)
    ana.create_household(VILLAGE_1, hid=h1, members=0)
    ana.create_household(VILLAGE_1, hid=h2, members=0)
    ana.sync(now=skewed_clock(skew_ana))
    with_clock(skew_budi)
    budi.sync(now=skewed_clock(skew_budi))
    # Both records edited on both laptops; ana's clock says her edits are 6 days newer (h1) and
    # budi captured h2 first, but budi's pushes arrive last: arrival order must decide both.
    with_clock(skew_ana)
    ana.edit("households", h1, head_name="ana-1")
    with_clock(skew_budi)
    budi.edit("households", h1, head_name="budi-1")
    budi.edit("households", h2, head_name="budi-2")
    with_clock(skew_ana)
    ana.edit("households", h2, head_name="ana-2")
    reports = [ana.sync(now=skewed_clock(skew_ana))]
    with_clock(skew_budi)
    reports += [budi.sync(now=skewed_clock(skew_budi))]
    with_clock(skew_ana)
    reports += [ana.sync(now=skewed_clock(skew_ana))]
    for module in clocked:
        monkeypatch.setattr(module, "utc_now", real_now)
    if skew_ana or skew_budi:
        assert all(r.warnings for r in reports)
    checker = InvariantChecker(server.db_path)
    settle(checker, [ana, budi])
    return {r["id"]: json.loads(r["data"]) for r in server.query(
        "SELECT id, data FROM records WHERE id IN (?, ?)", (h1, h2))}


def test_device_clocks_three_days_off_change_nothing(hq_server, make_device, monkeypatch):
    skewed = _clock_scenario(hq_server, make_device, "skew", +3, -3, monkeypatch)
    hq_server.reset()
    honest = _clock_scenario(hq_server, make_device, "flat", 0, 0, monkeypatch)
    # Arrival order decides (budi's edits arrive last for both), never the laptops' clocks.
    assert skewed["skew-h1"]["head_name"] == "budi-1" and skewed["skew-h2"]["head_name"] == "budi-2"
    assert [skewed[f"skew-{k}"] for k in ("h1", "h2")] == [honest[f"flat-{k}"] for k in ("h1", "h2")]


def test_server_restored_between_hello_and_push_answers_gap_and_is_refilled(own_hq, make_device, tmp_path):
    """The restore lands after our hello: the push gets 409 ``gap`` and the engine refills from the journal."""
    checker = InvariantChecker(own_hq.db_path)
    ana = make_device("ana")
    ana.login(own_hq, "ana")
    ana.create_household(VILLAGE_1)
    ana.sync()
    own_hq.backup_to(tmp_path / "backup.db")
    ana.create_household(VILLAGE_1, members=2)
    ana.sync()
    ana.create_household(VILLAGE_2)
    own_hq.stop()
    own_hq.restore_from(tmp_path / "backup.db")
    own_hq.start()
    stale = {"server_time": "2026-01-01T00:00:00Z", "min_schema": 1, "max_schema": APP_SCHEMA,
             "last_op_seq": st.last_acked(ana.db) - st.op_seq_base(ana.db), "scopes": [VILLAGE_1, VILLAGE_2]}
    ana.adapter.plan = only("/v1/sync/hello", "reply:200:" + json.dumps(stale))
    report = ana.sync()
    assert ("POST", "/v1/sync/push", None) in ana.adapter.sent and report.pending_ops == 0
    checker.forget_versions()
    settle(checker, [ana])


def test_village_taken_away_turns_pending_work_into_rejections(hq_server, make_device, checker):
    """DESIGN §4: an op outside the officer's villages is rejected per op, never a 403 for the
    whole batch. HQ takes VILLAGE_2 from ana while she has work queued for it: the sync goes
    through, her VILLAGE_1 work is applied, her VILLAGE_2 ops come back as rejections she can fix
    (move the new household to one of her villages) or dismiss; the queue is never stuck."""
    from desmig_desktop.services import sync_service

    ana = make_device("ana")
    ana.login(hq_server, "ana")
    kept = ana.create_household(VILLAGE_2)
    ana.sync()
    ana.edit("households", kept, notes="diubah sebelum desa dipindahkan")
    moved = ana.create_household(VILLAGE_2, members=0)
    ana.create_household(VILLAGE_1)
    with hq_server.connect() as conn:
        conn.execute("DELETE FROM user_scopes WHERE username = 'ana' AND village_code = ?", (VILLAGE_2,))
    report = ana.sync()
    assert ana.pending() == 0 and report.rejected == 2  # the edit and the new household
    rejected = {item.record_id: item for item in sync_service.list_conflicts(ana.db) if item.kind == "rejected"}
    assert set(rejected) == {kept, moved}
    assert all(item.reason == "Di luar desa tugas Anda." for item in rejected.values())
    assert not hq_server.query("SELECT 1 FROM records WHERE id = ?", (moved,))
    sync_service.resend_rejected(ana.db, rejected[moved].id, {"village_code": VILLAGE_1})  # fixed: moved
    sync_service.dismiss(ana.db, rejected[kept].id)  # given up: the server's copy stays
    ana.remember()
    assert ana.sync().rejected == 0 and ana.pending() == 0
    assert [r["scope"] for r in hq_server.query("SELECT scope FROM records WHERE id = ?", (moved,))] == [VILLAGE_1]
    checker.check([ana])


def test_server_restored_while_a_laptop_only_pulled_since_the_backup(own_hq, make_device, tmp_path):
    """budi pushed nothing after the backup, so his watermark cannot reveal the restore; his
    cursor being ahead of the server's newest change in his village must."""
    checker = InvariantChecker(own_hq.db_path)
    ana, budi = officers_with_work(own_hq, make_device)
    ana.sync(), budi.sync(), ana.sync()
    own_hq.backup_to(tmp_path / "backup.db")
    for _ in range(3):
        ana.create_household(VILLAGE_1)
    ana.sync(), budi.sync()  # budi only receives
    own_hq.stop()
    own_hq.restore_from(tmp_path / "backup.db")
    own_hq.start()
    checker.forget_versions()
    pusat = make_device("pusat")  # HQ edits right after the restore: it takes sequence numbers budi has seen
    pusat.login(own_hq, "pusat")
    pusat.sync()
    pusat.edit("households", budi.live()[0], notes="dikoreksi HQ sesudah pemulihan")
    pusat.sync()
    budi.sync()  # before ana refills the server
    settle(checker, [ana, budi, pusat])


# -- the laptop goes back in time (issue 17 §3) ----------------------------------------------------
@pytest.mark.parametrize("laptop", ["same", "new"])
@pytest.mark.parametrize("edits_after_restore", [0, 3, 12])
@pytest.mark.parametrize("token", ["valid", "expired", "revoked"])
def test_laptop_restored_from_an_older_backup(own_hq, make_device, tmp_path, laptop, edits_after_restore, token):
    """A backup taken with unsent changes; the laptop then sent them, made and sent more (some
    edits of the same records), and its database was lost. Restored (on it or on a new laptop),
    the backup's unsent changes must not be applied twice, what reached HQ after the backup must
    come back by pull, and changes made on the restored copy must go out once — never under an
    op number HQ holds with other content (that was ``replay_mismatch`` for ever). The backup's
    token may be dead by then: the officer logs in again, as the same device (its log kept) or,
    when HQ revoked it, as a new one after reading the old one's final watermark."""
    hq_server = own_hq  # (the module's server has had ana's villages changed by an earlier test)
    checker = InvariantChecker(hq_server.db_path)
    ana, budi = officers_with_work(hq_server, make_device)
    ana.sync(), budi.sync()
    first = ana.live()[0]
    ana.edit("households", first, notes="sebelum cadangan")
    pending_home = ana.create_household(VILLAGE_2, members=1)
    ana.backup(tmp_path / "ana.desmig-backup")
    assert ana.pending() > 0  # the backup holds unsent changes
    ana.sync()  # the backup's unsent ops reach HQ (acked ops rebase the later ones on the way)
    ana.edit("households", first, notes="sesudah cadangan")  # a later edit of the same field
    ana.edit("households", pending_home, head_name="Kepala sesudah cadangan")
    for _i in range(4):
        ana.create_household(VILLAGE_1, members=1)
    ana.sync(), budi.sync()
    checker.check([ana, budi], quiescent=True)
    target = ana if laptop == "same" else make_device("ana-new")
    target.restore(tmp_path / "ana.desmig-backup", previous=None if laptop == "same" else ana)
    if laptop == "new":
        ana.close()
    checker.forget_device(target.name)
    checker.check([target, budi])
    made_after = [target.create_household(VILLAGE_1, members=0) for _i in range(edits_after_restore)]
    checker.check([target, budi])
    if token != "valid":
        device_id = st.state(target.db, st.K_DEVICE_ID)
        if token == "revoked":
            hq_server.query("UPDATE devices SET revoked = 1 WHERE device_id = ?", (device_id,))
        with st.immediate(target.db):
            st.put_state(target.db, st.K_TOKEN, "x" * 43)  # no longer known to HQ
        with pytest.raises(SyncError) as err:
            target.sync()
        assert err.value.kind is ErrorKind.AUTH
        target.login(hq_server, "ana")
        assert (st.state(target.db, st.K_DEVICE_ID) == device_id) is (token == "expired")
    target.sync()
    settle(checker, [target, budi])
    notes = hq_server.query("SELECT data FROM records WHERE id = ?", (first,))[0]["data"]
    assert json.loads(notes)["notes"] == "sesudah cadangan"  # the acked later edit was not overwritten
    assert target.row("households", first)["notes"] == "sesudah cadangan"  # and came back by pull
    head = json.loads(hq_server.query("SELECT data FROM records WHERE id = ?", (pending_home,))[0]["data"])["head_name"]
    assert head == "Kepala sesudah cadangan"
    for hid in made_after:
        assert hq_server.query("SELECT 1 FROM records WHERE id = ?", (hid,)), "an edit made after the restore never arrived"
