"""The composition root's window parts: what ``app.window_parts`` makes, the shell fits into every main window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import QCoreApplication, QEvent

from desmig_desktop import __version__
from desmig_desktop.app import window_parts
from desmig_desktop.services.update_install import UpdateConfig
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.shell import Shell
from desmig_desktop.ui.sync.extension import SyncWindowPart
from desmig_desktop.ui.sync.jobs import CycleOutcome
from desmig_desktop.ui.update_banner import UpdateBanner


def test_every_main_window_gets_the_sync_part_and_the_banner(qtbot: Any, ctx: AppContext, tmp_path: Path) -> None:
    """Also the window rebuilt for a language switch, driven by the profile's one sync controller."""
    key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with_updates = AppContext(ctx.db, ctx.paths, ctx.tasks, updates=UpdateConfig(tmp_path / "install", __version__, key))
    shell = Shell(with_updates, parts=window_parts)
    first = shell.show_main(offer_drafts=False)
    part = first.findChild(SyncWindowPart)
    assert part is not None and part.sync_action in first.sync_menu.actions()
    assert isinstance(first.findChild(UpdateBanner), UpdateBanner)
    controller = part.controller
    try:
        shell.rebuild()
        second = shell.window
        assert second is not None and second is not first
        again = second.findChild(SyncWindowPart)
        assert again is not None and again.controller is controller  # its backoff carries over
        assert controller.window() is second
        assert isinstance(second.findChild(UpdateBanner), UpdateBanner)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the first window and its parts are gone
        controller.cycle_finished.emit(CycleOutcome())  # reaches only the live window's parts
    finally:
        controller.stop()
        if shell.window is not None:
            shell.window.close()

