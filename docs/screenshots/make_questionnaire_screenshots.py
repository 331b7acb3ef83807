"""Screenshots of a questionnaire version reaching a laptop (issue 16 §3): the status bar's notice
after the sync that applied it, and a new household form asking the published question.

    DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -a -s "-screen 0 1366x768x24" \\
        .venv/bin/python docs/screenshots/make_questionnaire_screenshots.py
    DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -a -s "-screen 0 1024x600x24" \\
        .venv/bin/python docs/screenshots/make_questionnaire_screenshots.py

Version 2 is the README's sample spreadsheet (``resources/questionnaire/example-v2.xlsx``) turned into
a document as ``desmig-hq questionnaire publish`` does; no server: a stand-in sync cycle applies it,
as the real cycle's questionnaire step does, and reports what it changed. Writes
``questionnaire_notice.png`` (one size: the status bar looks the same at any) and
``questionnaire_form[_<W>x<H>].png``. Synthetic demo data in a throwaway data dir.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.domain.ids import new_id, utc_now
from desmig_desktop.domain.questionnaire import bundled
from desmig_desktop.domain.questionnaire_compat import summary
from desmig_desktop.domain.questionnaire_sheet import document_from_sheets
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.sync_service import CycleReport
from desmig_desktop.store import questionnaire_store as qs
from desmig_desktop.store import settings
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.scheduler import BackoffPolicy
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, install_sync
from desmig_desktop.ui.taskman import TaskManager
from desmig_server.questionnaire_cli import _read_xlsx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VILLAGE = "33.01.01.2001"  # Cilacap, Jawa Tengah


def suffix() -> str:
    size = QGuiApplication.primaryScreen().size()
    return "" if (size.width(), size.height()) == (1366, 768) else f"_{size.width()}x{size.height()}"


def version_2() -> dict[str, Any]:
    survey, choices = _read_xlsx(ROOT / "resources" / "questionnaire" / "example-v2.xlsx")
    return document_from_sheets(bundled(), survey, choices)


class Cycle:
    """Stand-in for ``sync_service.run_cycle``: applies version 2 as the questionnaire step does."""

    def __call__(self, db: Any, *, progress: Any, cancel: Any) -> CycleReport:
        applied = qs.apply_document(db, version_2())
        st.put_state(db, st.K_LAST_SUCCESS, utc_now())
        st.put_state(db, st.K_LAST_ERROR, None)
        changes = tuple(sorted(summary(list(applied.changes)).items())) if applied else ()
        return CycleReport(pending_ops=st.pending_count(db), questionnaire_version=applied.version if applied else None,
                           questionnaire_changes=changes)


def main(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    paths = Paths(data_dir).ensure()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    open_db = database_factory(paths)
    db = open_db()
    settings.put(db, "officer_name", "Siti Aminah")
    settings.put(db, "villages", [VILLAGE])
    set_language("id")
    generate_demo(db, 60, villages=[VILLAGE], seed=11)
    for key, value in ((st.K_SERVER_URL, "http://127.0.0.1:9"), (st.K_USERNAME, "siti"), (st.K_DEVICE_ID, new_id()),
                       (st.K_TOKEN, "synthetic"), (st.K_DEVICE_NAME, "laptop-siti")):
        st.put_state(db, key, value)  # what a login leaves behind
    tasks = TaskManager(open_db)
    ctx = AppContext(db, paths, tasks)
    controller = SyncController(ctx, run_cycle=Cycle(), policy=BackoffPolicy(interval_s=3600, after_edit_s=3600))
    controller.scheduler.succeeded(controller._clock())
    window = MainWindow(ctx)
    install_sync(window, ctx, controller)
    size = QGuiApplication.primaryScreen().size()
    window.setGeometry(0, 0, size.width(), size.height() - 28)
    window.show()
    QTest.qWait(600)
    part = window.findChild(SyncWindowPart)
    assert part is not None
    controller.sync_now()
    for _ in range(400):
        if controller.notice and not controller.running:
            break
        QTest.qWait(50)
    assert controller.notice, "no questionnaire notice"
    QTest.qWait(400)
    if suffix() == "":
        bar = window.statusBar()
        bar.grab().save(str(HERE / "questionnaire_notice.png"))
        print("saved questionnaire_notice", controller.notice)

    editor = window.new_household()
    new_keys = [k for k, _w in editor.form.editors.items() if not bundled().entity("households").has(k)]
    assert new_keys, "the new household form does not ask the published question"
    field = editor.form.editors[new_keys[0]]
    editor.page.ensureWidgetVisible(field.widget)
    field.focus_widget.setFocus()
    QTest.qWait(400)
    window.grab().save(str(HERE / f"questionnaire_form{suffix()}.png"))
    print("saved questionnaire_form", new_keys)

    for tab in list(window.editors()):
        window.close_editor(tab, ask=False)
    controller.stop()
    window.close()
    tasks.shutdown()
    db.close()
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/desmig-questionnaire-screenshots"))
