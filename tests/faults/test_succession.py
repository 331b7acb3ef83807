"""Fault matrix, issue 17 §3: a laptop that gets a new device id — its token expired, the officer
logged out, HQ revoked the device — or a backup restored after that, on the same laptop or on a new
one that logged in first. HQ checks exactly-once per (device, op number), so without device
succession the same edit arrived once per device id (``applied-twice``: a household created
twice, an old edit applied again over a later one). Every case ends with the whole invariant suite."""

from __future__ import annotations

import json

import pytest

from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.errors import ErrorKind, SyncError
from tests.faults.test_fault_matrix import officers_with_work, settle
from tests.sync.harness import VILLAGE_1, VILLAGE_2, HqServer, only

pytestmark = pytest.mark.e2e

TOKEN_ENDS = ["expired", "logged_out", "revoked"]


def _log_in_again(device, server: HqServer) -> None:
    """The next sync is refused for the dead token; the officer logs in again and syncs."""
    with pytest.raises(SyncError) as err:
        device.sync()
    assert err.value.kind is ErrorKind.AUTH
    device.login(server, "ana")
    device.sync()


def _data(server: HqServer, record_id: str) -> dict:
    return json.loads(server.query("SELECT data FROM records WHERE id = ?", (record_id,))[0]["data"])


@pytest.mark.parametrize("how", TOKEN_ENDS)
def test_push_answer_lost_then_logged_in_again(hq_server, make_device, checker, how):
    """The push reached HQ, its answer did not; then the device's token died and the officer
    logged in again. The ops still pending on the laptop are at HQ already: never applied again
    (before: under the new device id they were fresh ops)."""
    ana, budi = officers_with_work(hq_server, make_device)
    edited = ana.live()[0]
    ana.edit("households", edited, notes="dikirim, jawaban hilang")
    pending = ana.pending()
    ana.adapter.plan = only("/v1/sync/push", "lose", times=99)
    engine = ana.engine()
    engine.hello()
    with pytest.raises(SyncError):
        engine.push_all()  # (no pull: it would learn the watermark and drop them)
    ana.adapter.plan = lambda _r: None
    assert ana.pending() == pending  # applied at HQ, still pending here
    checker.check([ana, budi])
    ana.lose_token(hq_server, how)
    budi.edit("households", edited, notes="budi sesudahnya")  # a later edit the old op must not undo
    budi.sync()
    _log_in_again(ana, hq_server)
    settle(checker, [ana, budi])
    assert _data(hq_server, edited)["notes"] == "budi sesudahnya"
    assert ana.row("households", edited)["notes"] == "budi sesudahnya"


@pytest.mark.parametrize("laptop", ["same", "new"])
@pytest.mark.parametrize("how", TOKEN_ENDS)
def test_backup_restored_after_the_laptop_registered_again(hq_server, make_device, checker, tmp_path, laptop, how):
    """A backup with unsent changes; then the laptop's device died, the officer logged in again
    (a new device id, unless only the token expired), sent the backup's changes, edited some of
    them again and sent that too. The database is lost; the backup comes back on the same laptop
    or on a new one that logged in first. The backup's unsent changes were sent once already,
    under a device id the backup never heard of: they must not arrive again, the later edits must
    stay, what the lost copy sent comes back by pull, and work on the restored copy goes out once."""
    ana, budi = officers_with_work(hq_server, make_device)
    ana.sync(), budi.sync()
    first = ana.live()[0]
    ana.edit("households", first, notes="sebelum cadangan")
    pending_home = ana.create_household(VILLAGE_2, members=1)
    backup = tmp_path / "ana.desmig-backup"
    ana.backup(backup)
    assert ana.pending() > 0
    old_device = st.state(ana.db, st.K_DEVICE_ID)
    ana.lose_token(hq_server, how)
    _log_in_again(ana, hq_server)  # the backup's unsent changes reach HQ
    relogged = st.state(ana.db, st.K_DEVICE_ID)
    ana.edit("households", first, notes="sesudah cadangan")
    ana.edit("households", pending_home, head_name="Kepala sesudah cadangan")
    later = [ana.create_household(VILLAGE_1, members=1) for _i in range(3)]
    ana.sync(), budi.sync()
    checker.check([ana, budi], quiescent=True)
    if laptop == "same":
        target = ana
    else:
        target = make_device("ana-new")
        target.login(hq_server, "ana")  # a new laptop: log in, then restore the USB backup
    target.restore(backup, previous=None if laptop == "same" else ana)
    if laptop == "new":
        ana.close()
    checker.forget_device(target.name)
    checker.check([target, budi])
    made_after = [target.create_household(VILLAGE_1, members=0) for _i in range(2)]
    try:
        target.sync()
    except SyncError as exc:  # the backup's token is dead (reissued, revoked or fenced): log in again
        assert exc.kind is ErrorKind.AUTH, exc
        target.login(hq_server, "ana")
        target.sync()
    settle(checker, [target, budi])
    assert _data(hq_server, first)["notes"] == "sesudah cadangan"  # the later edit was not overwritten
    assert target.row("households", first)["notes"] == "sesudah cadangan"  # and came back by pull
    assert _data(hq_server, pending_home)["head_name"] == "Kepala sesudah cadangan"
    for hid in [*later, *made_after]:
        assert target.row("households", hid) is not None and hq_server.query("SELECT 1 FROM records WHERE id = ?", (hid,))
    assert (relogged == old_device) is (how == "expired")  # a live device carries on; a dead one is succeeded
    live = hq_server.query("SELECT count(*) AS n FROM devices WHERE revoked = 0 AND username = 'ana'")[0]["n"]
    assert live == (1 if laptop == "same" else 2)  # one live device per laptop database (+ the new laptop's own)


@pytest.mark.parametrize("laptop", ["same", "new"])
def test_backup_taken_before_the_first_login(hq_server, make_device, checker, tmp_path, laptop):
    """The officer worked offline from the start and backed up before ever logging in; the laptop
    then logged in, sent everything and worked on. Its database is lost and the backup comes back
    (there, or on a new laptop that logged in first): its ops are at HQ already, under a device the
    backup never knew (before: all of them were sent again under a new one)."""
    ana = make_device("ana")
    homes = [ana.create_household(VILLAGE_1, members=1) for _i in range(3)]
    backup = tmp_path / "ana.desmig-backup"
    ana.backup(backup)
    ana.login(hq_server, "ana")
    ana.sync()
    ana.edit("households", homes[0], notes="sesudah cadangan")
    ana.create_household(VILLAGE_2)
    ana.sync()
    target = ana if laptop == "same" else make_device("ana-new")
    if laptop == "new":
        target.login(hq_server, "ana")
    target.restore(backup, previous=None if laptop == "same" else ana)
    if laptop == "new":
        ana.close()
    checker.forget_device(target.name)
    made_after = target.create_household(VILLAGE_1, members=0)
    if laptop == "new":
        with pytest.raises(SyncError):  # the backup holds no registration: log in
            target.sync()
    target.login(hq_server, "ana")
    target.sync()
    settle(checker, [target])
    assert _data(hq_server, homes[0])["notes"] == "sesudah cadangan"
    assert target.row("households", homes[0])["notes"] == "sesudah cadangan"
    assert hq_server.query("SELECT 1 FROM records WHERE id = ?", (made_after,))


def test_a_copy_that_sent_ops_this_database_never_made_is_refused_at_login(hq_server, make_device, checker):
    """Negative control of the succession: a copy of the database (not restored: cloned) that
    logs in after the original sent more ops than the copy ever made is refused — it would
    otherwise file its own, different ops under those numbers as already at HQ. Logging in again
    registers it as a lineage of its own: its op goes out once, and the original carries on."""
    import shutil

    ana = make_device("ana")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1, members=0)
    ana.sync()
    ana.close()
    clone = make_device("ana-clone")
    clone.close()
    shutil.copy(ana.root / "desmig.db", clone.root / "desmig.db")
    clone.create_household(VILLAGE_1, members=0)
    for _i in range(3):
        ana.create_household(VILLAGE_1, members=0)
    ana.sync()
    clone.lose_token(hq_server, "logged_out")
    with pytest.raises(SyncError) as err:
        clone.login(hq_server, "ana")
    assert err.value.code == "device_mismatch"
    assert clone.pending() == 1  # nothing of the clone filed as sent
    clone.foreign_devices = {st.state(ana.db, st.K_DEVICE_ID)}
    clone.login(hq_server, "ana")
    clone.sync()
    assert clone.pending() == 0
    _log_in_again(ana, hq_server)  # the refused login had fenced the original's device
    clone.sync()
    checker.check([ana, clone], quiescent=True)
    assert hq_server.query("SELECT count(*) AS n FROM records WHERE entity = 'households'")[0]["n"] == 5
