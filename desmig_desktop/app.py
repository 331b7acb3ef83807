"""Composition root: paths → database → services → main window and its parts.

Nothing else opens connections or reads global paths. The GUI thread gets one connection; the
task manager opens one per background job (a connection belongs to the thread that opened it),
both from the same factory. The main window's parts (sync, the update banner) are fitted here,
explicitly (``window_parts``): no module adds anything by being imported. Qt is imported only
inside ``desmig_desktop.ui``, and only when the GUI starts (the CLI imports this module).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.profiles import ProfileHome
from desmig_desktop.services.update_install import UpdateConfig

if TYPE_CHECKING:
    from desmig_desktop.services.handle import Database
    from desmig_desktop.ui.context import AppContext
    from desmig_desktop.ui.main_window import MainWindow
    from desmig_desktop.ui.shell import FitParts, WindowParts


def database_factory(paths: Paths, passphrase: str | None = None) -> Callable[[], Database]:
    """A function opening (and migrating) the local database; ``KnownError`` when it cannot.

    With ``passphrase`` the database is SQLCipher-encrypted (see ``store.db.connect``); the
    passphrase lives only in this closure, never in settings or logs.
    """

    def open_db() -> Database:
        from desmig_desktop.services.database import open_local

        try:
            return open_local(paths, passphrase)
        except KnownError:
            raise  # wrong or missing passphrase: already in words an officer understands
        except Exception as exc:  # sqlite3.DatabaseError and OSError both mean "cannot open"
            raise KnownError(_("Basis data tidak bisa dibuka: {reason}", reason=exc)) from exc

    return open_db


def update_config() -> UpdateConfig:
    """How this app updates itself: the key built into it, and the install root of a bundle.

    Only a bundle (PyInstaller sets ``sys.frozen``) can replace itself; a developer's run has
    no install root and is only told of updates. Tests pass their own ``UpdateConfig`` to
    ``cli.main`` instead (their key and folder), never through the environment.
    """
    from desmig_desktop import __version__
    from desmig_desktop.services.update_install import install_root
    from desmig_desktop.services.update_key import built_in_key

    root = install_root(Path(sys.executable)) if getattr(sys, "frozen", False) else None
    return UpdateConfig(root, __version__, built_in_key())


def window_parts(ctx: AppContext) -> FitParts:
    """The opened profile's sync part and update banner, fitted into each of its main windows.

    One ``SyncController`` per profile, owned by its task manager: it outlives a main window
    rebuilt for a language switch (keeping its backoff) and goes when the profile closes. Each
    window gets the sync menu, status indicator and inbox, then the banner, which looks again
    after every sync cycle (the server's hello announces releases).
    """
    from desmig_desktop.ui.sync.controller import SyncController
    from desmig_desktop.ui.sync.extension import install_sync
    from desmig_desktop.ui.update_banner import install_update_banner

    controller = SyncController(ctx)

    def fit(window: MainWindow) -> None:
        install_sync(window, ctx, controller)
        install_update_banner(window, ctx, controller)

    return fit


def run_gui(paths: Paths, qt_args: list[str], *, profiles: ProfileHome | None = None, chosen: bool = False,
            on_list_painted: Callable[[int], None] | None = None, training: bool = False,
            updates: UpdateConfig | None = None, parts: WindowParts | None = None) -> int:
    """Open the officer's app (``desmig`` / ``desmig gui [--training]``); returns the exit code.

    ``paths`` is the data dir to open (``--data-dir``, ``--profile`` or the home's default profile).
    ``profiles`` (None with ``--data-dir``) lets the officer choose and switch between the laptop's
    profiles, each opened with its own database factory; ``chosen``: ``--profile`` named one.
    ``on_list_painted``: see ``ui.shell.run`` (the bundle smoke test's ``--smoke-exit``).
    ``updates``: how this app updates itself (``update_config``; tests pass their own).
    ``parts``: what each main window gets besides itself (``window_parts``; the UI bench adds a probe).
    """
    from desmig_desktop.ui.shell import run

    paths.ensure()
    return run(paths, lambda where: (lambda passphrase: database_factory(where, passphrase)), qt_args,
               passphrase=os.environ.get("DESMIG_PASSPHRASE") or None, profiles=profiles, chosen=chosen,
               on_list_painted=on_list_painted, training=training, updates=updates,
               parts=window_parts if parts is None else parts)
