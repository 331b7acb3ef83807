"""GUI measurements, run by ``bench.ui`` in a child process with ``QT_QPA_PLATFORM=offscreen``.

``start DATA_DIR`` — the real start path (``desmig_desktop.app.run_gui``: QApplication, database,
main window with its sync extension). A window extension (the shell's own seam) watches the
household table: when its viewport has painted with rows in the model, the wall-clock time is
taken; then the view is scrolled to the bottom page by page until the whole list is loaded, and
the process prints one JSON line (painted time, rows, scroll seconds, peak RSS) and exits.

``picker DB SAMPLES`` — the region picker widget: for sample villages, the officer types each
level's name letter by letter (``QTest.keyClick``: text edit → SQL filter → model reset →
completer popup) and picks the match; each keystroke is timed until the event queue is idle.
The same filters are timed as raw SQL for the baseline, and ``find_villages`` (prefix search
over all 83,762 villages) keystroke by keystroke.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import peak_rss_mb


def start(data_dir: str) -> None:
    from PySide6.QtCore import QEvent, QModelIndex, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from desmig_desktop.services.paths import Paths

    state: dict[str, Any] = {}

    def finish() -> None:
        state["rss_after_start_mb"] = state.get("rss_after_start_mb") or peak_rss_mb()
        print(json.dumps(state), flush=True)
        os._exit(0)  # no shutdown work: the measurement is over

    def probe(window: Any, _ctx: Any) -> None:
        page = window.list_page
        table, model = page.table, page.model

        def scroll() -> None:
            state["rss_after_start_mb"] = peak_rss_mb()
            started = time.perf_counter()
            app = QApplication.instance()
            steps = 0
            while model.canFetchMore(QModelIndex()) and steps < 100_000:
                table.scrollToBottom()
                app.processEvents()
                steps += 1
            table.scrollToBottom()
            app.processEvents()
            state.update(scroll_seconds=time.perf_counter() - started, rows_loaded=model.rowCount(),
                         rows_total=model.total, scroll_steps=steps, rss_mb=peak_rss_mb())
            finish()

        def painted() -> None:
            if "painted_at" not in state:
                state.update(painted_at=time.time(), first_rows=model.rowCount(), rows_total=model.total)
                QTimer.singleShot(0, scroll if "--no-scroll" not in sys.argv else finish)

        class PaintWatch(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint and model.rowCount() > 0 and "seen" not in state:
                    state["seen"] = True
                    QTimer.singleShot(0, painted)  # runs once this paint has finished
                return False

        watch = PaintWatch(table.viewport())
        table.viewport().installEventFilter(watch)
        if model.total == 0:  # an empty list paints no rows: the window shown is the end point
            QTimer.singleShot(0, painted)

    from desmig_desktop.app import run_gui, window_parts

    def parts(ctx: Any) -> Callable[[Any], None]:
        fit = window_parts(ctx)

        def fit_and_probe(window: Any) -> None:  # the app's own parts, then the probe
            fit(window)
            probe(window, ctx)

        return fit_and_probe

    run_gui(Paths.resolve(data_dir), [], parts=parts)
    print(json.dumps({"error": "the window closed before the list was painted"}), flush=True)


def picker(db_path: str, samples: int) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from bench.common import p95
    from desmig_desktop.store import regions as region_store
    from desmig_desktop.store.db import connect
    from desmig_desktop.ui.region_picker import RegionPicker

    app = QApplication.instance() or QApplication(["bench"])
    db = connect(db_path)
    rng = random.Random(7)
    codes = [r[0] for r in db.execute("SELECT code FROM regions WHERE level = 4 ORDER BY code")]
    chosen = rng.sample(codes, samples)
    widget = RegionPicker(db)
    widget.resize(900, 200)
    widget.show()
    app.processEvents()
    keystrokes: list[float] = []
    raw: list[float] = []
    raw_sql = ("SELECT code, name, level, parent_code, kind FROM regions WHERE parent_code = ?"
               " AND name LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE, code LIMIT 500")
    raw_top = ("SELECT code, name, level, parent_code, kind FROM regions WHERE parent_code IS NULL AND level = 1"
               " AND name LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE, code LIMIT 500")
    for code in chosen:
        chain = region_store.lineage(db, code)
        widget.set_code(None)
        for level, region in enumerate(chain):
            edit = widget.levels[level]
            edit.setFocus()
            typed = ""
            for char in region.name[:6]:
                typed += char
                begin = time.perf_counter()
                QTest.keyClick(edit, char)
                app.processEvents()
                keystrokes.append((time.perf_counter() - begin) * 1000)
                begin = time.perf_counter()
                if region.parent_code is None:
                    db.execute(raw_top, [f"%{typed}%"]).fetchall()
                else:
                    db.execute(raw_sql, [region.parent_code, f"%{typed}%"]).fetchall()
                raw.append((time.perf_counter() - begin) * 1000)
            edit.completer_.popup().hide()
            edit.set_region(region)  # what Enter on the match does
            app.processEvents()
        if widget.code() != code:
            raise SystemExit(f"picker chose {widget.code()} instead of {code}")
    # Village search by name prefix over the whole country (store.regions.find_villages).
    names = [r[0] for r in db.execute("SELECT name FROM regions WHERE level = 4 ORDER BY random() LIMIT ?",
                                      [samples])]
    search: list[float] = []
    search_raw: list[float] = []
    for name in names:
        for n in range(1, min(6, len(name)) + 1):
            begin = time.perf_counter()
            region_store.find_villages(db, name[:n])
            search.append((time.perf_counter() - begin) * 1000)
            begin = time.perf_counter()
            db.execute("SELECT code FROM regions WHERE level = 4 AND code = ?", [codes[n]]).fetchall()
            search_raw.append((time.perf_counter() - begin) * 1000)
    QTest.keyClick(widget.levels[0], Qt.Key.Key_Escape)
    print(json.dumps({"keystrokes": len(keystrokes), "p95_ms": p95(keystrokes), "raw_p95_ms": p95(raw),
                      "max_ms": max(keystrokes), "search_p95_ms": p95(search), "search_raw_p95_ms": p95(search_raw),
                      "search_keystrokes": len(search), "villages": len(codes)}), flush=True)
    db.conn.close()
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1] == "start":
        start(sys.argv[2])
    elif sys.argv[1] == "picker":
        picker(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]}")
