"""Keyboard-only entry of one household (3 members, a placement, a business), counted and timed.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.keyboard_entry --label after [--runs 5]

Run by hand (issue 20: "the time a scripted keyboard-only entry takes, before and after"). It
drives the real ``MainWindow`` with key events only — ``QTest`` key clicks sent where a keyboard
sends them (the focused widget, or the open drop-down list) — and never calls a widget method to
change anything: Ctrl+N, typing, Tab between fields, letters to choose in a list, Ctrl+S.

To reach an "add" button it uses what the version at hand offers: the window's shortcut
(Ctrl+Shift+A/P/U) when it has one; otherwise Tab or Shift+Tab presses until the button has the
focus, then Space (Enter did nothing on a button before issue 20). The direction is the shorter
one that does not pass through a table with rows where Tab moves between cells (such a table
keeps the focus forever; the step is reported impossible if no direction avoids one).

Reported per run: key presses (each key or chord once; typed text counts its characters), the
presses spent only on reaching buttons, the wall time of the whole entry (key events are sent
with no delay, so this is the app's own cost, not a typist's; the pauses before choosing in a
list by its first letters, which Qt needs to start a new search, are left out), and the records stored, which must
be exactly 1 household, 3 members, 1 placement, 1 business. Writes
``bench/results/keyboard_entry-<label>-<UTC time>.json`` and ``.md``. Run against the code on
``PYTHONPATH``, so the same script measures an older checkout too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QWidget

RESULTS = Path(__file__).resolve().parent / "results"
VILLAGE = "32.01.05.2001"  # Cijayanti, Babakan Madang, Kabupaten Bogor
NONE = Qt.KeyboardModifier.NoModifier
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


class Impossible(Exception):
    """A step the keyboard cannot do in this version."""


class Keyboard:
    """Sends keys where a keyboard would and counts them."""

    def __init__(self) -> None:
        self.presses = 0
        self.navigation = 0  # presses spent only on reaching a button
        self.waited = 0.0  # seconds spent waiting out the type-ahead interval (not counted as the app's time)

    @staticmethod
    def target() -> QWidget:
        widget = QApplication.activePopupWidget() or QApplication.focusWidget()
        if widget is None:
            raise Impossible("no widget has the keyboard focus")
        return widget

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier = NONE) -> None:
        QTest.keyClick(self.target(), key, modifiers)
        self.presses += 1

    def type(self, text: str) -> None:
        target = self.target()
        if isinstance(target, QComboBox):  # letters choose in a list: a new search needs a pause, as a typist makes
            started = time.perf_counter()
            QTest.qWait(QApplication.keyboardInputInterval() + 20)
            self.waited += time.perf_counter() - started
        QTest.keyClicks(target, text)
        self.presses += len(text)

    def tab_to(self, widget: QWidget, limit: int = 80) -> int:
        """Tab (or Shift+Tab) until ``widget`` has the focus; returns the presses."""
        if QApplication.focusWidget() is widget:
            return 0
        back = _direction(widget)
        used = 0
        while QApplication.focusWidget() is not widget:
            before = QApplication.focusWidget()
            self.key(Qt.Key.Key_Backtab if back else Qt.Key.Key_Tab, SHIFT if back else NONE)
            used += 1
            if QApplication.focusWidget() is before or used > limit:
                raise Impossible(f"{widget.objectName() or type(widget).__name__}: the focus stays in "
                                 f"{type(before).__name__} after {used} presses")
        return used


def _passes(widget: QWidget) -> bool:
    return bool(widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus)


def _traps(widget: QWidget) -> bool:
    return (isinstance(widget, QAbstractItemView) and widget.tabKeyNavigation() and widget.model() is not None
            and widget.model().rowCount() > 0)


def _direction(target: QWidget) -> bool:
    """True for Shift+Tab: the shorter way along the focus chain that meets no trapping table."""
    start = QApplication.focusWidget()
    if start is None:
        raise Impossible("no widget has the keyboard focus")

    def distance(step: str) -> int | None:
        widget, count = start, 0
        for _ in range(2000):
            widget = getattr(widget, step)()
            if widget is start:
                return None
            if not _passes(widget):
                continue
            count += 1
            if widget is target:
                return count
            if _traps(widget):
                return None
        return None

    forward, backward = distance("nextInFocusChain"), distance("previousInFocusChain")
    if forward is None and backward is None:
        raise Impossible(f"{target.objectName()}: every way there passes a table that keeps the focus")
    return forward is None or (backward is not None and backward < forward)


SCENARIOS = {
    "grouped": "members 1–3, then the PMI's (third member's) placement, then the business",
    "paper": "member 1, the PMI with her placement right after her, member 3, then the business",
}


def enter_household(window: Any, kb: Keyboard, scenario: str, ways: dict[str, list[str]]) -> None:
    """One household by keyboard only; ``ways`` gets which way each "add" was reached."""
    from PySide6.QtGui import QKeySequence

    shortcuts = {a.shortcut().toString(QKeySequence.SequenceFormat.PortableText) for a in window.actions()}

    def field(form: Any, key: str) -> None:
        kb.tab_to(form.editors[key].focus_widget)

    def add(section: Any, chord: str, letter: Qt.Key) -> None:
        if chord in shortcuts:
            kb.key(letter, CTRL | SHIFT)
            ways.setdefault(section.spec.name, []).append(chord)
        else:
            used = kb.tab_to(section.add_button)
            kb.navigation += used
            kb.key(Qt.Key.Key_Space)
            kb.navigation += 1
            ways.setdefault(section.spec.name, []).append(f"{used} × Tab + Space")
        if QApplication.focusWidget() is not section.form.first_field():
            raise Impossible(f"adding a {section.spec.name} row leaves the cursor elsewhere")

    kb.key(Qt.Key.Key_N, CTRL)
    editor = window.current_editor()
    form = editor.form  # the village is filled in (the list's village); the cursor is in Dusun
    kb.type("Krajan")
    for key, text in (("rt", "3"), ("rw", "5"), ("address", "Jl. Melati 4"), ("kk_number", "3201051203090004"),
                      ("head_name", "Slamet Riyadi"), ("phone", "081234567890")):
        field(form, key)
        kb.type(text)
    field(form, "consent")
    kb.type("Ya")

    members = editor.members.members
    placements = editor.members.placements
    people = [  # (NIK, name or None to keep the head's, sex, birth date, relationship, migration status)
        ("3201051203750001", None, "Laki", "12031975", "", "Bukan"),
        ("3201055506800002", "Siti Aminah", "Per", "15061980", "Suami", "Bukan"),
        ("3201054408000003", "Dewi Lestari", "Per", "04082000", "Anak", "PMI"),  # no space: Space opens a list
    ]
    if scenario == "paper":  # the PMI second, her placement typed right after her, then the third member
        people[1], people[2] = people[2], people[1]
    for nik, name, sex, born, relationship, status in people:
        add(members, "Ctrl+Shift+A", Qt.Key.Key_A)
        mform = members.form
        kb.type(nik)
        if name:
            field(mform, "name")
            kb.type(name)
        field(mform, "sex")
        kb.type(sex)
        field(mform, "birth_date")
        kb.type(born)
        if relationship:
            field(mform, "relationship")
            kb.type(relationship)
        field(mform, "migration_status")
        kb.type(status)
        if status == "PMI":
            add(placements, "Ctrl+Shift+P", Qt.Key.Key_P)
            kb.type("Malaysia")
            field(placements.form, "job")
            kb.type("Perk")
            field(placements.form, "departed_on")
            kb.type("01022022")
    businesses = editor.businesses
    add(businesses, "Ctrl+Shift+U", Qt.Key.Key_U)
    kb.type("Slamet")
    field(businesses.form, "name")
    kb.type("Warung Slamet")
    field(businesses.form, "kbli_category")
    kb.type("G")
    field(businesses.form, "capital")
    kb.type("15000000")
    kb.key(Qt.Key.Key_S, CTRL)
    if editor.dirty:
        lines = [editor.issues.list.item(n).text() for n in range(editor.issues.list.count())]
        raise Impossible("the save was refused: " + " | ".join(lines))


def run_once(label: str, work: Path, scenario: str) -> dict[str, Any]:
    from desmig_desktop.app import database_factory
    from desmig_desktop.services.paths import Paths
    from desmig_desktop.store import settings
    from desmig_desktop.store.db import connect
    from desmig_desktop.store.queries import entity_counts
    from desmig_desktop.ui.context import AppContext
    from desmig_desktop.ui.main_window import MainWindow
    from desmig_desktop.ui.taskman import TaskManager

    paths = Paths(work).ensure()
    template = work.parent / "template.db"
    if not template.exists():
        connect(template).close()
    shutil.copyfile(template, paths.database)
    db = connect(paths.database)
    settings.put(db, "officer_name", "Petugas Bench")
    settings.put(db, "villages", [VILLAGE])
    tasks = TaskManager(database_factory(paths))
    window = MainWindow(AppContext(db, paths, tasks), autosave_ms=400)
    window.setGeometry(0, 0, 1366, 740)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    QTest.qWait(50)
    kb = Keyboard()
    ways: dict[str, list[str]] = {}
    started = time.perf_counter()
    try:
        enter_household(window, kb, scenario, ways)
        error = None
    except Impossible as exc:
        error = str(exc)
    seconds = time.perf_counter() - started - kb.waited
    counts = entity_counts(db)
    for editor in window.editors():
        editor.dirty = False
    window.close()
    tasks.shutdown()
    db.close()
    return {"label": label, "scenario": scenario, "seconds": round(seconds, 3), "key_presses": kb.presses,
            "navigation_presses": kb.navigation, "reached_add_by": ways, "impossible": error, "stored": counts,
            "complete": error is None and counts == {"households": 1, "members": 3, "placements": 1, "businesses": 1}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    from desmig_desktop.domain.i18n import set_language

    set_language("id")
    summary: dict[str, Any] = {"label": args.label, "code": os.environ.get("PYTHONPATH", ""),
                               "platform": os.environ.get("QT_QPA_PLATFORM", ""), "python": sys.version.split()[0],
                               "cpus": os.cpu_count(), "scenarios": {}}
    lines = [f"# Keyboard-only entry of one household ({args.label})", "",
             (f"3 members, 1 placement, 1 business; key events only (QTest, no delay), {args.runs} runs per "
             f"scenario, {summary['platform']} platform, {summary['cpus']} CPUs."), "",
             ("| scenario | complete runs | median wall time | key presses | of which to reach add buttons "
             "| add reached by |"), "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="desmig-kb-") as tmp:
        for scenario, story in SCENARIOS.items():
            runs = []
            for n in range(args.runs):
                runs.append(run_once(args.label, Path(tmp) / f"{scenario}{n}", scenario))
                print(json.dumps(runs[-1]), flush=True)
            times = [r["seconds"] for r in runs if r["complete"]]
            first = runs[0]
            median = round(statistics.median(times), 3) if times else None
            summary["scenarios"][scenario] = {"story": story, "runs": runs, "complete_runs": len(times),
                                              "median_seconds": median}
            ways = "; ".join(f"{k}: {', '.join(v)}" for k, v in first["reached_add_by"].items())
            lines.append(f"| {scenario}: {story} | {len(times)}/{args.runs} | "
                         f"{f'{median} s' if median is not None else '—'} | {first['key_presses']} | "
                         f"{first['navigation_presses']} | {ways or '—'} |")
            if first["impossible"]:
                lines.append(f"| | impossible by keyboard: {first['impossible']} (after {first['key_presses']} "
                             "presses) | | | | |")
    app.processEvents()
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    out = RESULTS / f"keyboard_entry-{args.label}-{stamp}"
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.with_suffix(".md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
