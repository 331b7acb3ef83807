"""Backup file and restore (issue 17 §3): everything is in the backup, it opens only with the
passphrase, every kind of bad file is refused with the current database untouched, and a crash at
any step leaves either the old database or the restored one — never a mix."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desmig_desktop.errors import KnownError
from desmig_desktop.services.backup import create_backup, restore_backup
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.drafts import load_drafts, save_draft
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.backup import BEFORE_SUFFIX, PENDING_SUFFIX, apply_pending_restore, inspect_file
from desmig_desktop.store.db import WrongPassphrase, connect, is_encrypted
from desmig_desktop.store.sync_restore import restored_marker

KEY = "kata sandi desa"


def _snapshot(db) -> dict:
    return {
        "households": db.execute("SELECT id, head_name, server_version FROM households ORDER BY id").fetchall(),
        "outbox": db.execute("SELECT * FROM sync_outbox ORDER BY op_seq").fetchall(),
        "journal": db.execute("SELECT * FROM sync_journal ORDER BY op_seq").fetchall(),
        "state": db.execute("SELECT * FROM sync_state ORDER BY key").fetchall(),
        "drafts": db.execute("SELECT * FROM drafts ORDER BY key").fetchall(),
        "audit": db.execute("SELECT count(*) FROM audit_log").fetchone(),
        "counter": st.max_op_seq_allocated(db),
    }


@pytest.fixture
def laptop(tmp_path: Path, template_db: Path):
    """An encrypted laptop database with records, unsent ops, a journal, sync state and a draft."""
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(template_db, root / "desmig.db")
    db = connect(root / "desmig.db", KEY)
    generate_demo(db, 12, villages=("32.01.05.2003",), seed=5)
    st.apply_ack(db, 10, [])  # ten ops acknowledged: journal
    with st.immediate(db):
        st.put_state(db, st.K_DEVICE_ID, "dev-1")
        st.put_state(db, st.CURSOR_PREFIX + "32.01.05.2003", 77)
    save_draft(db, "household:new", {"head_name": "Draf"})
    yield Paths(root), db
    db.conn.close()


def test_backup_holds_everything_and_opens_only_with_the_passphrase(laptop, tmp_path):
    _paths, db = laptop
    info = create_backup(db, tmp_path / "usb.desmig-backup")
    before = _snapshot(db)  # (taken after: a backup first gives the database its lineage id, sync_restore)
    assert st.state(db, "lineage")
    assert is_encrypted(info.path) and info.pending_ops == len(before["outbox"]) > 0
    raw = info.path.read_bytes()
    assert b"SQLite format" not in raw and b"Draf" not in raw
    with pytest.raises(WrongPassphrase):
        inspect_file(info.path, "bukan ini")
    copy = connect(info.path, KEY)
    try:
        assert _snapshot(copy) == before
    finally:
        copy.conn.close()


def test_restore_brings_back_the_backup_and_keeps_the_old_database(laptop, tmp_path):
    paths, db = laptop
    before = _snapshot(db)
    backup = create_backup(db, tmp_path / "usb.desmig-backup").path
    generate_demo(db, 3, villages=("32.01.05.2003",), seed=9)  # work after the backup
    after = _snapshot(db)
    db.conn.close()
    restore_backup(paths, backup, KEY)
    restored = connect(paths.database, KEY)
    try:
        snap = _snapshot(restored)
        marker = restored_marker(restored)
        assert marker == {"device_id": "dev-1", "allocated": before["counter"]}
        assert {k: v for k, v in snap.items() if k != "state"} == {k: v for k, v in before.items() if k != "state"}
        assert [d.key for d in load_drafts(restored)] == ["household:new"]
    finally:
        restored.conn.close()
    old = connect(paths.root / ("desmig.db" + BEFORE_SUFFIX), KEY)
    try:
        assert _snapshot(old) == after  # nothing of the replaced database is lost
    finally:
        old.conn.close()


def _truncated(src: Path, dst: Path) -> None:
    dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2])


def _flipped(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    for i in range(8192, 8192 + 64):
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))


def _other_sqlite(_src: Path, dst: Path) -> None:
    conn = sqlite3.connect(dst)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def _newer_schema(src: Path, dst: Path) -> None:
    shutil.copy(src, dst)
    db = connect(dst, KEY)
    db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('desmig', 'm999_future',"
               " '2030-01-01')")
    db.conn.commit()
    db.conn.close()


@pytest.mark.parametrize("make, passphrase", [
    (lambda src, dst: shutil.copy(src, dst), "salah"),  # wrong passphrase
    (lambda src, dst: dst.write_bytes(b""), KEY),  # empty
    (lambda src, dst: dst.write_bytes(os.urandom(64 * 1024)), KEY),  # random bytes
    (_truncated, KEY),
    (_flipped, KEY),  # a damaged page
    (_other_sqlite, KEY),  # some other SQLite file
    (_newer_schema, KEY),  # made by a newer app
    (lambda src, dst: None, KEY),  # missing
], ids=["wrong-passphrase", "empty", "random", "truncated", "damaged-page", "not-desmig", "newer-schema", "missing"])
def test_a_bad_backup_is_refused_and_changes_nothing(laptop, tmp_path, make, passphrase):
    paths, db = laptop
    good = create_backup(db, tmp_path / "good.desmig-backup").path
    bad = tmp_path / "bad.desmig-backup"
    make(good, bad)
    before = _snapshot(db)
    db.conn.close()
    raw = paths.database.read_bytes()
    with pytest.raises(KnownError) as err:
        restore_backup(paths, bad, passphrase)
    assert str(err.value)  # a message for the officer
    assert paths.database.read_bytes() == raw
    assert not list(paths.root.glob("*" + PENDING_SUFFIX + "*")) and not list(paths.root.glob("*" + BEFORE_SUFFIX))
    again = connect(paths.database, KEY)
    try:
        assert _snapshot(again) == before
    finally:
        again.conn.close()


def test_damage_on_any_page_is_refused_with_a_message(laptop, tmp_path):
    """Whichever page of an encrypted backup is damaged (the schema's size decides which page a
    given offset hits), checking it ends in the officer's message, never a driver error."""
    _paths, db = laptop
    good = create_backup(db, tmp_path / "good.desmig-backup").path
    data = good.read_bytes()
    page = 4096
    assert len(data) > 4 * page
    pages = len(data) // page
    # The header page, the schema's first pages, and pages spread over the rest (each check
    # derives the key again: every page would take a minute).
    for start in sorted({page * n for n in (0, 1, 2, 3, pages // 3, pages // 2, 2 * pages // 3, pages - 1)}):
        damaged = bytearray(data)
        for i in range(start + 64, min(start + 128, len(data))):
            damaged[i] ^= 0xFF
        bad = tmp_path / "bad.desmig-backup"
        bad.write_bytes(bytes(damaged))
        with pytest.raises(KnownError) as err:
            inspect_file(bad, KEY)
        assert str(err.value), start


CRASH_SCRIPT = """
import sys
from pathlib import Path
from desmig_desktop.services.backup import restore_backup, create_backup
from desmig_desktop.services.paths import Paths
from desmig_desktop.store.db import connect
paths = Paths(Path(sys.argv[1]))
if sys.argv[2] == "backup":
    db = connect(paths.database, sys.argv[4])
    create_backup(db, Path(sys.argv[3]))
else:
    restore_backup(paths, Path(sys.argv[3]), sys.argv[4])
"""


@pytest.mark.parametrize("point", ["backup_written", "restore_moved_aside"])
def test_a_crash_midway_leaves_a_whole_database(laptop, tmp_path, point):
    paths, db = laptop
    backup = create_backup(db, tmp_path / "usb.desmig-backup").path
    generate_demo(db, 2, villages=("32.01.05.2003",), seed=11)
    current = _snapshot(db)
    db.conn.close()
    target = tmp_path / "second.desmig-backup"
    what = "backup" if point == "backup_written" else "restore"
    done = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(paths.root), what,
                           str(target if what == "backup" else backup), KEY],
                          env={**os.environ, "DESMIG_CRASH_AT": point}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 137, done.stderr
    if what == "backup":
        assert not target.exists()  # a half-written backup never carries the name
        apply_pending_restore(paths.database)
        db = connect(paths.database, KEY)
        assert _snapshot(db) == current
    else:
        assert not paths.database.exists()  # moved aside; the next open finishes the swap
        db = connect(paths.database, KEY) if apply_pending_restore(paths.database) else None
        assert db is not None and restored_marker(db) is not None
        old = connect(paths.root / ("desmig.db" + BEFORE_SUFFIX), KEY)
        assert _snapshot(old) == current
        old.conn.close()
    db.conn.close()
