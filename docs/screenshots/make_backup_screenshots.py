"""Re-make ``backup_menu.png`` and ``restore_dialog.png`` (issue 17 §3) under a 1366×768 X server:

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_backup_screenshots.py [DATA_DIR]

A throwaway data dir with synthetic demo data; the whole screen is grabbed (menus are popups).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
os.environ.setdefault("DESMIG_ALLOW_PLAINTEXT", "1")

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication

from desmig_desktop.app import database_factory
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.ui.backup_menu import RestoreDialog
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.taskman import TaskManager
from docs.screenshots.make_screenshots import HERE, VILLAGES, settle, shot, type_text


def main(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    paths = Paths(data_dir).ensure()
    app = QApplication.instance() or QApplication(sys.argv)
    open_db = database_factory(paths)
    db = open_db()
    settings.put(db, "officer_name", "Siti Petugas")
    settings.put(db, "villages", VILLAGES)
    generate_demo(db, 40, villages=VILLAGES, seed=7)
    window = MainWindow(AppContext(db, paths, TaskManager(open_db)))
    window.move(0, 0)
    window.resize(1366, 740)
    window.show()
    settle(600)
    window.file_menu.popup(window.mapToGlobal(QPoint(8, window.menuBar().height())))
    settle(400)
    shot("backup_menu")
    window.file_menu.hide()
    dialog = RestoreDialog(window)
    dialog.show()
    type_text(dialog.path, "/media/siti/FLASHDISK/desmig-siti-20261204-1630.desmig-backup")
    type_text(dialog.passphrase, "rahasia desa")
    dialog.move(window.geometry().center() - dialog.rect().center())
    shot("restore_dialog")
    dialog.close()
    window.close()
    QTimer.singleShot(0, app.quit)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/desmig-backup-shots"))
    print("screenshots in", HERE)
