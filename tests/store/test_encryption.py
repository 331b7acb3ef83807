"""Encryption at rest: unreadable without the key, migration from plain keeps every record and
survives being killed midway."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desmig_desktop.services.demo import generate_demo
from desmig_desktop.store.db import PassphraseRequired, WrongPassphrase, change_passphrase, connect, is_encrypted
from desmig_desktop.store.queries import entity_counts

KEY = "rahasia desa 'ku"


@pytest.fixture
def plain_db(data_dir: Path) -> Path:
    path = data_dir / "desmig.db"
    db = connect(path)
    generate_demo(db, 30, villages=("32.01.05.2003",), seed=3)
    db.conn.close()
    return path


def test_new_encrypted_db_is_unreadable_without_the_key(tmp_path: Path) -> None:
    path = tmp_path / "enc.db"
    db = connect(path, KEY)
    db.execute("INSERT INTO settings VALUES ('x', '1')")
    db.conn.commit()
    db.conn.close()
    assert is_encrypted(path)
    raw = path.read_bytes()
    assert b"Kabupaten" not in raw and b"CREATE TABLE" not in raw and b"SQLite format" not in raw
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT * FROM settings").fetchall()
    with pytest.raises(WrongPassphrase):
        connect(path, "salah")
    with pytest.raises(PassphraseRequired):
        connect(path)
    assert connect(path, KEY).execute("SELECT value FROM settings WHERE key = 'x'").fetchone() == ("1",)


def test_plain_db_is_migrated_in_place_keeping_every_record(plain_db: Path) -> None:
    before = entity_counts(connect(plain_db))
    outbox = connect(plain_db).execute("SELECT count(*) FROM sync_outbox").fetchone()[0]
    db = connect(plain_db, KEY)
    assert is_encrypted(plain_db)
    assert entity_counts(db) == before and before["households"] == 30
    assert db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == outbox
    assert db.execute("SELECT count(*) FROM household_search WHERE household_search MATCH 'a*'").fetchone()[0] > 0
    leftovers = sorted(p.name for p in plain_db.parent.iterdir() if p.name.startswith("desmig.db"))
    assert leftovers in (["desmig.db"], ["desmig.db", "desmig.db-shm", "desmig.db-wal"])
    raw = plain_db.read_bytes()
    assert not any(str(n).encode() in raw for n in [r[0] for r in db.execute("SELECT nik FROM members")])


@pytest.mark.parametrize("crash_at", ["encrypt_exported", "encrypt_verified"])
def test_killed_migration_loses_nothing(plain_db: Path, crash_at: str) -> None:
    before = entity_counts(connect(plain_db))
    code = ("import sys; from desmig_desktop.store.db import connect; connect(sys.argv[1], sys.argv[2])")
    done = subprocess.run([sys.executable, "-c", code, str(plain_db), KEY], timeout=120,
                          env={**os.environ, "DESMIG_CRASH_AT": crash_at})
    assert done.returncode == 137
    assert not is_encrypted(plain_db)  # the plain file is untouched until the verified rename
    assert entity_counts(connect(plain_db)) == before
    db = connect(plain_db, KEY)  # the next start finishes the job
    assert is_encrypted(plain_db) and entity_counts(db) == before
    assert not Path(str(plain_db) + ".encrypting").exists()


def test_change_passphrase(tmp_path: Path, template_db: Path) -> None:
    path = tmp_path / "c.db"
    shutil.copy(template_db, path)
    db = connect(path, KEY)
    change_passphrase(db, "baru")
    db.conn.close()
    with pytest.raises(WrongPassphrase):
        connect(path, KEY)
    assert connect(path, "baru").execute("SELECT count(*) FROM regions").fetchone()[0] == 91_599


def _cli(data_dir: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DESMIG_ALLOW_PLAINTEXT", "DESMIG_PASSPHRASE")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "desmig_desktop.cli", "--data-dir", str(data_dir), *args],
                          env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_cli_requires_a_passphrase_unless_plaintext_is_chosen(tmp_path: Path) -> None:
    home = tmp_path / "home"
    refused = _cli(home, "status", "--json")
    assert refused.returncode == 1 and "kata sandi" in refused.stderr and refused.stderr.count("\n") == 1
    assert not (home / "desmig.db").exists()
    made = _cli(home, "demo", "--households", "3", env_extra={"DESMIG_PASSPHRASE": KEY})
    assert made.returncode == 0, made.stderr
    assert is_encrypted(home / "desmig.db")
    wrong = _cli(home, "status", "--json", env_extra={"DESMIG_PASSPHRASE": "salah"})
    assert wrong.returncode == 1 and "salah" in wrong.stderr.lower()
    ok = _cli(home, "status", "--json", env_extra={"DESMIG_PASSPHRASE": KEY})
    assert ok.returncode == 0 and '"households": 3' in ok.stdout
    plain_home = tmp_path / "plain"
    from desmig_desktop.services.database import set_plaintext_allowed
    from desmig_desktop.services.paths import Paths
    set_plaintext_allowed(Paths(plain_home), True)
    assert _cli(plain_home, "demo", "--households", "2").returncode == 0
    assert not is_encrypted(plain_home / "desmig.db")
