"""One backup file of the local database, and checking one before it replaces the database.

A backup is the whole database — records, the outbox (unsent changes), the journal, sync state
with the device registration, conflicts, drafts, settings, history — as one SQLCipher file with
the same passphrase (a plain file only where the database itself is plain: tests, development).
It is written from one read snapshot into a temporary file, verified (opens with the
passphrase, ``PRAGMA integrity_check``, the same row count in every table, the same op counter)
and only then renamed to its name, so a half-written backup never carries the name.

Restoring never touches the current database until the copy is verified: ``stage_restore``
copies the file beside the database as ``desmig.db.restore-pending``, marks it restored (sync
state ``restored_from_backup``: the registration and the highest op number the backup holds —
the sync engine's rule after a restore, ``sync_restore.reconcile_restore``) and verifies it again;
``apply_pending_restore`` (run before the database is opened) keeps the current database as
``desmig.db.before-restore`` and renames the verified copy into place.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.store.db import _cipher_connect, _crash_point, _fsync, _table_counts, is_encrypted
from desmig_desktop.store.schema import migrations
from desmig_desktop.store.sync_restore import ensure_lineage, restored_marker
from desmig_desktop.store.sync_store import K_RESTORED

PENDING_SUFFIX = ".restore-pending"
BEFORE_SUFFIX = ".before-restore"
_WRITING_SUFFIX = ".writing"


class BackupInvalid(KnownError):
    pass


@dataclass(frozen=True)
class BackupInfo:
    """What a verified backup holds (counts exclude nothing: every row of every table)."""

    path: Path
    counts: dict[str, int]
    op_counter: int
    encrypted: bool

    @property
    def households(self) -> int:
        return self.counts.get("households", 0)

    @property
    def pending_ops(self) -> int:
        return self.counts.get("sync_outbox", 0)


def _op_counter(conn: Any) -> int:
    """The highest op number ever handed out (AUTOINCREMENT's counter, or the tables' own)."""
    found = conn.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone()
    seq = 0
    if found:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'").fetchone()
        seq = int(row[0]) if row else 0
    for table in ("sync_outbox", "sync_journal"):
        seq = max(seq, int(conn.execute(f"SELECT coalesce(max(op_seq), 0) FROM {table}").fetchone()[0]))
    return seq


def _database_errors() -> tuple[type[Exception], ...]:
    """What a damaged file raises: the standard driver's error, and SQLCipher's (its own class,
    not a subclass — an encrypted backup with a damaged page raised it past the handlers)."""
    try:
        import sqlcipher3
    except ImportError:  # pragma: no cover - a plain build without SQLCipher
        return (sqlite3.DatabaseError,)
    return (sqlite3.DatabaseError, sqlcipher3.DatabaseError)


def _open_file(path: Path, passphrase: str | None) -> Any:
    """A raw connection to a backup or staged file (encrypted when it is)."""
    if is_encrypted(path):
        if not passphrase:
            raise BackupInvalid(_("Berkas cadangan terenkripsi; kata sandi diperlukan."))
        return _cipher_connect(path, passphrase)
    conn = sqlite3.connect(str(path), timeout=30)
    return conn


def inspect_file(path: Path, passphrase: str | None, *, expected: dict[str, int] | None = None,
                 op_counter: int | None = None) -> BackupInfo:
    """Check a backup (or staged) file: passphrase, integrity, a Desmig database of a schema this
    app knows, and — when given — the expected row counts and op counter. Raises ``BackupInvalid``
    (or ``WrongPassphrase``) with an officer-facing message."""
    if not path.is_file() or path.stat().st_size == 0:
        raise BackupInvalid(_("Berkas cadangan tidak ditemukan atau kosong: {path}", path=path.name))
    damaged = _database_errors()
    try:
        conn = _open_file(path, passphrase)
    except damaged:
        raise BackupInvalid(_("Berkas ini bukan cadangan Desmig yang bisa dibaca.")) from None
    try:
        try:
            check = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except damaged:
            raise BackupInvalid(_("Berkas ini bukan cadangan Desmig yang bisa dibaca.")) from None
        if check != ["ok"]:
            raise BackupInvalid(_("Berkas cadangan rusak (pemeriksaan integritas gagal)."))
        if not {"households", "sync_outbox", "sync_state", migrations.migrations_table} <= tables:
            raise BackupInvalid(_("Berkas ini bukan cadangan Desmig."))
        applied = {r[0] for r in conn.execute(f"SELECT name FROM {migrations.migrations_table}"
                                              " WHERE migration_set = ?", [migrations.name])}
        known = {m.name for m in migrations._migrations}
        if applied - known:
            raise BackupInvalid(_("Cadangan ini dibuat oleh versi aplikasi yang lebih baru. Perbarui aplikasi"
                                  " dulu, lalu pulihkan lagi."))
        counts = _table_counts(conn)
        counter = _op_counter(conn)
    finally:
        conn.close()
    if (expected is not None and counts != expected) or (op_counter is not None and counter != op_counter):
        raise BackupInvalid(_("Cadangan tidak sama dengan data yang dicadangkan; berkas tidak dipakai."))
    return BackupInfo(path, counts, counter, is_encrypted(path))


def write_backup(db: Database, out: Path) -> BackupInfo:
    """Write a verified backup of the open database ``db`` to ``out`` (replaced only when the new
    file verifies). One read snapshot, so the app may keep working meanwhile. An encrypted
    database is exported with its own key (an attached database without ``KEY`` takes the main
    one's): the backup opens with the same passphrase, and no passphrase is needed here."""
    db_path = Path(db.execute("PRAGMA database_list").fetchone()[2]).resolve()
    if (restored_marker(db) or {}).get("device_id"):
        # Its ops made since the restore get their final numbers only when the first sync
        # compares with HQ; a copy taken before that could not tell them apart later.
        raise KnownError(_("Data ini dipulihkan dari cadangan dan belum disinkronkan. Sinkronkan dulu, lalu buat"
                           " cadangan baru. (Berkas cadangan yang tadi dipulihkan tetap bisa dipakai.)"))
    # The lineage id goes into the backup: a restored copy and this one name the same op numbering
    # to HQ (``sync_restore``), even if neither has logged in yet.
    ensure_lineage(db)
    out = out.expanduser().resolve()
    if out.parent == db_path.parent and out.name.startswith(db_path.name):
        raise KnownError(_("Simpan cadangan di luar folder data (misalnya di flashdisk)."))
    if not out.parent.is_dir():
        raise KnownError(_("Folder tujuan tidak ada: {path}", path=out.parent))
    tmp = out.with_name(out.name + _WRITING_SUFFIX)
    tmp.unlink(missing_ok=True)
    encrypted = is_encrypted(db_path)
    try:
        if encrypted:
            expected, counter = _export_encrypted(db.conn, tmp)
        else:
            expected, counter = _export_plain(db.conn, tmp)
        _crash_point("backup_written")
        info = _verify_written(db.conn, tmp, encrypted, expected, counter)
        _replace_durably(tmp, out)
    except OSError as exc:
        raise KnownError(_("Cadangan tidak bisa ditulis: {reason}", reason=exc.strerror or exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(out, info.counts, info.op_counter, info.encrypted)


def _replace_durably(tmp: Path, target: Path) -> None:
    """``tmp`` on disk, then atomically in ``target``'s place, and the rename itself on disk."""
    _fsync(tmp)
    os.replace(tmp, target)
    _fsync(target.parent)


def _export_encrypted(conn: Any, tmp: Path) -> tuple[dict[str, int], int]:
    if conn.in_transaction:
        raise KnownError(_("Basis data sedang menulis; coba cadangkan lagi sebentar lagi."))
    conn.execute("ATTACH DATABASE ? AS backup", [str(tmp)])
    try:
        conn.execute("BEGIN")  # one read snapshot for the counts and the export
        try:
            expected, counter = _table_counts(conn), _op_counter(conn)
            conn.execute("SELECT sqlcipher_export('backup')")
            conn.execute("PRAGMA backup.user_version = " + str(conn.execute("PRAGMA user_version").fetchone()[0]))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("DETACH DATABASE backup")
    return expected, counter


def _export_plain(conn: Any, tmp: Path) -> tuple[dict[str, int], int]:
    target = sqlite3.connect(str(tmp))
    try:
        conn.backup(target)  # the online backup API: one consistent copy
        target.commit()
        expected, counter = _table_counts(target), _op_counter(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target.close()
    return expected, counter


def _verify_written(conn: Any, tmp: Path, encrypted: bool, expected: dict[str, int], counter: int) -> BackupInfo:
    """The new file opens (with the database's key), passes ``integrity_check`` and holds the same
    rows and op counter as the snapshot it was written from."""
    if not encrypted:
        return inspect_file(tmp, None, expected=expected, op_counter=counter)
    if not is_encrypted(tmp):
        raise BackupInvalid(_("Cadangan tidak terenkripsi; berkas tidak dipakai."))
    conn.execute("ATTACH DATABASE ? AS written", [str(tmp)])
    try:
        ok = [r[0] for r in conn.execute("PRAGMA written.integrity_check").fetchall()] == ["ok"]
        names = [r[0] for r in conn.execute(
            "SELECT name FROM written.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'household_search_%'")]
        counts = {n: conn.execute(f'SELECT count(*) FROM written."{n}"').fetchone()[0] for n in names}
        row = conn.execute("SELECT seq FROM written.sqlite_sequence WHERE name = 'sync_outbox'").fetchone()
        written_counter = max(int(row[0]) if row else 0, *(int(conn.execute(
            f"SELECT coalesce(max(op_seq), 0) FROM written.{t}").fetchone()[0]) for t in ("sync_outbox", "sync_journal")))
    finally:
        conn.execute("DETACH DATABASE written")
    if not ok or counts != expected or written_counter != counter:
        raise BackupInvalid(_("Cadangan tidak sama dengan data yang dicadangkan; berkas tidak dipakai."))
    return BackupInfo(tmp, counts, written_counter, True)


def stage_restore(db_path: Path, backup: Path, passphrase: str | None) -> BackupInfo:
    """Check ``backup`` and put a verified, restore-marked copy beside the database; the current
    database is not touched (``apply_pending_restore`` swaps them)."""
    info = inspect_file(backup, passphrase)
    pending = db_path.with_name(db_path.name + PENDING_SUFFIX)
    tmp = pending.with_name(pending.name + _WRITING_SUFFIX)
    tmp.unlink(missing_ok=True)
    try:
        shutil.copyfile(backup, tmp)
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        conn = _open_file(tmp, passphrase)
        try:
            _mark_restored(conn)
        finally:
            conn.close()
        staged = inspect_file(tmp, passphrase)
        if {k: v for k, v in staged.counts.items() if k != "sync_state"} != \
                {k: v for k, v in info.counts.items() if k != "sync_state"}:
            raise BackupInvalid(_("Salinan cadangan tidak sama dengan berkasnya; data lama tidak diubah."))
        _replace_durably(tmp, pending)
    except OSError as exc:
        raise KnownError(_("Cadangan tidak bisa disalin: {reason}", reason=exc.strerror or exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return info


def _mark_restored(conn: Any) -> None:
    """Tell the sync engine this database went back in time (``sync_restore.reconcile_restore``)."""
    import json

    row = conn.execute("SELECT value FROM sync_state WHERE key = 'device_id'").fetchone()
    earlier = conn.execute("SELECT value FROM sync_state WHERE key = ?", [K_RESTORED]).fetchone()
    conn.execute("DELETE FROM sync_state WHERE key = ?", [K_RESTORED])
    # Also without a device (a backup from before the first login): the lost copy may have sent
    # the backup's ops since, under a device of the same lineage (``services.succession``).
    device = json.loads(row[0]) if row is not None and row[0] is not None else None
    allocated = _op_counter(conn)
    previous = json.loads(earlier[0]) if earlier and earlier[0] else None
    if isinstance(previous, dict) and previous.get("device_id") == (device or None):
        # a copy of a restore never reconciled: only ops up to the first restore point are the lineage's
        allocated = min(allocated, int(previous.get("allocated", 0)))
    marker = {"device_id": device or None, "allocated": allocated}
    conn.execute("INSERT INTO sync_state (key, value) VALUES (?, ?)", [K_RESTORED, json.dumps(marker)])
    conn.commit()
    conn.execute("PRAGMA journal_mode=DELETE")


def apply_pending_restore(db_path: Path) -> bool:
    """Swap a staged, verified restore into place (before the database is opened); the current
    database (with its WAL) becomes ``desmig.db.before-restore``. Safe to repeat after a crash."""
    pending = db_path.with_name(db_path.name + PENDING_SUFFIX)
    if not pending.exists():
        return False
    before = db_path.with_name(db_path.name + BEFORE_SUFFIX)
    if db_path.exists():  # a fresh swap: an older restore's copy makes room
        for suffix in ("", "-wal", "-shm"):
            Path(str(before) + suffix).unlink(missing_ok=True)
        os.replace(db_path, before)
    for suffix in ("-wal", "-shm"):  # after the database: a crash in between leaves them to move here
        src = Path(str(db_path) + suffix)
        if src.exists():
            os.replace(src, Path(str(before) + suffix))
    _fsync(db_path.parent)
    _crash_point("restore_moved_aside")
    os.replace(pending, db_path)
    _fsync(db_path.parent)
    return True
