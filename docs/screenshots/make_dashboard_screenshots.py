"""Re-make the dashboard, Riwayat, passphrase-wizard, village-PDF, household-PDF, import-report and
demo-data screenshots (issues 6, 7 and 20).

    DESMIG_ALLOW_PLAINTEXT=1 .venv/bin/desmig --data-dir /tmp/dash demo --households 2000 \\
        --villages 33.01.01.2001,33.01.01.2002,33.01.01.2003,33.01.01.2004,33.01.01.2005,33.01.01.2006,33.01.01.2007 \\
        --seed 7
    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_dashboard_screenshots.py /tmp/dash
    xvfb-run -s "-screen 0 1024x600x24" .venv/bin/python docs/screenshots/make_dashboard_screenshots.py /tmp/dash

The X screen's size is the laptop's: the window fills it (less a title bar), and pictures taken on
any screen but 1366×768 are named ``<name>_<width>x<height>.png``. ``make_all.sh`` runs both sizes.
Needs ``pdftoppm`` (Debian ``poppler-utils``) for the PDF pages. Works on a copy of the data dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
os.environ["DESMIG_ALLOW_PLAINTEXT"] = "1"  # the demo copy is plain; the wizard below uses its own dir

from openpyxl import load_workbook
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.exchange import export
from desmig_desktop.services.households import load_household, save_household
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.ui import data_menu, print_menu
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.passphrase import create_database
from desmig_desktop.ui.setup import FirstRunWizard
from desmig_desktop.ui.taskman import TaskManager

HERE = Path(__file__).resolve().parent
VILLAGES = [f"33.01.01.200{n}" for n in range(1, 8)]  # Kedungreja, Cilacap, Jawa Tengah


def settle(ms: int = 400) -> None:
    QTest.qWait(ms)


def screen_size() -> tuple[int, int]:
    size = QGuiApplication.primaryScreen().size()
    return size.width(), size.height()


def suffix() -> str:
    """"" on the reference 1366×768 screen, else ``_<width>x<height>``."""
    width, height = screen_size()
    return "" if (width, height) == (1366, 768) else f"_{width}x{height}"


def shot(name: str, widget: QWidget | None = None) -> None:
    settle()
    name += suffix()
    screen = QGuiApplication.primaryScreen()
    if widget is None:
        image = screen.grabWindow(0)
    else:
        geo = widget.frameGeometry()
        image = screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    image.save(str(HERE / f"{name}.png"))
    print("saved", name)


def wizard_page(root: Path) -> None:
    os.environ.pop("DESMIG_ALLOW_PLAINTEXT", None)
    paths = Paths(root / "new").ensure()
    wizard: FirstRunWizard | None = None
    wizard = FirstRunWizard(None, create_database=lambda pw: create_database(
        paths, lambda p: database_factory(paths, p), pw, wizard))
    wizard.resize(720, 600)
    wizard.move(60, 40)
    wizard.show()
    wizard.next()
    assert wizard.passphrase_page is not None
    chooser = wizard.passphrase_page.chooser
    QTest.keyClicks(chooser.first, "sawah hijau di kedungreja", delay=5)
    QTest.keyClicks(chooser.second, "sawah hijau di kedungreja", delay=5)
    shot("wizard_passphrase", wizard)
    wizard.reject()
    os.environ["DESMIG_ALLOW_PLAINTEXT"] = "1"


def main(source: Path) -> None:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    reference = suffix() == ""
    work = Path(tempfile.mkdtemp(prefix="desmig-shots-"))
    shutil.copytree(source, work / "data")
    set_language("id")
    if reference:
        wizard_page(work)

    paths = Paths(work / "data").ensure()
    open_db = database_factory(paths)
    db = open_db()
    settings.put(db, "officer_name", "Siti Aminah")
    settings.put(db, "villages", VILLAGES)
    tasks = TaskManager(open_db)
    window = MainWindow(AppContext(db, paths, tasks))
    width, height = screen_size()
    window.setGeometry(0, 0, width, height - 28)
    window.show()
    window.tabs.setCurrentWidget(window.dashboard)
    page = window.dashboard
    for _ in range(100):
        if page.report is not None:
            break
        settle(100)
    page.table.selectRow(0)
    shot("dashboard")

    if reference:
        pdf = work / "ringkasan.pdf"
        code = page.model.code(0)
        page.write_village_pdf(code, pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(HERE / "village_summary_pdf")], check=True)
        print("saved village_summary_pdf")

    window.tabs.setCurrentWidget(window.list_page)
    household_id = window.list_page.model.household_id(2)
    graph = load_household(db, household_id)  # two later edits, so the history has more than the creation
    graph.household["hamlet"] = "Dusun Krajan"
    graph.household["rt"] = "004"
    save_household(db, graph, confirm_warnings=True)
    settings.put(db, "officer_name", "Budi Santoso")
    graph = load_household(db, household_id)
    graph.household["visited_on"] = "2025-11-03"
    graph.household["hamlet"] = "Dusun Krajan Kulon"
    save_household(db, graph, confirm_warnings=True)
    editor = window.open_household(household_id)
    assert editor is not None
    editor.show_history()
    window.statusBar().clearMessage()
    shot("riwayat")

    editor.show_form()  # the household record: the print dialog, then page 1 of its PDF
    dialog = print_menu.start_print(window)
    assert dialog is not None
    shot("print_dialog")
    dialog.reject()
    if reference:
        pdf = work / "rumah-tangga.pdf"
        print_menu.print_household(window, household_id, pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(HERE / "household_record_pdf")], check=True)
        print("saved household_record_pdf")

    masked = work / "data-desa.xlsx"  # an export shared with NIKs masked, imported back: refused, row by row
    export(db, "xlsx", masked, mask=True)
    with_problems = load_workbook(masked)
    with_problems.create_sheet("Catatan").append(["Kunjungan ulang minggu depan"])
    with_problems.save(masked)
    done: list[str] = []
    tasks.finished.connect(done.append)
    data_menu.run_import(window, masked)
    while not done:
        settle(100)
    report = window.findChild(QDialog, "import_report")
    assert report is not None
    report.resize(min(900, width - 40), min(460, height - 120))
    report.move(20, 60)
    shot("import_report")
    report.close()

    def demo_shot() -> None:
        demo = QApplication.activeModalWidget()
        assert isinstance(demo, data_menu.DemoDialog) and demo.confirm_word is not None
        QTest.keyClicks(demo.confirm_word, "CONT", delay=5)
        shot("demo_confirm")
        demo.reject()

    QTimer.singleShot(300, demo_shot)
    data_menu.start_demo(window)

    for tab in list(window.editors()):
        window.close_editor(tab, ask=False)
    window.close()
    tasks.shutdown()
    db.close()
    shutil.rmtree(work, ignore_errors=True)
    QTimer.singleShot(0, app.quit)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dash"))
