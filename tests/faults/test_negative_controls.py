"""Negative controls: deliberately broken sync variants the invariant suite must catch.

Each scenario runs twice: with the real engine (the suite must pass — the control of the control)
and with the broken variant (the suite must fail, for the reason named). A suite that passes a
broken variant has no teeth.
"""

from __future__ import annotations

import contextlib

import pytest

from desmig_desktop.sync.errors import SyncError
from tests.support.broken_sync import BrokenVariant
from tests.sync.harness import VILLAGE_1, Device, only
from tests.sync.invariants import InvariantChecker, InvariantViolation

pytestmark = pytest.mark.e2e


def strip_autoincrement(device: Device) -> None:
    """The third broken variant: ``sync_outbox.op_seq`` as a plain INTEGER PRIMARY KEY, which
    restarts at 1 once the table empties."""
    db = device.db
    with db.atomic():
        db.execute("ALTER TABLE sync_outbox RENAME TO sync_outbox_old")
        db.execute("CREATE TABLE sync_outbox (op_seq INTEGER PRIMARY KEY, entity TEXT NOT NULL, record_id TEXT NOT NULL,"
                   " kind TEXT NOT NULL, base_version INTEGER NOT NULL, fields TEXT NOT NULL, op_hash TEXT NOT NULL,"
                   " captured_at TEXT NOT NULL, app_schema INTEGER NOT NULL, questionnaire_version INTEGER NOT NULL DEFAULT 1)")
        db.execute("INSERT INTO sync_outbox SELECT * FROM sync_outbox_old")
        db.execute("DROP TABLE sync_outbox_old")
        db.execute("CREATE INDEX idx_outbox_record ON sync_outbox(entity, record_id)")
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'sync_outbox'")


def ack_early_scenario(hq_server, make_device, checker: InvariantChecker, broken: BrokenVariant | None) -> None:
    """The push never reaches the server (refused after hello)."""
    ana = make_device(f"ana-{broken}")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1, members=2)
    ana.adapter.plan = only("/v1/sync/push", "down", times=99)
    with pytest.raises(SyncError):
        ana.sync(broken=broken)
    checker.check([ana])
    ana.adapter.plan = lambda _r: None
    ana.sync(broken=broken)
    checker.check([ana], quiescent=True)


def no_watermark_scenario(hq_server, make_device, checker: InvariantChecker, broken: BrokenVariant | None) -> None:
    """ana's push answers are lost twice in a row while budi edits the same field in between."""
    ana, budi = make_device(f"ana-{broken}"), make_device(f"budi-{broken}")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(broken=broken), budi.sync()
    ana.edit("households", hid, notes="versi ana")
    ana.adapter.plan = only("/v1/sync/push", "lose", times=99)
    with pytest.raises(SyncError):
        ana.sync(broken=broken)
    budi.sync()
    budi.edit("households", hid, notes="versi budi, sesudahnya")
    budi.sync()
    with contextlib.suppress(SyncError):
        ana.sync(broken=broken)  # the real engine has nothing left to push: no error
    ana.adapter.plan = lambda _r: None
    ana.sync(broken=broken), budi.sync(), ana.sync(broken=broken)
    checker.check([ana, budi], quiescent=True)


def plain_op_seq_scenario(hq_server, make_device, checker: InvariantChecker, broken: bool) -> None:
    """The outbox empties after a sync; then one more edit."""
    ana = make_device(f"ana-{broken}")
    ana.login(hq_server, "ana")
    if broken:
        strip_autoincrement(ana)
    hid = ana.create_household(VILLAGE_1)
    ana.sync()
    assert ana.pending() == 0
    ana.edit("households", hid, notes="suntingan sesudah antrean kosong")
    checker.check([ana])
    with contextlib.suppress(SyncError):  # the broken variant is refused as a cloned device;
        ana.sync()  # the suite must still say why
    checker.check([ana], quiescent=True)


def drop_lost_scenario(hq_server, make_device, checker: InvariantChecker, broken: BrokenVariant | None) -> None:
    """ana's value is applied first, then HQ's concurrent edit (older base) overwrites it by role."""
    ana, pusat = make_device(f"ana-{broken}"), make_device(f"pusat-{broken}")
    ana.login(hq_server, "ana"), pusat.login(hq_server, "pusat")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(broken=broken), pusat.sync()
    ana.edit("households", hid, head_name="Ejaan Petugas")
    pusat.edit("households", hid, head_name="Ejaan HQ")
    ana.sync(broken=broken), pusat.sync(), ana.sync(broken=broken)
    checker.check([ana, pusat], quiescent=True)


def skip_too_much_scenario(hq_server, make_device, checker: InvariantChecker, broken: BrokenVariant | None) -> None:
    """ana's push answers are lost; the cycle's pull then acknowledges her ops by its watermark
    (without their answers), so the records they made must come down with that pull."""
    ana = make_device(f"ana-{broken}")
    ana.login(hq_server, "ana")
    ana.create_household(VILLAGE_1, members=2)
    ana.adapter.plan = only("/v1/sync/push", "lose", times=99)
    with pytest.raises(SyncError):
        ana.sync(broken=broken)
    assert ana.pending() == 0  # the pull's watermark acknowledged them
    checker.check([ana], pulled=(ana.name,))
    ana.adapter.plan = lambda _r: None
    ana.sync(broken=broken)
    checker.check([ana], quiescent=True)


def test_ack_before_the_server_answers_is_caught(hq_server, make_device, checker):
    ack_early_scenario(hq_server, make_device, checker, None)
    hq_server.reset()
    with pytest.raises(InvariantViolation) as caught:
        ack_early_scenario(hq_server, make_device, InvariantChecker(hq_server.db_path), BrokenVariant.ACK_EARLY)
    assert "acked-lost" in caught.value.kinds(), caught.value


def test_pull_that_ignores_the_watermark_is_caught(hq_server, make_device, checker):
    no_watermark_scenario(hq_server, make_device, checker, None)
    hq_server.reset()
    with pytest.raises(InvariantViolation) as caught:
        no_watermark_scenario(hq_server, make_device, InvariantChecker(hq_server.db_path), BrokenVariant.NO_WATERMARK)
    assert "diverged" in caught.value.kinds(), caught.value


def test_op_seq_without_autoincrement_is_caught(hq_server, make_device, checker):
    plain_op_seq_scenario(hq_server, make_device, checker, False)
    hq_server.reset()
    with pytest.raises(InvariantViolation) as caught:
        plain_op_seq_scenario(hq_server, make_device, InvariantChecker(hq_server.db_path), True)
    assert "exactly-once" in caught.value.kinds(), caught.value


def test_device_that_ignores_the_servers_lost_values_is_caught(hq_server, make_device, checker):
    drop_lost_scenario(hq_server, make_device, checker, None)
    hq_server.reset()
    with pytest.raises(InvariantViolation) as caught:
        drop_lost_scenario(hq_server, make_device, InvariantChecker(hq_server.db_path), BrokenVariant.DROP_LOST)
    assert caught.value.kinds() == {"conflict-unseen"}, caught.value


def test_pull_that_leaves_out_unanswered_own_ops_is_caught(hq_server, make_device, checker):
    skip_too_much_scenario(hq_server, make_device, checker, None)
    hq_server.reset()
    with pytest.raises(InvariantViolation) as caught:
        skip_too_much_scenario(hq_server, make_device, InvariantChecker(hq_server.db_path), BrokenVariant.SKIP_TOO_MUCH)
    assert caught.value.kinds() == {"stale-version"}, caught.value
