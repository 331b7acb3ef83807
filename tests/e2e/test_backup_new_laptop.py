"""A new laptop (issue 17 §3), end to end through the real command lines and a real server: the old
laptop backs up to a "USB stick" with unsent work in it, keeps working and syncing, then dies. On a
new laptop the officer logs in, restores the backup and syncs: every record HQ has for the
officer's villages is back, the backup's unsent work arrived exactly once, and the encrypted
database opens only with the passphrase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_officers_and_hq import run_ok, server  # noqa: F401  (the server fixture)
from tests.sync.harness import PASSWORD, VILLAGE_1, VILLAGE_2, Device, HqServer

pytestmark = pytest.mark.e2e
KEY = {"DESMIG_PASSPHRASE": "kata sandi laptop siti"}


def _status(device: Device) -> dict:
    return json.loads(run_ok(device.cli("status", "--json", env=KEY), "status").stdout)


def test_new_laptop_login_restore_sync(server: HqServer, scratch: Path, template_db: Path):
    old = Device(scratch / "old", "ana", template_db)
    login = ("login", "--server", server.url, "--username", "ana", "--password-stdin")
    run_ok(old.cli(*login, "--device-name", "laptop-lama", env=KEY, stdin=PASSWORD + "\n"), "login old")
    villages = f"{VILLAGE_1},{VILLAGE_2}"
    run_ok(old.cli("demo", "--households", "6", "--villages", villages, "--seed", "3", env=KEY), "demo")
    run_ok(old.cli("sync", env=KEY), "sync")
    run_ok(old.cli("demo", "--households", "4", "--villages", villages, "--seed", "4", env=KEY), "unsent work")
    usb = scratch / "usb"
    usb.mkdir()
    done = run_ok(old.cli("backup", "--out", str(usb), env=KEY), "backup")
    backup = next(usb.glob("*.desmig-backup"))
    assert str(backup) in done.stdout and _status(old)["pending_ops"] > 0
    assert b"SQLite format" not in backup.read_bytes()[:64]
    # the old laptop carries on: sends the backup's work, does more, sends it too — then dies
    run_ok(old.cli("sync", env=KEY), "sync after backup")
    run_ok(old.cli("demo", "--households", "3", "--villages", villages, "--seed", "5", env=KEY), "more work")
    run_ok(old.cli("sync", env=KEY), "sync more")
    before = _status(old)
    applied = server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"]

    new = Device(scratch / "new", "ana", template_db)
    run_ok(new.cli(*login, "--device-name", "laptop-baru", env=KEY, stdin=PASSWORD + "\n"), "login new")
    wrong = new.cli("restore", str(backup), env={"DESMIG_PASSPHRASE": "salah"})
    assert wrong.returncode == 1 and "Kata sandi salah" in wrong.stderr
    run_ok(new.cli("restore", str(backup), env=KEY), "restore")
    report = json.loads(run_ok(new.cli("sync", "--json", env=KEY), "sync new").stdout)
    assert report["pushed"] == 0 and report["pending_ops"] == 0  # the backup's work was already at HQ
    assert server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"] == applied  # nothing applied twice
    after = _status(new)
    for key in ("households", "members", "placements", "businesses"):
        assert after[key] == before[key], key  # back where the officer was, work after the backup included
    run_ok(new.cli("demo", "--households", "2", "--villages", villages, "--seed", "6", env=KEY), "work on new")
    report = json.loads(run_ok(new.cli("sync", "--json", env=KEY), "sync new work").stdout)
    assert report["pending_ops"] == 0 and report["pushed"] > 0
    households = server.query("SELECT count(*) AS n FROM records WHERE entity = 'households'")[0]["n"]
    assert households == before["households"] + 2


def _applied_twice(server: HqServer) -> int:
    """Edits (record, kind, the moment saved) HQ applied more than once, under any device ids."""
    return server.query("SELECT count(*) AS n FROM (SELECT 1 FROM applied_ops GROUP BY entity, record_id, kind,"
                        " captured_at HAVING count(*) > 1) AS twice")[0]["n"]


def test_new_laptop_after_the_old_one_registered_again(server: HqServer, scratch: Path,
                                                        template_db: Path):
    """As above, but after the backup HQ revoked the old laptop's device (a suspected compromise)
    and the officer logged in again: the backup's unsent work went out under a new device id, which
    the backup never heard of. On the new laptop, the backup's own token is refused; logging in again
    must not send that work a second time (before: every op of it was applied twice)."""
    old = Device(scratch / "old", "ana", template_db)
    login = ("login", "--server", server.url, "--username", "ana", "--password-stdin")
    villages = f"{VILLAGE_1},{VILLAGE_2}"
    run_ok(old.cli(*login, "--device-name", "laptop-lama", env=KEY, stdin=PASSWORD + "\n"), "login old")
    run_ok(old.cli("demo", "--households", "5", "--villages", villages, "--seed", "3", env=KEY), "demo")
    run_ok(old.cli("sync", env=KEY), "sync")
    run_ok(old.cli("demo", "--households", "4", "--villages", villages, "--seed", "4", env=KEY), "unsent work")
    usb = scratch / "usb"
    usb.mkdir()
    run_ok(old.cli("backup", "--out", str(usb), env=KEY), "backup")
    backup = next(usb.glob("*.desmig-backup"))
    run_ok(server.hq("user", "passwd", "ana", "--revoke-devices", "--password-stdin", stdin=PASSWORD + "\n"),
           "revoke")
    assert old.cli("sync", env=KEY).returncode == 1  # refused: log in again
    run_ok(old.cli(*login, "--device-name", "laptop-lama", env=KEY, stdin=PASSWORD + "\n"), "login old again")
    run_ok(old.cli("sync", env=KEY), "sync under the new device")
    run_ok(old.cli("demo", "--households", "3", "--villages", villages, "--seed", "5", env=KEY), "more work")
    run_ok(old.cli("sync", env=KEY), "sync more")
    before = _status(old)
    applied = server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"]
    assert _applied_twice(server) == 0

    new = Device(scratch / "new", "ana", template_db)
    run_ok(new.cli(*login, "--device-name", "laptop-baru", env=KEY, stdin=PASSWORD + "\n"), "login new")
    run_ok(new.cli("restore", str(backup), env=KEY), "restore")
    refused = new.cli("sync", env=KEY)  # the backup's device was revoked
    assert refused.returncode == 1, refused.stdout
    run_ok(new.cli(*login, "--device-name", "laptop-baru", env=KEY, stdin=PASSWORD + "\n"), "login after restore")
    report = json.loads(run_ok(new.cli("sync", "--json", env=KEY), "sync new").stdout)
    assert report["pushed"] == 0 and report["pending_ops"] == 0  # the backup's work was already at HQ
    assert _applied_twice(server) == 0
    assert server.query("SELECT count(*) AS n FROM applied_ops")[0]["n"] == applied  # nothing applied again
    after = _status(new)
    for key in ("households", "members", "placements", "businesses"):
        assert after[key] == before[key], key
    run_ok(new.cli("demo", "--households", "2", "--villages", villages, "--seed", "6", env=KEY), "work on new")
    report = json.loads(run_ok(new.cli("sync", "--json", env=KEY), "sync new work").stdout)
    assert report["pending_ops"] == 0 and report["pushed"] > 0
    households = server.query("SELECT count(*) AS n FROM records WHERE entity = 'households'")[0]["n"]
    assert households == before["households"] + 2
