"""Two officers' profiles on one laptop, syncing with one real HQ server: each profile is its own
device (own registration, token, op numbering and villages); neither sees the other's data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from desmig_desktop.store import sync_store as st
from desmig_desktop.store.db import connect
from tests.sync.harness import PASSWORD, VILLAGE_1, VILLAGE_2, HqServer, child_env, script

KEYS = {"ana": "kunci-ana-desa-1", "budi": "kunci-budi-desa-2"}


def desmig(home: Path, *args: str, key: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = child_env(DESMIG_HOME=str(home), **({"DESMIG_PASSPHRASE": key} if key else {}))
    env.pop("DESMIG_ALLOW_PLAINTEXT", None)  # production policy: every profile's database is encrypted
    done = subprocess.run([*script("desmig"), *args], input=stdin, text=True, capture_output=True, env=env,
                          timeout=180)
    return done


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_two_profiles_keep_separate_device_registrations(hq_server: HqServer, tmp_path: Path) -> None:
    home = tmp_path / "laptop"
    for name in ("ana", "budi"):
        ok(desmig(home, "profile", "add", name, "--officer", name.title(), key=KEYS[name]))
        ok(desmig(home, "--profile", name, "login", "--server", hq_server.url, "--username", name, "--password-stdin",
                  "--device-name", "laptop-balai-desa", key=KEYS[name], stdin=PASSWORD + "\n"))
    ok(desmig(home, "--profile", "ana", "demo", "--households", "3", "--villages", VILLAGE_2, key=KEYS["ana"]))
    ok(desmig(home, "--profile", "budi", "demo", "--households", "2", "--villages", VILLAGE_1, key=KEYS["budi"]))
    for name in ("ana", "budi", "ana"):
        ok(desmig(home, "--profile", name, "sync", "--json", key=KEYS[name]))

    devices = {r["username"]: r for r in hq_server.query("SELECT device_id, username, last_op_seq FROM devices")}
    assert set(devices) == {"ana", "budi"} and devices["ana"]["device_id"] != devices["budi"]["device_id"]
    local: dict[str, dict[str, object]] = {}
    for name in ("ana", "budi"):
        db = connect(home / "profiles" / name / "desmig.db", KEYS[name])
        local[name] = {"device": st.state(db, st.K_DEVICE_ID), "token": st.state(db, st.K_TOKEN),
                       "user": st.state(db, st.K_USERNAME), "villages": st.state(db, st.K_SCOPES),
                       "households": db.execute("SELECT count(*) FROM households").fetchone()[0],
                       "pending": st.pending_count(db)}
        db.close()
    assert local["ana"]["device"] == devices["ana"]["device_id"] and local["ana"]["user"] == "ana"
    assert local["budi"]["device"] == devices["budi"]["device_id"] and local["budi"]["user"] == "budi"
    assert local["ana"]["token"] != local["budi"]["token"]
    assert devices["ana"]["last_op_seq"] > 0 and devices["budi"]["last_op_seq"] > 0
    assert local["ana"]["pending"] == local["budi"]["pending"] == 0
    # ana works in both villages (her 3 + budi's 2 pulled); budi only in the shared one: ana's are not his
    assert local["ana"]["households"] == 5 and local["budi"]["households"] == 2
    assert sorted(local["ana"]["villages"]) == [VILLAGE_1, VILLAGE_2] and local["budi"]["villages"] == [VILLAGE_1]

    listed = {p["name"]: p for p in json.loads(ok(desmig(home, "profiles", "--json")))["profiles"]}
    assert set(listed) == {"ana", "budi"}
    assert listed["ana"]["last_sync_at"] and listed["budi"]["last_sync_at"]
    assert [v["code"] for v in listed["budi"]["villages"]] == [VILLAGE_1]  # the server's assignment
    assert sorted(v["code"] for v in listed["ana"]["villages"]) == [VILLAGE_1, VILLAGE_2]
    # One profile's passphrase never opens the other's data.
    refused = desmig(home, "--profile", "budi", "status", key=KEYS["ana"])
    assert refused.returncode == 1 and "Kata sandi salah" in refused.stderr
