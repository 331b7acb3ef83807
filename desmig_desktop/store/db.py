"""Open the local database with the pragmas the design requires, encrypted or not, and migrate it.

Encryption at rest uses SQLCipher (``sqlcipher3``). A plain database opened with a passphrase is
encrypted in place: exported into a temporary file, verified, then atomically renamed over the
old one, so an interruption at any point leaves either the intact plain file or the verified
encrypted one — never a half-written database.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.store.schema import migrations

PLAIN_HEADER = b"SQLite format 3\x00"
_ENCRYPTING_SUFFIX = ".encrypting"
KDF_ITERATIONS = 256_000


class WrongPassphrase(KnownError):
    pass


class PassphraseRequired(KnownError):
    pass


def is_encrypted(path: Path | str) -> bool:
    """True when ``path`` holds data that is not a plain SQLite file (i.e. SQLCipher pages)."""
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return False
    with open(p, "rb") as fh:
        return fh.read(len(PLAIN_HEADER)) != PLAIN_HEADER


@functools.lru_cache(maxsize=8)
def _derive(passphrase: str, salt: bytes) -> str:
    """The raw SQLCipher key for this passphrase and file salt, as ``x'<key><salt>'``.

    Deriving once per process (PBKDF2-HMAC-SHA512, the SQLCipher 4 default strength) and then
    giving SQLCipher the raw key spares every further connection — each background job opens
    its own — the ~0.5 s key derivation.
    """
    key = hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, KDF_ITERATIONS, dklen=32)
    return f"\"x'{key.hex()}{salt.hex()}'\""


def _salt_of(path: Path) -> bytes:
    """The 16-byte salt SQLCipher keeps at the start of an encrypted file; a new one for a new file."""
    if path.exists() and path.stat().st_size >= 16:
        with open(path, "rb") as fh:
            return fh.read(16)
    return os.urandom(16)


def _cipher_connect(path: Path, passphrase: str, salt: bytes | None = None) -> Any:
    import sqlcipher3

    conn = sqlcipher3.connect(str(path), timeout=30)
    conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key must not spray errors on stderr
    conn.execute(f"PRAGMA key = {_derive(passphrase, salt or _salt_of(path))}")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        conn.close()
        raise WrongPassphrase(_("Kata sandi salah, atau berkas basis data rusak.")) from None
    return conn


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _table_counts(conn: Any) -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name NOT LIKE 'household_search_%'")]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _crash_point(name: str) -> None:
    """Test hook: ``DESMIG_CRASH_AT=name`` ends the process here, as a power cut would."""
    if os.environ.get("DESMIG_CRASH_AT") == name:
        os._exit(137)


def encrypt_in_place(path: Path, passphrase: str) -> None:
    """Encrypt the plain database at ``path``; the plain file is replaced only after the copy verifies."""
    import sqlcipher3

    tmp = path.with_name(path.name + _ENCRYPTING_SUFFIX)
    tmp.unlink(missing_ok=True)
    plain = sqlite3.connect(str(path), timeout=30)
    plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    expected = _table_counts(plain)
    plain.close()
    source = sqlcipher3.connect(str(path), timeout=30)
    try:
        salt = os.urandom(16)
        source.execute(f"ATTACH DATABASE ? AS encrypted KEY {_derive(passphrase, salt)}", [str(tmp)])
        source.execute("SELECT sqlcipher_export('encrypted')")
        source.execute("PRAGMA encrypted.user_version = " + str(source.execute("PRAGMA user_version").fetchone()[0]))
        source.commit()
        source.execute("DETACH DATABASE encrypted")
    finally:
        source.close()
    _crash_point("encrypt_exported")
    check = _cipher_connect(tmp, passphrase)
    try:
        if _table_counts(check) != expected or check.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise KnownError(_("Enkripsi basis data gagal diverifikasi; data lama tidak diubah."))
    finally:
        check.close()
    _fsync(tmp)
    _crash_point("encrypt_verified")
    for suffix in ("-wal", "-shm"):  # empty after the checkpoint; they belong to the plain file
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(tmp, path)
    _fsync(path.parent)


def change_passphrase(db: Database, new_passphrase: str) -> None:
    """Re-key an open encrypted database."""
    if not new_passphrase:
        raise KnownError(_("Kata sandi tidak boleh kosong."))
    path = Path(db.execute("PRAGMA database_list").fetchone()[2])
    db.execute(f"PRAGMA rekey = {_derive(new_passphrase, _salt_of(path))}")  # rekey keeps the file's salt


def connect(path: Path | str, passphrase: str | None = None) -> Database:
    """Open (creating if needed) and migrate the local DB. One connection per thread.

    With ``passphrase`` the file is (or becomes) SQLCipher-encrypted; without it the file must
    be plain. ``WrongPassphrase`` / ``PassphraseRequired`` are officer-facing errors.
    """
    path = Path(path)
    Path(str(path) + _ENCRYPTING_SUFFIX).unlink(missing_ok=True)  # an interrupted encryption: plain file intact
    if passphrase is None:
        if is_encrypted(path):
            raise PassphraseRequired(_("Basis data terenkripsi; kata sandi diperlukan."))
        conn: Any = sqlite3.connect(str(path), timeout=30)
    else:
        if not passphrase:
            raise KnownError(_("Kata sandi tidak boleh kosong."))
        if path.exists() and path.stat().st_size > 0 and not is_encrypted(path):
            encrypt_in_place(path, passphrase)
        conn = _cipher_connect(path, passphrase)
    db = Database(conn)
    # WAL: readers never block the writer. FULL: a power cut must not lose the last commits.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=30000")
    migrations.apply(db)
    return db
