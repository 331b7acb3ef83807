"""What every subcommand shares: its handler's shape and opening the local database."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths

if TYPE_CHECKING:
    from sqlite_utils import Database

Handler = Callable[[argparse.Namespace, Paths], int]


def open_store(paths: Paths) -> Database:
    """Open the local DB; the passphrase comes from ``DESMIG_PASSPHRASE`` or, on a terminal, a prompt."""
    from desmig_desktop.services.backup import apply_pending
    from desmig_desktop.services.database import PASSPHRASE_ENV, PassphraseRequired, needs_new_passphrase, open_local

    apply_pending(paths)  # a restore staged from the GUI's menu, swapped in before anything opens the database
    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    try:
        return open_local(paths, passphrase)
    except PassphraseRequired:
        if passphrase is not None or not sys.stdin.isatty():
            raise
    creating = needs_new_passphrase(paths)
    passphrase = getpass.getpass(_("Kata sandi basis data: "))
    if creating and getpass.getpass(_("Ulangi kata sandi: ")) != passphrase:
        raise KnownError(_("Kedua kata sandi tidak sama."))
    return open_local(paths, passphrase)
