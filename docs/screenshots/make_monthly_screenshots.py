"""Screenshots of the programme's figures on the officer's dashboard for one month (issue 15): the
period chosen at the top, the "Laporan bulanan…" dialog, and every page of the monthly report PDF.

    DESMIG_ALLOW_PLAINTEXT=1 .venv/bin/desmig --data-dir /tmp/dash demo ...   (as make_all.sh does)
    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_monthly_screenshots.py /tmp/dash
    xvfb-run -a -s "-screen 0 1024x600x24" .venv/bin/python docs/screenshots/make_monthly_screenshots.py /tmp/dash

Writes ``dashboard_month[_<W>x<H>].png`` (the dashboard counting last month), and on the 1366×768
screen ``monthly_dialog.png`` and ``monthly_report_pdf-<page>.png`` (pages of last month's report,
rendered with ``pdftoppm``). Works on a copy of the data dir.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
os.environ["DESMIG_ALLOW_PLAINTEXT"] = "1"  # the demo copy is plain

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.domain.report_period import month_period
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.dashboard.monthly import MonthlyReportDialog, month_choices, write_monthly_report
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.taskman import TaskManager

HERE = Path(__file__).resolve().parent
VILLAGES = [f"33.01.01.200{n}" for n in range(1, 8)]  # Kedungreja, Cilacap, Jawa Tengah


def suffix() -> str:
    size = QGuiApplication.primaryScreen().size()
    return "" if (size.width(), size.height()) == (1366, 768) else f"_{size.width()}x{size.height()}"


def main(source: Path) -> None:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    work = Path(tempfile.mkdtemp(prefix="desmig-monthly-shots-"))
    shutil.copytree(source, work / "data")
    set_language("id")
    paths = Paths(work / "data").ensure()
    open_db = database_factory(paths)
    db = open_db()
    settings.put(db, "officer_name", "Siti Aminah")
    settings.put(db, "villages", VILLAGES)
    tasks = TaskManager(open_db)
    window = MainWindow(AppContext(db, paths, tasks))
    size = QGuiApplication.primaryScreen().size()
    window.setGeometry(0, 0, size.width(), size.height() - 28)
    window.show()
    window.tabs.setCurrentWidget(window.dashboard)
    page = window.dashboard
    month = month_choices(dt.date.today())[0]  # last month, as the dialog offers first
    page.set_period(month_period(month))
    for _ in range(200):
        if (page.level, page.prefix, page.period) in page._cache and page._running is None:
            break
        QTest.qWait(100)
    QTest.qWait(500)
    window.grab().save(str(HERE / f"dashboard_month{suffix()}.png"))
    print("saved dashboard_month", month)

    if suffix() == "":
        def dialog_shot() -> None:
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, MonthlyReportDialog)
            QTest.qWait(300)
            geo = dialog.frameGeometry()
            QGuiApplication.primaryScreen().grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height()).save(
                str(HERE / "monthly_dialog.png"))
            print("saved monthly_dialog")
            dialog.reject()

        QTimer.singleShot(500, dialog_shot)
        MonthlyReportDialog(window).exec()
        pdf = work / "laporan-bulanan.pdf"
        write_monthly_report(db, month, pdf)
        for old in HERE.glob("monthly_report_pdf-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(HERE / "monthly_report_pdf")], check=True)
        print("saved", sorted(p.name for p in HERE.glob("monthly_report_pdf-*.png")))

    window.close()
    tasks.shutdown()
    db.close()
    shutil.rmtree(work, ignore_errors=True)
    QTimer.singleShot(0, app.quit)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dash"))
