"""Re-make the screenshots in this folder (run under a 1366×768 or 1024×600 X server, e.g. Xvfb).

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_screenshots.py [DATA_DIR]
    xvfb-run -s "-screen 0 1024x600x24" .venv/bin/python docs/screenshots/make_screenshots.py [DATA_DIR]

The main window fills the X screen (less a title bar); pictures taken on any screen but 1366×768
are named ``<name>_<width>x<height>.png`` (the wizard's, a fixed-size dialog, only at 1366×768).

Uses a throwaway data dir with synthetic demo data (``desmig demo``); the whole screen is grabbed
so open popups (the region picker's list) are in the picture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.setup import FirstRunWizard
from desmig_desktop.ui.taskman import TaskManager

HERE = Path(__file__).resolve().parent
VILLAGES = ["33.01.01.2001", "33.01.01.2002", "33.01.01.2003"]  # Cilacap, Jawa Tengah


def settle(ms: int = 300) -> None:
    QTest.qWait(ms)


def screen_size() -> tuple[int, int]:
    size = QGuiApplication.primaryScreen().size()
    return size.width(), size.height()


def suffix() -> str:
    width, height = screen_size()
    return "" if (width, height) == (1366, 768) else f"_{width}x{height}"


def shot(name: str, widget: QWidget | None = None) -> None:
    settle()
    if widget is None or not name.startswith("wizard"):
        name += suffix()
    elif suffix():
        return  # the wizard looks the same on every screen
    screen = QGuiApplication.primaryScreen()
    if widget is None:
        image = screen.grabWindow(0)
    else:
        geo = widget.frameGeometry()
        image = screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    image.save(str(HERE / f"{name}.png"))
    print("saved", name)


def type_text(widget: QWidget, text: str) -> None:
    widget.setFocus()
    QTest.keyClicks(widget, text, delay=20)


def main(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    paths = Paths(data_dir).ensure()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    open_db = database_factory(paths)
    db = open_db()

    wizard = FirstRunWizard(db)
    wizard.resize(720, 560)
    wizard.move(60, 40)
    wizard.show()
    settle(500)
    shot("wizard_language", wizard)
    wizard.next()
    type_text(wizard.officer_page.name, "Siti Aminah")
    wizard.next()
    editor = wizard.villages_page.editor
    assert editor is not None
    editor.picker.set_code(VILLAGES[0])
    editor.add_current()
    editor.picker.set_code("33.01.01")
    type_text(editor.picker.levels[3], "ka")
    shot("wizard_villages", wizard)
    QTest.keyClick(editor.picker.levels[3].completer_.popup(), Qt.Key.Key_Escape)
    wizard.accept()
    settings.put(db, "villages", VILLAGES)
    db.close()

    subprocess.run([sys.executable, "-m", "desmig_desktop.cli", "--data-dir", str(data_dir), "demo",
                    "--households", "2000", "--villages", ",".join(VILLAGES), "--seed", "7"], check=True)
    db = open_db()
    set_language("id")
    tasks = TaskManager(open_db)
    window = MainWindow(AppContext(db, paths, tasks))
    width, height = screen_size()
    window.setGeometry(0, 0, width, height - 28)
    window.show()
    settle(600)
    shot("household_list")

    household_id = window.list_page.model.household_id(3)
    household = window.open_household(household_id)
    assert household is not None
    household.members.members.select_row(next((n for n, m in enumerate(household.records.members)
                                               if m.get("migration_status") in ("pmi_aktif", "pmi_purna")), 0))
    settle()
    household.page.verticalScrollBar().setValue(household.page.verticalScrollBar().maximum() // 3)
    shot("household_editor")
    with_business = next(n for n in range(window.list_page.model.rowCount())
                         if window.list_page.model.data(window.list_page.model.index(n, 5)) != "0")
    household = window.open_household(window.list_page.model.household_id(with_business))
    assert household is not None
    settle()
    household.page.verticalScrollBar().setValue(household.page.verticalScrollBar().maximum())
    shot("household_editor_business")

    picker_editor = window.new_household()
    picker = picker_editor.form.editors["village_code"].picker
    picker.levels[0].selectAll()
    type_text(picker.levels[0], "jawa t")
    QTest.keyClick(picker.levels[0].completer_.popup(), Qt.Key.Key_Return)
    picker.levels[1].selectAll()  # the new form starts in the officer's village: typing replaces it, as after Tab
    type_text(picker.levels[1], "cila")
    QTest.keyClick(picker.levels[1].completer_.popup(), Qt.Key.Key_Return)
    picker.levels[2].selectAll()
    type_text(picker.levels[2], "kedung")
    QTest.keyClick(picker.levels[2].completer_.popup(), Qt.Key.Key_Return)
    QTest.keyClick(picker.levels[3], Qt.Key.Key_Down)  # every village of the district
    shot("region_picker")
    QTest.keyClick(picker.levels[3].completer_.popup(), Qt.Key.Key_Escape)
    picker_editor.dirty = False
    window.close_editor(picker_editor, ask=False)

    editor = window.new_household()
    form = editor.form
    type_text(form.editors["kk_number"].focus_widget, "32010512")
    type_text(form.editors["visited_on"].focus_widget, "3102")
    editor.members.members.add_button.click()
    member_form = editor.members.members.form
    type_text(member_form.editors["name"].focus_widget, "Rina Marlina")
    type_text(member_form.editors["nik"].focus_widget, "3301019913900001")
    member_form.editors["sex"].combo.setCurrentIndex(2)
    member_form.editors["migration_status"].combo.setCurrentIndex(3)
    editor.save()
    editor.page.verticalScrollBar().setValue(0)
    shot("editor_errors")

    for tab in list(window.editors()):
        tab.dirty = False
        window.close_editor(tab, ask=False)
    window.close()
    tasks.shutdown()
    db.close()
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/desmig-screenshots"))
