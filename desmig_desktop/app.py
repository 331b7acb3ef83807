"""Composition root: paths → database → services → main window.

Nothing else opens connections or reads global paths. The GUI thread gets one connection; the
task manager opens one per background job (a connection belongs to the thread that opened it),
both from the same factory. Qt is imported only inside ``desmig_desktop.ui``.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths


def database_factory(paths: Paths, passphrase: str | None = None) -> Callable[[], Any]:
    """A function opening (and migrating) the local database; ``KnownError`` when it cannot.

    With ``passphrase`` the database is SQLCipher-encrypted (see ``store.db.connect``); the
    passphrase lives only in this closure, never in settings or logs.
    """

    def open_db() -> Any:
        from desmig_desktop.services.database import open_local

        try:
            return open_local(paths, passphrase)
        except KnownError:
            raise  # wrong or missing passphrase: already in words an officer understands
        except Exception as exc:  # sqlite3.DatabaseError and OSError both mean "cannot open"
            raise KnownError(_("Basis data tidak bisa dibuka: {reason}", reason=exc)) from exc

    return open_db


def run_gui(paths: Paths, qt_args: list[str]) -> int:
    """Open the officer's app (``desmig`` / ``desmig gui``); returns the exit code."""
    from desmig_desktop.ui.shell import run
    import desmig_desktop.ui.sync.register  # noqa: F401  (sync menu, status and conflicts inbox in the window)

    paths.ensure()
    from desmig_desktop.services.backup import apply_pending

    apply_pending(paths)  # a restore staged from the menu, before anything looks at the database
    return run(paths, lambda passphrase: database_factory(paths, passphrase), qt_args,
               passphrase=os.environ.get("DESMIG_PASSPHRASE") or None)
