"""Opening the officer's database under the encryption policy.

The local database is SQLCipher-encrypted unless plaintext was chosen explicitly — by the
``DESMIG_ALLOW_PLAINTEXT=1`` environment setting (tests, development) or by the officer in the
settings (stored in ``<data dir>/config.json``, readable before the database is unlocked).
"""

from __future__ import annotations

import json
import os
from typing import Any

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths
from desmig_desktop.store.db import PassphraseRequired, connect, is_encrypted

PLAINTEXT_ENV = "DESMIG_ALLOW_PLAINTEXT"
PASSPHRASE_ENV = "DESMIG_PASSPHRASE"


def _config_path(paths: Paths) -> Any:
    return paths.root / "config.json"


def plaintext_allowed(paths: Paths) -> bool:
    """True only when unencrypted storage was chosen explicitly."""
    if os.environ.get(PLAINTEXT_ENV) == "1":
        return True
    try:
        return json.loads(_config_path(paths).read_text(encoding="utf-8")).get("encryption") == "off"
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


def open_local(paths: Paths, passphrase: str | None = None) -> Any:
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
