"""File menu "Cadangkan data…" / "Pulihkan dari cadangan…" (issue 17 §3), driven through the widgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from desmig_desktop.services.backup import restore_pending
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.backup import inspect_file
from desmig_desktop.ui import backup_menu, dialogs


def test_backup_from_the_menu_writes_a_verified_file(qtbot: Any, window: Any, monkeypatch: Any, tmp_path: Path) -> None:
    assert window.new_household is not None  # the window is up
    target = tmp_path / "usb" / "cadangan"
    target.parent.mkdir()
    monkeypatch.setattr(backup_menu, "file_dialog", lambda *a, **k: str(target))
    told: list[str] = []
    monkeypatch.setattr(dialogs, "inform", lambda parent, title, text: told.append(text))
    window.backup_action.trigger()
    qtbot.waitUntil(lambda: bool(told), timeout=20_000)
    written = target.with_name("cadangan.desmig-backup")
    assert written.exists() and str(written) in told[0]
    info = inspect_file(written, None)
    assert info.counts["households"] == window.db.execute("SELECT count(*) FROM households").fetchone()[0]


def test_restore_dialog_checks_the_file_then_closes_the_app(qtbot: Any, window: Any, monkeypatch: Any,
                                                           tmp_path: Path, shown_errors: list[str]) -> None:
    from desmig_desktop.services.backup import create_backup

    with st.immediate(window.db):
        st.put_state(window.db, st.K_DEVICE_ID, "dev-1")
    backup = create_backup(window.db, tmp_path / "lama.desmig-backup").path
    dialog = backup_menu.RestoreDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.accept_button.isEnabled()  # nothing chosen yet
    qtbot.keyClicks(dialog.path, str(tmp_path / "tidak-ada.desmig-backup"))
    assert dialog.accept_button.isEnabled()
    qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)
    path, passphrase = dialog.choice()
    backup_menu.run_restore(window, path, passphrase)
    qtbot.waitUntil(lambda: bool(shown_errors), timeout=20_000)
    assert "tidak ditemukan" in shown_errors.pop()  # refused, and nothing staged
    assert not restore_pending(window.ctx.paths) and window.isVisible()
    told: list[str] = []
    monkeypatch.setattr(dialogs, "inform", lambda parent, title, text: told.append(text))
    backup_menu.run_restore(window, backup, None)
    qtbot.waitUntil(lambda: bool(told), timeout=20_000)
    assert restore_pending(window.ctx.paths)  # swapped in at the next start, not under the running app
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)
