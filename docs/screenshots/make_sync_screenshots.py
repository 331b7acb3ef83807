"""Re-make ``sync_status.png`` (the sync indicator: sending, synced, offline) and ``conflicts_inbox.png``.

    DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_sync_screenshots.py

No server: a stand-in sync cycle reports progress, success, then no network; the inbox holds two
values the server's answer says were lost (as a push reply records them) and one refused change.
A throwaway data dir with synthetic demo data. The status bar and the inbox look the same at any
screen size, so one size is taken.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.domain.ids import new_id, utc_now
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.sync_service import CycleReport, ErrorKind, Progress, SyncError
from desmig_desktop.store import records, settings
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.records import Change
from desmig_desktop.store.sync_lost import LostValue
from desmig_desktop.sync.scheduler import BackoffPolicy
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, install_sync
from desmig_desktop.ui.taskman import TaskManager

HERE = Path(__file__).resolve().parent
VILLAGE = "33.01.01.2001"  # Cilacap, Jawa Tengah


class Cycle:
    """Stand-in for ``sync_service.run_cycle``: sending (held until released), else success, else no network."""

    def __init__(self) -> None:
        self.mode = "send"
        self.release = threading.Event()

    def __call__(self, db: Any, *, progress: Any, cancel: Any) -> CycleReport:
        if self.mode == "send":
            progress(Progress("push", 120, 180))
            self.release.wait(20)
        if self.mode != "offline":
            st.put_state(db, st.K_LAST_SUCCESS, utc_now())
            st.put_state(db, st.K_LAST_ERROR, None)
            return CycleReport(pending_ops=st.pending_count(db))
        error = SyncError(ErrorKind.NETWORK, detail="no network")
        st.put_state(db, st.K_LAST_ERROR, {"kind": ErrorKind.NETWORK.value, "message": str(error), "at": utc_now()})
        raise error


def wait_until(condition: Any, ms: int = 20_000) -> None:
    for _ in range(ms // 50):
        if condition():
            return
        QTest.qWait(50)
    raise RuntimeError("the window did not get there")


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
    cycle = Cycle()
    controller = SyncController(ctx, run_cycle=cycle, policy=BackoffPolicy(interval_s=3600, after_edit_s=3600))
    controller.scheduler.succeeded(controller._clock())
    window = MainWindow(ctx)
    install_sync(window, ctx, controller)  # what app.window_parts does for the app
    window.setGeometry(0, 0, 1366, 740)
    window.show()
    QTest.qWait(600)
    part = window.findChild(SyncWindowPart)
    assert part is not None

    strips: list[QImage] = []

    def grab_status() -> None:
        QTest.qWait(400)
        bar = window.statusBar()
        strips.append(bar.grab().toImage().copy(bar.width() - 720, 0, 720, bar.height()))

    controller.sync_now()
    wait_until(lambda: part.indicator.text.text().startswith("Mengirim"))
    grab_status()
    cycle.mode = "ok"
    cycle.release.set()
    wait_until(lambda: part.indicator.text.text().startswith("Tersinkron"))
    grab_status()
    cycle.mode = "offline"
    wait_until(lambda: not controller.running)
    controller.sync_now()
    wait_until(lambda: part.indicator.text.text().startswith("Offline"))
    grab_status()
    height = sum(s.height() for s in strips) + 4 * (len(strips) - 1)
    image = QImage(720, height, QImage.Format.Format_RGB32)
    image.fill(0xB4B4B4)
    painter = QPainter(image)
    y = 0
    for strip in strips:
        painter.drawImage(0, y, strip)
        y += strip.height() + 4
    painter.end()
    image.save(str(HERE / "sync_status.png"))
    print("saved sync_status")

    # Two values of one household lost to an edit made at HQ, one change of another refused.
    households = [r[0] for r in db.execute("SELECT id FROM households ORDER BY head_name LIMIT 2").fetchall()]
    records.apply_changes(db, [Change("households", households[0], {"phone": "085711112222", "address": "Jl. Mawar 1"})])
    records.apply_changes(db, [Change("households", households[1], {"hamlet": "Dusun Baru"})])
    ops = st.take_batch(db, 1_000_000)
    lost = [op for op in ops if op.record_id == households[0]][-1]  # the edit, not the demo creation
    refused = ops[-1]
    theirs = {"phone": "081234567890", "address": "Jl. Kenanga 5, Dusun Krajan"}
    st.apply_ack(db, ops[-1].op_seq, [
        st.OpOutcome(lost.op_seq, "conflict", clashes=(("phone", False), ("address", False)), lost=tuple(
            LostValue(server_id=n, field=f, theirs=v, winner_role="admin", winner_user="pusat", rule="higher_role")
            for n, (f, v) in enumerate(theirs.items(), 1))),
        st.OpOutcome(refused.op_seq, "rejected", reason="hamlet: Dusun tidak dikenal di desa ini"),
        *(st.OpOutcome(op.op_seq, "ok", version=2) for op in ops if op not in (lost, refused))])
    controller.refresh()
    inbox = part.open_inbox()
    inbox.resize(1000, 520)
    inbox.move(40, 40)
    inbox.tabs.setCurrentWidget(inbox.conflicts)
    inbox.show()
    QTest.qWait(700)
    geo = inbox.frameGeometry()
    QGuiApplication.primaryScreen().grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height()).save(
        str(HERE / "conflicts_inbox.png"))
    print("saved conflicts_inbox")
    inbox.close()

    controller.stop()
    window.close()
    tasks.shutdown()
    db.close()
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/desmig-sync-screenshots"))
