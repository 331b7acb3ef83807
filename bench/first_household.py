"""A new officer's first start: from starting the app on a fresh data dir to the first saved household.

    .venv/bin/python -m bench.first_household [--runs 3] [--ms-per-key 200] [--driver both]

Run by hand (issue 17: "the time a new officer needs from first start to the first saved
household, scripted under Xvfb"). Each run starts the app as a new process on a fresh data dir,
on an X server of the bench's own (Xvfb, 1366×768, no window manager), and drives the real
first-run path with key events only:

* the first-run wizard: language (Bahasa Indonesia, preselected: Enter), the passphrase typed and
  repeated (Enter: the database is created and encrypted, key derivation included), the officer's
  name, one village picked by typing its province, regency, district and village names (Enter at
  each level), Space on "Tambahkan desa ini", Tab to "Mulai" and Space;
* in the main window: Ctrl+N, the head's name and consent typed (village and visit date are
  prefilled: the officer's one village, today), Ctrl+Shift+A and one member who is the head (NIK,
  sex, birth date, migration status), Ctrl+S, until the household and its member are in the
  database as typed.

Two drivers, each run ``--runs`` times (``--driver`` picks one):

* ``bundle-xdotool``: the bundled app ``dist/desmig/desmig`` (``make bundle``) started from a clean
  environment, its keys sent as X events by ``xdotool`` — what an officer does, end to end. The
  driver waits where an officer waits (the wizard to appear, the busy dialog while the database is
  created, the main window) and gives the focus back to a window after a dialog closed, as a
  window manager would. It pauses 300 ms around each Enter in the village picker (its completer
  list is a separate X window that must settle) and 420 ms before typing into a drop-down list
  (Qt's keyboard search interval); those pauses are left out of the machine time.
* ``venv-qt``: the venv's app (``cli.main``, ``desmig --data-dir DIR gui``) driven from inside its
  process by ``bench.keyboard_entry.Keyboard`` (key events sent to the focused widget), stepping
  through the script whenever the wizard's or the window's event loop runs. Deterministic; its Tab
  counts are the ones ``XDO_KEYS`` replays.

Reported per driver: the median wall time from process start (interpreter, imports, Qt, the
database created and keyed) to the household in the database, keys sent with no delay and the
pauses above left out, so the machine's share; the key presses (each key or chord once, typed
text by its characters); the milestones of the median run (seconds from process start, pauses
included); and an estimate for a typist: machine time + presses × ``--ms-per-key`` (an
assumption, 200 ms by default; reading and thinking time not included). Writes
``bench/results/first_household-<UTC time>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "kebun teh di lereng salak"  # synthetic
OFFICER = "Petugas Bench"
VILLAGE_PATH = ("Jawa Barat", "Kabupaten Bogor", "Babakan Madang", "Cijayanti")  # 32.01.05.2001
TIMEOUT = 180.0  # seconds one step may wait for the app (a harness bound, not a measured figure)

Wait = Callable[[], Any]
EXPECTED = {"households": {"village_code": "32.01.05.2001", "head_name": "Slamet Riyadi", "consent": 1},
            "members": {"nik": "3201051203750001", "name": "Slamet Riyadi", "sex": "L", "birth_date": "1975-03-12",
                        "relationship": "kepala", "migration_status": "bukan"}}


def saved(db: Any) -> bool:
    """True once the household and its member are in the database; raises if stored otherwise than typed."""
    rows = {table: list(db.query(f"SELECT * FROM {table}")) for table in EXPECTED}
    if not all(rows.values()):
        return False
    wrong = [f"{table}.{key}" for table, want in EXPECTED.items() for key, value in want.items()
             if [r[key] for r in rows[table]] != [value]]
    if wrong:
        raise AssertionError("stored otherwise than typed: " + ", ".join(wrong))
    return True


# the app process --------------------------------------------------------------------------


def script(kb: Any, marks: dict[str, float], notes: list[str]) -> Generator[Wait, Any, None]:
    """The officer's keys; each ``yield`` waits until the returned condition is truthy (and gets its value)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWizard

    from bench.keyboard_entry import CTRL, SHIFT, Impossible
    from desmig_desktop.ui.main_window import MainWindow
    from desmig_desktop.ui.setup import FirstRunWizard

    def shown(kind: type) -> Wait:
        def find() -> Any:
            for widget in QApplication.topLevelWidgets():
                if isinstance(widget, kind) and widget.isVisible():
                    if not widget.isActiveWindow():
                        widget.activateWindow()  # no window manager under a bare Xvfb
                        return None
                    return widget if QApplication.focusWidget() is not None else None
            return None
        return find

    def focused(widget: Any) -> Wait:
        return lambda: QApplication.focusWidget() is widget or None

    def focus(widget: Any) -> Generator[Wait, Any, None]:
        """Give the focus a moment to settle after a page change, then Tab to ``widget`` if elsewhere."""
        started = time.monotonic()

        def settled() -> bool:
            if not widget.window().isActiveWindow():
                widget.window().activateWindow()  # e.g. after the busy dialog closed, with no window manager
                return False
            return QApplication.focusWidget() is widget or time.monotonic() - started > 0.2
        yield settled
        if QApplication.focusWidget() is None:  # no cursor anywhere: a Tab press to the window takes the first field
            QTest.keyClick(QApplication.activeWindow(), Qt.Key.Key_Tab)
            kb.presses += 1
            notes.append(f"no widget had the focus before {widget.objectName() or type(widget).__name__}: one Tab")
        kb.tab_to(widget)

    wizard = yield shown(FirstRunWizard)
    marks["wizard_shown"] = time.time()
    kb.key(Qt.Key.Key_Return)  # Bahasa Indonesia is chosen already: "Lanjut >"
    chooser = wizard.passphrase_page.chooser
    yield lambda: wizard.currentPage() is wizard.passphrase_page and focused(chooser.first)()
    kb.type(PASSPHRASE)
    kb.key(Qt.Key.Key_Tab)
    kb.type(PASSPHRASE)
    kb.key(Qt.Key.Key_Return)  # the database is created (behind a busy dialog) before the next page
    yield lambda: wizard.currentPage() is wizard.officer_page or None
    marks["database_created"] = time.time()
    yield from focus(wizard.officer_page.name)
    kb.type(OFFICER)
    kb.key(Qt.Key.Key_Return)
    yield lambda: wizard.currentPage() is wizard.villages_page and wizard.villages_page.editor is not None
    editor = wizard.villages_page.editor
    yield from focus(editor.picker.levels[0])
    for level, name in zip(editor.picker.levels, VILLAGE_PATH):
        if QApplication.focusWidget() is not level:
            raise Impossible(f"the cursor is not in the picker's level for {name!r}")
        kb.type(name)
        kb.key(Qt.Key.Key_Return)  # takes the match and moves on
    kb.tab_to(editor.add_button)
    kb.key(Qt.Key.Key_Space)
    if not editor.codes():
        raise Impossible("no village was added")
    kb.tab_to(wizard.button(QWizard.WizardButton.FinishButton))
    kb.key(Qt.Key.Key_Space)  # "Mulai"
    window = yield shown(MainWindow)
    marks["main_window"] = time.time()

    kb.key(Qt.Key.Key_N, CTRL)
    household = window.current_editor()
    form = household.form
    for key, text in (("head_name", "Slamet Riyadi"), ("consent", "Ya")):
        kb.tab_to(form.editors[key].focus_widget)
        kb.type(text)
    members = household.members.members
    kb.key(Qt.Key.Key_A, CTRL | SHIFT)
    if QApplication.focusWidget() is not members.form.first_field():
        raise Impossible("adding a member leaves the cursor elsewhere")
    kb.type("3201051203750001")  # the head's name is kept; relationship: the head (the first member)
    for key, text in (("sex", "Laki"), ("birth_date", "12031975"), ("migration_status", "Bukan")):
        kb.tab_to(members.form.editors[key].focus_widget)
        kb.type(text)
    kb.key(Qt.Key.Key_S, CTRL)
    if household.dirty:
        lines = [household.issues.list.item(n).text() for n in range(household.issues.list.count())]
        raise Impossible("the save was refused: " + " | ".join(lines))
    db = window.ctx.db
    yield lambda: saved(db)
    marks["saved"] = time.time()
    window.close()


def child(data_dir: str) -> None:
    """The app process: the driver's timer, then the app's own ``cli.main`` (returns when the window closes)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from bench.keyboard_entry import Keyboard

    app = QApplication([sys.argv[0]])
    kb = Keyboard()
    marks: dict[str, float] = {}
    notes: list[str] = []
    steps = script(kb, marks, notes)
    state: dict[str, Any] = {"wait": None, "since": time.monotonic(), "busy": False}

    def finish(error: str | None) -> None:
        print("RESULT " + json.dumps({"marks": marks, "key_presses": kb.presses, "waited": kb.waited,
                                      "notes": notes, "error": error}), flush=True)
        if error:
            os._exit(3)  # a modal dialog may be up: do not wait for it

    def tick() -> None:
        if state["busy"]:  # a key is still being handled (e.g. the busy dialog's own event loop)
            return
        value = None
        if state["wait"] is not None:
            value = state["wait"]()
            if not value:
                if time.monotonic() - state["since"] > TIMEOUT:
                    finish(f"timed out waiting after {kb.presses} presses")
                return
        state["busy"] = True
        try:
            state["wait"] = steps.send(value) if state["wait"] is not None else next(steps)
            state["since"] = time.monotonic()
        except StopIteration:
            timer.stop()
            finish(None)
        except Exception as exc:  # noqa: BLE001 - reported as the run's result
            finish(f"{type(exc).__name__}: {exc}")
        finally:
            state["busy"] = False

    timer = QTimer(app)
    timer.timeout.connect(tick)
    timer.start(5)
    from desmig_desktop.cli import main as desmig_main

    code = desmig_main(["--data-dir", data_dir, "gui"])
    app.processEvents()
    sys.exit(code)


# the bundle, driven from outside by xdotool -------------------------------------------------

BUNDLE_EXE = ROOT / "dist" / "desmig" / "desmig"
PICKER_PAUSE = 0.3
COMBO_PAUSE = 0.42  # Qt's keyboard search interval (400 ms) + 20 ms before typing into a drop-down list
# The same keys as ``script`` sends (its Tab counts measured by that driver on this version) as X key
# events, each ``type`` character one press; ("wait", what) marks where the officer waits for the app.
XDO_KEYS: list[tuple[str, str]] = [
    ("key", "Return"), ("type", PASSPHRASE), ("key", "Tab"), ("type", PASSPHRASE), ("key", "Return"),
    ("wait", "database"), ("type", OFFICER), ("key", "Return"),
    *[step for name in VILLAGE_PATH for step in (("type", name), ("pause", ""), ("key", "Return"), ("pause", ""))],
    ("key", "space"), *[("key", "Tab")] * 4, ("key", "space"),
    ("wait", "main window"), ("key", "ctrl+n"), *[("key", "Tab")] * 5, ("type", "Slamet Riyadi"),
    *[("key", "Tab")] * 6, ("combo", "Ya"), ("key", "ctrl+shift+a"), ("type", "3201051203750001"),
    *[("key", "Tab")] * 2, ("combo", "Laki"), *[("key", "Tab")] * 2, ("type", "12031975"),
    *[("key", "Tab")] * 5, ("combo", "Bukan"), ("key", "ctrl+s"), ("wait", "saved"),
]


def xdotool_once(work: Path, display: dict[str, str]) -> dict[str, Any]:
    """The bundled app from a clean environment (``env -i`` style), its keys sent as X events by xdotool."""
    from desmig_desktop.store.db import connect

    data = work / "data"
    (work / "home").mkdir(parents=True)
    xenv = {"DISPLAY": display["DISPLAY"], "PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    def xdo(*args: str) -> str:
        return subprocess.run(["xdotool", *args], env=xenv, capture_output=True, text=True, check=True).stdout

    def until(check: Callable[[], Any], what: str) -> Any:
        limit = time.monotonic() + TIMEOUT
        while not (value := check()):
            if time.monotonic() > limit:
                raise TimeoutError(f"waiting for {what}")
            time.sleep(0.01)
        return value

    def visible(name: str) -> list[str]:
        return subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], env=xenv,
                              capture_output=True, text=True).stdout.split()

    presses, paused, reader_s = 0, 0.0, 0.0
    marks: dict[str, float] = {}
    started = time.time()
    app = subprocess.Popen([str(BUNDLE_EXE), "--data-dir", str(data), "gui"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env={"HOME": str(work / "home"), **xenv,
                                                           "QT_LOGGING_RULES": "*.debug=false"})
    db = None
    try:
        wizard = until(lambda: visible("persiapan pertama"), "the wizard")[0]
        marks["wizard_shown"] = time.time()
        for kind, what in XDO_KEYS:
            if kind == "key":
                xdo("key", what)
                presses += 1
            elif kind == "pause":  # the completer's list opens and closes as separate X windows: let it settle
                time.sleep(PICKER_PAUSE)
                paused += PICKER_PAUSE
            elif kind in ("type", "combo"):
                if kind == "combo":
                    time.sleep(COMBO_PAUSE)
                    paused += COMBO_PAUSE
                xdo("type", "--delay", "0", what)
                presses += len(what)
            elif what == "database":  # the busy dialog took the focus and closed; no window manager gives it back
                until(lambda: xdo("getwindowfocus").strip() != wizard, "the busy dialog")
                until(lambda: not visible("Mohon tunggu"), "the busy dialog to close")
                xdo("windowfocus", "--sync", wizard)
                marks["database_created"] = time.time()
                opened = time.monotonic()  # the bench's own reader, to see the save; its time is not the app's
                db = connect(data / "desmig.db", PASSPHRASE)
                reader_s += time.monotonic() - opened
            elif what == "main window":
                window = until(lambda: visible("Pendataan Rumah Tangga"), "the main window")[0]
                xdo("windowfocus", "--sync", window)
                marks["main_window"] = time.time()
            elif what == "saved":
                assert db is not None
                until(lambda db=db: saved(db), "the household in the database")
                marks["saved"] = time.time()
        error = None
    except (TimeoutError, AssertionError, subprocess.CalledProcessError, IndexError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        if db is not None:
            db.close()
        app.terminate()
        app.wait(timeout=60)
    out = {k: round(v - started, 3) for k, v in marks.items()}
    seconds = round(out["saved"] - paused - reader_s, 3) if "saved" in out and error is None else None
    return {"seconds": seconds, "key_presses": presses, "milestones_s": out, "driver_pauses_s": round(paused, 3),
            "bench_reader_open_s": round(reader_s, 3), "error": error, "complete": seconds is not None}


# the bench --------------------------------------------------------------------------------


def start_xvfb() -> tuple[subprocess.Popen[bytes] | None, dict[str, str]]:
    """An X server for the runs (as ``xvfb-run -s "-screen 0 1366x768x24"``), or the offscreen platform.

    Its display number is one no other X server here holds, neither by lock file nor by abstract
    socket (another container's Xvfb on ``:0`` shares the latter and refuses our clients).
    """
    if shutil.which("Xvfb") is None:
        return None, {"QT_QPA_PLATFORM": "offscreen"}
    taken = Path("/proc/net/unix").read_text(errors="replace") if Path("/proc/net/unix").exists() else ""
    number = next(n for n in range(100 + os.getpid() % 800, 2000)
                  if not Path(f"/tmp/.X{n}-lock").exists() and f"/tmp/.X11-unix/X{n}\n" not in taken)
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                              stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    for _ in range(200):
        if socket.exists():
            break
        time.sleep(0.05)
    return server, {"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{number}"}


def qt_once(work: Path, display: dict[str, str]) -> dict[str, Any]:
    """The app from the venv, driven from inside its process (``script``)."""
    home = work / "home"
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESMIG_", "QT_"))}
    env.update(display, HOME=str(home), PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)),
               QT_LOGGING_RULES="*.debug=false")
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "bench.first_household", "--child", str(work / "data")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}", "complete": False}
    out = json.loads(lines[-1][len("RESULT "):])
    marks = {k: round(v - started, 3) for k, v in out.pop("marks").items()}
    seconds = round(marks["saved"] - out["waited"], 3) if "saved" in marks else None
    return {"seconds": seconds, "key_presses": out["key_presses"], "milestones_s": marks,
            "driver_pauses_s": round(out["waited"], 3), "notes": out["notes"], "error": out["error"],
            "exit_code": proc.returncode, "complete": out["error"] is None and seconds is not None}


DRIVERS = {
    "bundle-xdotool": ("dist/desmig/desmig (clean environment), X key events from xdotool", xdotool_once),
    "venv-qt": ("the venv's app (cli.main), key events from a driver inside the process", qt_once),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ms-per-key", type=int, default=200, help="typing model: milliseconds per key press")
    parser.add_argument("--driver", choices=[*DRIVERS, "both"], default="both")
    parser.add_argument("--child", metavar="DATA_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    drivers = list(DRIVERS) if args.driver == "both" else [args.driver]
    server, display = start_xvfb()
    summary: dict[str, Any] = {"ms_per_key": args.ms_per_key, "platform": display["QT_QPA_PLATFORM"],
                               "python": sys.version.split()[0], "cpus": os.cpu_count(),
                               "code": os.environ.get("PYTHONPATH", str(ROOT)), "drivers": {}}
    lines = ["# A new officer: first start to the first saved household", "",
             ("Fresh data dir; the first-run wizard (language, passphrase typed twice, officer name, one village "
             "typed level by level) then one household (head's name, consent; village and visit date prefilled) "
             f"with one member, the head; key events only, sent with no delay; {args.runs} runs per driver, "
             f"{summary['platform']} platform{' (Xvfb 1366×768, no window manager)' if server else ''}, "
             f"{summary['cpus']} CPUs. Typist estimate = machine time + key presses × {args.ms_per_key} ms "
             "(assumed; no reading or thinking time). The drivers' pauses (bundle: 300 ms around each Enter in "
             "the village picker; both: 420 ms before typing into a drop-down list) are left out of the machine "
             "time; the milestones include them."), "",
             ("| driver | complete runs | median machine time | key presses | typist estimate "
             "| milestones of the median run (s from process start) |"), "|---|---|---|---|---|---|"]
    try:
        for name in drivers:
            story, once = DRIVERS[name]
            if name == "bundle-xdotool" and (server is None or not BUNDLE_EXE.exists() or not shutil.which("xdotool")):
                lines.append(f"| {name} | skipped: needs Xvfb, xdotool and a built bundle (`make bundle`) | | | | |")
                continue
            runs = []
            with tempfile.TemporaryDirectory(prefix="desmig-first-") as tmp:
                for n in range(args.runs):
                    runs.append(once(Path(tmp) / f"run{n}", display))
                    print(json.dumps({"driver": name, **runs[-1]}), flush=True)
            done = sorted((r for r in runs if r["complete"]), key=lambda r: r["seconds"])
            median = round(statistics.median(r["seconds"] for r in done), 2) if done else None
            presses = done[0]["key_presses"] if done else None
            typist = round(median + presses * args.ms_per_key / 1000, 1) if median is not None and presses else None
            summary["drivers"][name] = {"story": story, "runs": runs, "complete_runs": len(done),
                                        "median_seconds": median, "key_presses": presses,
                                        "typist_estimate_seconds": typist}
            milestones = done[len(done) // 2]["milestones_s"] if done else {}
            lines.append(f"| {name}: {story} | {len(done)}/{args.runs} | {f'{median} s' if done else '—'} | "
                         f"{presses or '—'} | {f'{typist} s' if typist else '—'} | "
                         f"{', '.join(f'{k} {v}' for k, v in milestones.items()) or '—'} |")
            lines.extend(f"| | failed run: {r['error']} | | | | |" for r in runs if not r["complete"])
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    out = RESULTS / f"first_household-{stamp}"
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.with_suffix(".md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
