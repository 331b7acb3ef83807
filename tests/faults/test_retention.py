"""Retention end to end: pruned ``applied_ops`` at HQ and a pruned ``sync_journal`` on the laptop
keep exactly-once and restore recovery correct — a replay older than the window gets a clear
answer and is never applied twice; a restore older than the journal stops with a clear error
before anything changes, a restore inside it refills the server."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from desmig_desktop.store import journal_retention as jr
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.errors import SyncError
from desmig_server.db.engine import Database
from desmig_server.settings import DAY, Settings
from desmig_server.sync.retention import prune
from tests.sync.harness import VILLAGE_1, Device, HqServer
from tests.sync.invariants import InvariantChecker

pytestmark = pytest.mark.e2e


def _prune_hq(server: HqServer, days_later: float) -> int:
    db = Database(server.db_url)
    try:
        return prune(db, Settings(), now=time.time() + days_later * DAY).applied_ops
    finally:
        db.dispose()


def test_a_replay_after_hq_pruned_its_result_is_acknowledged_once(hq_server: HqServer, make_device) -> None:
    ana: Device = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1, members=3)
    ana.remember()
    # the push reaches HQ and commits, its answer is lost, and the pull cannot run either
    ana.adapter.plan = lambda r: ("lose" if r.path_url.startswith("/v1/sync/push") else
                                  "down" if r.path_url.startswith(("/v1/sync/pull", "/v1/sync/changes")) else None)
    with pytest.raises(SyncError):
        ana.sync()
    assert ana.pending() == 4
    history = hq_server.query("SELECT count(*) FROM record_history")[0][0]
    assert _prune_hq(hq_server, days_later=100) == 4  # months later HQ no longer keeps those results
    ana.adapter.plan = lambda _r: None
    report = ana.sync()
    assert report.pending_ops == 0 and report.rejected == 0 and report.conflicts == 0
    assert [r[0] for r in ana.db.execute("SELECT DISTINCT status FROM sync_journal")] == ["pruned"]
    assert hq_server.query("SELECT count(*) FROM record_history")[0][0] == history  # not applied again
    # (the invariant checker proves exactly-once from applied_ops, which were pruned on purpose)
    server = {(r[0], r[1]) for r in hq_server.query("SELECT entity, id FROM records WHERE deleted = 0")}
    assert server == {(e, i) for e, i, _k, _f in ana.made.values()} and len(server) == 4


def _age_journal(device: Device, days: int) -> None:
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with st.immediate(device.db):
        device.db.execute("UPDATE sync_journal SET acked_at = ?", [old])


@pytest.mark.parametrize("journal_age_days", [10, 200])
def test_restore_from_a_backup_older_than_the_journal_is_a_clear_error(own_hq: HqServer, make_device,
                                                                        tmp_path: Path, journal_age_days: int) -> None:
    checker = InvariantChecker(own_hq.db_path)
    ana: Device = make_device("ana")
    ana.login(own_hq, "ana")
    ana.create_household(VILLAGE_1)
    ana.sync()
    own_hq.backup_to(tmp_path / "backup.db")
    ana.create_household(VILLAGE_1, members=2)  # acknowledged after the backup
    ana.sync()
    _age_journal(ana, journal_age_days)
    deleted = jr.prune_journal(ana.db, keep_min=0, force=True)
    assert deleted == (0 if journal_age_days < jr.KEEP_DAYS else 5)
    own_hq.stop()
    own_hq.restore_from(tmp_path / "backup.db")
    own_hq.start()
    checker.forget_versions()
    if journal_age_days < jr.KEEP_DAYS:  # inside the window: the journal refills the server
        assert ana.sync().pushed == 3
        checker.check([ana], quiescent=True, restored=True)
        return
    acked, outbox = st.last_acked(ana.db), ana.pending()
    with pytest.raises(SyncError) as caught:
        ana.sync()
    assert caught.value.code == "journal_pruned" and "Hubungi admin HQ" in str(caught.value)
    assert (st.last_acked(ana.db), ana.pending()) == (acked, outbox)  # nothing changed on the laptop
    with pytest.raises(SyncError):
        ana.sync()  # and it stays an error, never a silent partial refill
