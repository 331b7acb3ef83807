"""The task manager's quiet and modal modes (what ``ui/sync/runner.py`` and ``passphrase.run_busy`` did)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desmig_desktop.errors import KnownError
from desmig_desktop.ui.taskman import BusyDialog, TaskManager

WAIT_MS = 20_000


def test_run_modal_returns_the_result_off_the_gui_thread_behind_a_busy_dialog(qtbot: Any, ctx: Any) -> None:
    tasks: TaskManager = ctx.tasks
    seen: dict[str, Any] = {}

    def look() -> None:  # while the job runs: the busy dialog with its text, filling as the job reports
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, BusyDialog) and dialog.bar.maximum() == 4:
            seen.update(text=dialog.label.text(), value=dialog.bar.value(), busy=tasks.busy)
            release.set()
        else:
            QTimer.singleShot(10, look)

    release = threading.Event()

    def job(db: Any, report: Any) -> tuple[int, str]:
        report(3, 4)
        assert release.wait(WAIT_MS / 1000)
        return int(db.execute("SELECT count(*) FROM households").fetchone()[0]), threading.current_thread().name

    QTimer.singleShot(0, look)
    count, thread = tasks.run_modal(job, label="Menyiapkan basis data…")
    assert count == 0 and thread.startswith("desmig-task")
    assert seen == {"text": "Menyiapkan basis data…", "value": 3, "busy": True}
    assert not tasks.busy and QApplication.activeModalWidget() is None


def test_run_modal_raises_the_jobs_error_here_and_frees_the_worker(qtbot: Any, ctx: Any) -> None:
    tasks: TaskManager = ctx.tasks

    def job(db: Any, report: Any) -> None:
        raise KnownError("Disk penuh.")

    with pytest.raises(KnownError, match="Disk penuh"):
        tasks.run_modal(job, label="…")
    assert not tasks.busy
    assert tasks.run_modal(lambda db, report: "lagi", label="…") == "lagi"


def test_quiet_jobs_show_no_dialog_and_wait_their_turn(qtbot: Any, ctx: Any, shown_errors: list[str]) -> None:
    tasks: TaskManager = ctx.tasks
    release = threading.Event()
    events: list[str] = []

    def first(db: Any, report: Any) -> str:
        assert release.wait(WAIT_MS / 1000)
        return "first"

    assert tasks.run_quietly(first, label="sync", on_done=events.append, on_started=lambda: events.append("start 1"))
    assert tasks.busy and tasks.dialog is None
    def queue(n: int) -> bool:
        def job(db: Any, report: Any) -> str:
            return f"job {n}"

        return tasks.run_quietly(job, label=f"job {n}", on_done=events.append,
                                 on_started=lambda: events.append(f"start {n}"))

    assert not queue(2) and not queue(3)  # queued, in order, started only when the one before has ended
    assert not tasks.run(lambda db, report: None, label="ekspor", parent=None, on_done=events.append)
    assert shown_errors == ["Masih ada pekerjaan yang berjalan. Tunggu sampai selesai."]  # the officer's job: said
    shown_errors.clear()
    assert events == ["start 1"]
    release.set()
    qtbot.waitUntil(lambda: len(events) == 6, timeout=WAIT_MS)
    assert events == ["start 1", "first", "start 2", "job 2", "start 3", "job 3"]
    assert not tasks.busy


def test_queued_quiet_jobs_never_start_after_shutdown(qtbot: Any, ctx: Any) -> None:
    tasks: TaskManager = ctx.tasks
    release = threading.Event()
    started: list[str] = []

    def first(db: Any, report: Any) -> None:
        assert release.wait(WAIT_MS / 1000)

    assert tasks.run_quietly(first, label="sync", on_done=lambda _r: started.append("done 1"))
    assert not tasks.run_quietly(lambda db, report: None, label="later", on_done=lambda _r: started.append("done 2"),
                                 on_started=lambda: started.append("start 2"))
    release.set()
    tasks.shutdown()  # waits for the worker; its result and the queued job are dropped
    QApplication.processEvents()  # the worker's deliveries, posted before shutdown returned
    assert started == []
    assert not tasks.run_quietly(lambda db, report: None, label="after", on_done=lambda _r: started.append("x"))
