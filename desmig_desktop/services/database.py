"""Opening the officer's database under the encryption policy, and its passphrase.

The local database is SQLCipher-encrypted unless plaintext was chosen explicitly — by the
``DESMIG_ALLOW_PLAINTEXT=1`` environment setting (tests, development) or by the officer in the
settings (stored in ``<data dir>/config.json``, readable before the database is unlocked).
``DatabaseOpener`` holds the passphrase of the open profile; the ui asks for it and shows the
waits, nothing more.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths
from desmig_desktop.store.db import PassphraseRequired, WrongPassphrase, change_passphrase, connect, is_encrypted

__all__ = ["MIN_PASSPHRASE_LENGTH", "PASSPHRASE_ENV", "PLAINTEXT_ENV", "DatabaseOpener", "MakeOpener",
           "PassphraseRequired", "WrongPassphrase", "database_encrypted", "database_exists", "needs_new_passphrase",
           "open_local", "passphrase_problem", "plaintext_allowed", "set_plaintext_allowed"]

log = logging.getLogger(__name__)
PLAINTEXT_ENV = "DESMIG_ALLOW_PLAINTEXT"
PASSPHRASE_ENV = "DESMIG_PASSPHRASE"
MIN_PASSPHRASE_LENGTH = 8
# ``make_opener(passphrase)`` returns the function opening (and migrating) that database (``app.database_factory``).
MakeOpener = Callable[[str | None], Callable[[], Database]]


def _config_path(paths: Paths) -> Path:
    return paths.root / "config.json"


def plaintext_allowed(paths: Paths) -> bool:
    """True only when unencrypted storage was chosen explicitly."""
    if os.environ.get(PLAINTEXT_ENV) == "1":
        return True
    try:
        return bool(json.loads(_config_path(paths).read_text(encoding="utf-8")).get("encryption") == "off")
    except (OSError, ValueError, AttributeError):
        return False


def set_plaintext_allowed(paths: Paths, allowed: bool) -> None:
    """Record the officer's explicit choice (written atomically)."""
    paths.ensure()
    tmp = _config_path(paths).with_suffix(".tmp")
    tmp.write_text(json.dumps({"encryption": "off" if allowed else "on"}), encoding="utf-8")
    os.replace(tmp, _config_path(paths))


def needs_new_passphrase(paths: Paths) -> bool:
    """True when the next open must create (or encrypt into) a database with a new passphrase."""
    return not is_encrypted(paths.database) and not plaintext_allowed(paths)


def database_exists(paths: Paths) -> bool:
    """True once the data dir holds a database (an empty file is none: creating it failed early)."""
    return paths.database.exists() and paths.database.stat().st_size > 0


def database_encrypted(paths: Paths) -> bool:
    """True when the data dir's database is SQLCipher-encrypted."""
    return is_encrypted(paths.database)


def open_local(paths: Paths, passphrase: str | None = None) -> Database:
    """Open the local database by the policy; ``PassphraseRequired`` when one must be given."""
    if passphrase:
        return connect(paths.database, passphrase)
    if is_encrypted(paths.database):
        raise PassphraseRequired(_("Basis data terenkripsi; kata sandi diperlukan."))
    if plaintext_allowed(paths):
        try:
            return connect(paths.database)
        except KnownError:
            raise
        except Exception as exc:  # sqlite3.DatabaseError and OSError both mean "cannot open"
            raise KnownError(_("Basis data tidak bisa dibuka: {reason}", reason=exc)) from exc
    raise PassphraseRequired(_("Data harus dienkripsi: tentukan kata sandi (atau isi DESMIG_PASSPHRASE)."))


def passphrase_problem(first: str, second: str) -> str | None:
    """Why a new passphrase typed twice cannot be used, or ``None`` when it can."""
    if len(first) < MIN_PASSPHRASE_LENGTH or not first.strip():
        return _("Kata sandi terlalu pendek: sedikitnya {count} karakter.", count=MIN_PASSPHRASE_LENGTH)
    if first != second:
        return _("Kedua kata sandi tidak sama. Ketik ulang keduanya.")
    return None


class DatabaseOpener:
    """Opens the local database with the current passphrase (``None``: a plain database).

    The GUI thread's connection and every background job's connection come from here, so after a
    passphrase change the next background job already uses the new one. The passphrase lives only
    in this object, never in settings or logs.
    """

    def __init__(self, make_opener: MakeOpener, passphrase: str | None) -> None:
        self._make_opener = make_opener
        self._passphrase = passphrase

    def __call__(self) -> Database:
        return self._make_opener(self._passphrase)()

    @property
    def encrypted(self) -> bool:
        return self._passphrase is not None

    def matches(self, passphrase: str) -> bool:
        return self._passphrase is not None and hmac.compare_digest(passphrase.encode(), self._passphrase.encode())

    def change(self, db: Database, old: str, new: str) -> None:
        """Re-key the open database ``db``; ``KnownError`` (nothing changed) when refused."""
        if not self.encrypted:
            raise KnownError(_("Basis data ini tidak dienkripsi."))
        if not self.matches(old):
            raise WrongPassphrase(_("Kata sandi sekarang salah."))
        problem = passphrase_problem(new, new)
        if problem:
            raise KnownError(problem)
        if new == old:
            raise KnownError(_("Kata sandi baru sama dengan kata sandi sekarang."))
        change_passphrase(db, new)
        self._passphrase = new
        log.info("database passphrase changed")
