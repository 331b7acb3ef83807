"""Screenshots of the household editor's phone and location fields (issue 20 §5, §7) at the X screen's size.

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_location_screenshots.py [DATA_DIR]
    xvfb-run -s "-screen 0 1024x600x24" .venv/bin/python docs/screenshots/make_location_screenshots.py [DATA_DIR]

A throwaway data dir, no demo data. There is no GPS under Xvfb: "Ambil lokasi" answers from a
stand-in position source (one fix; then, for the second picture, no location service at all).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.location import Fix, PositionSource, no_source_message
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.taskman import TaskManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_screenshots import screen_size, settle, shot, type_text

VILLAGE = "33.01.01.2001"  # Cilacap, Jawa Tengah


class StandIn(PositionSource):
    def __init__(self, parent: QObject | None, fix: Fix | None) -> None:
        super().__init__(parent)
        self.fix = fix

    def request(self) -> None:
        if self.fix is None:
            QTimer.singleShot(300, lambda: self.failed.emit(no_source_message()))
        else:
            QTimer.singleShot(300, lambda: self.found.emit(self.fix))


def main(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    paths = Paths(data_dir).ensure()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    open_db = database_factory(paths)
    db = open_db()
    settings.put(db, "officer_name", "Siti Aminah")
    settings.put(db, "villages", [VILLAGE])
    set_language("id")
    tasks = TaskManager(open_db)
    window = MainWindow(AppContext(db, paths, tasks))
    width, height = screen_size()
    window.setGeometry(0, 0, width, height - 28)
    window.show()
    settle(600)

    editor = window.new_household()
    form = editor.form
    type_text(form.editors["hamlet"].focus_widget, "Dusun Krajan")
    type_text(form.editors["head_name"].focus_widget, "Rina Marlina")  # No. HP left empty: its placeholder shows
    editor.location.make_source = lambda parent: StandIn(parent, Fix(-7.6712345, 109.0123456, 8.0,
                                                                     "2026-03-02T02:14:00Z"))
    editor.location.button.setFocus()
    QTest.keyClick(editor.location.button, Qt.Key.Key_Return)
    settle(800)
    shot("editor_location")

    other = window.new_household()
    type_text(other.form.editors["head_name"].focus_widget, "Darto")
    type_text(other.form.editors["phone"].focus_widget, "+852 9123 4567")
    other.location.make_source = lambda parent: StandIn(parent, None)
    other.location.button.setFocus()
    QTest.keyClick(other.location.button, Qt.Key.Key_Return)
    settle(800)
    shot("editor_location_unavailable")

    for tab in list(window.editors()):
        tab.dirty = False
        window.close_editor(tab, ask=False)
    window.close()
    tasks.shutdown()
    db.close()
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/desmig-location-screenshots"))
