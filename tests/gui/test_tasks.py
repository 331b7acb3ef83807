"""Long jobs run off the GUI thread with progress; cancel leaves the database unchanged."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gui_helpers import VILLAGE, click

from desmig_desktop.services.status import status
from desmig_desktop.ui import data_menu
from desmig_desktop.ui.import_report import COLUMNS, ImportReportDialog


def snapshot(db: Any) -> dict[str, Any]:
    return {**status(db), "ops": db.execute("SELECT count(*), coalesce(max(op_seq), 0) FROM sync_outbox").fetchone()}


def test_demo_reports_progress_and_cancel_changes_nothing(qtbot: Any, window: Any, db: Any) -> None:
    before = snapshot(db)
    tasks = window.ctx.tasks
    seen: list[tuple[int, int]] = []
    tasks.progressed.connect(lambda done, total: seen.append((done, total)))
    with qtbot.waitSignal(tasks.finished, timeout=30_000) as finished:
        assert data_menu.run_demo(window, 5_000, [VILLAGE], seed=3)
        assert tasks.busy and tasks.dialog is not None and tasks.dialog.isVisible()
        qtbot.waitUntil(lambda: len(seen) >= 2, timeout=20_000)  # at least two batches committed inside the job
        assert tasks.dialog.value() > 0 and tasks.dialog.maximum() == 5_000
        click(qtbot, tasks.dialog.findChild(type(window.list_page.new_button)))  # the "Batal" button
    assert finished.args == ["cancelled"]
    assert seen[0][1] == 5_000 and 0 < seen[-1][0] < 5_000
    assert snapshot(db) == before
    assert "Dibatalkan" in window.statusBar().currentMessage()
    assert not tasks.busy and tasks.dialog is None


def test_demo_completes_in_the_background_and_refreshes_the_list(qtbot: Any, window: Any, db: Any) -> None:
    gui_thread = threading.get_ident()
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000) as finished:
        data_menu.run_demo(window, 60, [VILLAGE], seed=4)
    assert finished.args == ["done"]
    assert threading.get_ident() == gui_thread
    assert status(db)["households"] == 60 and status(db)["pending_ops"] > 60
    assert window.list_page.model.total == 60
    assert "60 rumah tangga contoh dibuat" in window.statusBar().currentMessage()


def test_one_job_at_a_time(qtbot: Any, window: Any, shown_errors: list[str]) -> None:
    tasks = window.ctx.tasks
    with qtbot.waitSignal(tasks.finished, timeout=30_000):
        assert data_menu.run_demo(window, 400, [VILLAGE], seed=5)
        assert not data_menu.run_demo(window, 10, [VILLAGE], seed=6)
        assert shown_errors == ["Masih ada pekerjaan yang berjalan. Tunggu sampai selesai."]
        shown_errors.clear()


def test_export_then_import_round_trip(qtbot: Any, window: Any, db: Any, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000):
        data_menu.run_demo(window, 20, [VILLAGE], seed=7)
    out = tmp_path / "ekspor.jsonl"
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000) as finished:
        data_menu.run_export(window, "jsonl", out, mask=False)
    assert finished.args == ["done"] and out.exists()
    before = snapshot(db)
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000) as finished:
        data_menu.run_import(window, out)
    assert finished.args == ["done"]
    assert snapshot(db) == before  # the same data again changes nothing and queues nothing


def test_a_failed_import_is_shown_once_in_plain_words(qtbot: Any, window: Any, db: Any, tmp_path: Path,
                                                      shown_errors: list[str]) -> None:
    bad = tmp_path / "rusak.jsonl"
    bad.write_text('{"entity": "households", "id": null, "data": {"head_name": "X"}}\nbukan json\n', encoding="utf-8")
    before = snapshot(db)
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000) as finished:
        data_menu.run_import(window, bad)
    assert finished.args == ["failed"]
    dialog = window.findChild(ImportReportDialog)  # the rows at fault in a table, not a message box
    assert dialog is not None and "tidak ada data yang disimpan" in dialog.summary.text()
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, COLUMNS.index("row")).text() == "2"
    assert "Traceback" not in dialog.table.item(0, COLUMNS.index("message")).text()
    assert shown_errors == []
    assert snapshot(db) == before


def test_an_unreadable_file_is_shown_once_in_plain_words(qtbot: Any, window: Any, db: Any, tmp_path: Path,
                                                         shown_errors: list[str]) -> None:
    empty = tmp_path / "kosong.csv"
    empty.write_bytes(b"")
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000) as finished:
        data_menu.run_import(window, empty)
    assert finished.args == ["failed"] and window.findChild(ImportReportDialog) is None
    assert len(shown_errors) == 1 and "kosong" in shown_errors[0] and "Traceback" not in shown_errors[0]
    shown_errors.clear()
