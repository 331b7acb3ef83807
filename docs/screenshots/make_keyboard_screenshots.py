"""Screenshots of the keyboard-flow screens (issue 20) at the X server's screen size.

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_keyboard_screenshots.py
    xvfb-run -s "-screen 0 1024x600x24" .venv/bin/python docs/screenshots/make_keyboard_screenshots.py

Writes ``first_run_list-<W>x<H>.png`` (the empty list of a new install), ``editor_error_summary-<W>x<H>.png``
(a refused save: the summary has the focus) and ``drafts_chooser-<W>x<H>.png`` (the next start offers
the unsaved forms). Synthetic data in a throwaway data dir; everything is typed with key events.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.store.db import connect
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.taskman import TaskManager

HERE = Path(__file__).resolve().parent
VILLAGE = "33.01.01.2001"  # Cilacap, Jawa Tengah


def shot(name: str) -> None:
    QTest.qWait(400)
    screen = QGuiApplication.primaryScreen()
    size = screen.geometry()
    path = HERE / f"{name}-{size.width()}x{size.height()}.png"
    screen.grabWindow(0).save(str(path))
    print("saved", path.name)


def keys(text: str) -> None:
    QTest.keyClicks(QApplication.focusWidget(), text, delay=5)


def key(k: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(QApplication.activePopupWidget() or QApplication.focusWidget(), k, modifiers)


def window_for(ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx)
    window.setGeometry(QGuiApplication.primaryScreen().availableGeometry())
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    QTest.qWait(300)
    return window


def main(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    paths = Paths(data_dir).ensure()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    db = connect(paths.database)
    settings.put(db, "officer_name", "Siti Aminah")
    settings.put(db, "villages", [VILLAGE])
    set_language("id")
    tasks = TaskManager(database_factory(paths))
    ctx = AppContext(db, paths, tasks)

    window = window_for(ctx)
    shot("first_run_list")

    key(Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    editor = window.current_editor()
    assert editor is not None
    keys("Krajan")
    editor.form.editors["head_name"].focus_widget.setFocus()
    keys("Rina Marlina")
    key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    keys("3301019913900001")  # an impossible birth date in the NIK
    key(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    shot("editor_error_summary")

    for name in ("Wati Rahayu", "Sri Mulyani"):
        key(Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        window.current_editor().form.editors["head_name"].focus_widget.setFocus()
        keys(name)
    window.close()  # the three unsaved forms are kept as drafts
    again = window_for(ctx)
    chooser = again.offer_drafts()
    assert chooser is not None
    QTest.qWaitForWindowExposed(chooser)
    shot("drafts_chooser")
    key(Qt.Key.Key_Escape)
    for form in again.editors():
        form.dirty = False
    again.close()
    tasks.shutdown()
    db.close()
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/desmig-keyboard-screenshots"))
