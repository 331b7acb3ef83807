"""GUI benchmarks, each in a child process with ``QT_QPA_PLATFORM=offscreen`` (see ``bench.ui_child``).

* app start to the first painted rows of the household list, timed from just before the child
  process is spawned (interpreter start, imports, database open and migration check, window,
  first page query and paint), with the full DB; baseline: the same start with an empty DB.
* peak RSS of that process after the view has been scrolled to the very last household;
  baseline: the empty-DB start.
* region picker keystrokes (Qt model + completer) and village search by name prefix.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import hq
from bench.common import Row, show
from bench.encrypted import passphrase_env
from bench.sync import open_conn

ROOT = Path(__file__).resolve().parents[1]


def _gui_env(passphrase: str | None = None) -> dict[str, str]:
    """The GUI child's environment; with ``passphrase`` the app opens its encrypted DB with it
    (``DESMIG_PASSPHRASE``, read by ``app.run_gui``) instead of asking."""
    return {**hq.child_env(QT_QPA_PLATFORM="offscreen", QT_LOGGING_RULES="*.debug=false"), **passphrase_env(passphrase)}


def officer_settings(db_path: Path, villages: list[str], passphrase: str | None = None) -> Path:
    """Give the DB (encrypted with ``passphrase``, if given) an officer's settings (name, villages,
    language), so the app starts without the first-run wizard and lists the officer's villages;
    returns ``db_path``."""
    conn = open_conn(db_path, passphrase)
    with conn:
        for key, value in (("officer_name", "Petugas Bench"), ("villages", villages), ("language", "id")):
            conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET"
                         " value = excluded.value", [key, json.dumps(value)])
    conn.close()
    return db_path


def _start_child(data_dir: Path, *extra: str, timeout: float = 1800, passphrase: str | None = None) -> dict[str, Any]:
    spawned = time.time()
    proc = subprocess.run([sys.executable, "-m", "bench.ui_child", "start", str(data_dir), *extra],
                          capture_output=True, text=True, env=_gui_env(passphrase), cwd=ROOT, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"GUI start failed ({proc.returncode}): {proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(lines[-1])
    if "error" in out:
        raise RuntimeError(out["error"])
    out["start_ms"] = (out["painted_at"] - spawned) * 1000
    return out


def start(full: Path, empty: Path, repeat: int = 3, passphrase: str | None = None) -> list[Row]:
    """``full``/``empty``: data dirs whose DBs have an officer's settings (``officer_settings``),
    both encrypted with ``passphrase`` when given (the start then includes the key derivation)."""
    def child(data_dir: Path, *extra: str) -> dict[str, Any]:
        return _start_child(data_dir, *extra, passphrase=passphrase)

    child(full, "--no-scroll")  # warm the OS file cache once, as any second start would be
    starts = [child(full, "--no-scroll")["start_ms"] for _ in range(repeat - 1)]
    base = [child(empty, "--no-scroll")["start_ms"] for _ in range(repeat)]
    scrolled = child(full)
    starts.append(scrolled["start_ms"])
    value, baseline = sorted(starts)[len(starts) // 2], sorted(base)[len(base) // 2]
    rows = [Row("app start to first painted list (offscreen), full DB", value, "ms median", baseline, "< 1,500 ms",
                value < 1500, baseline_name="same start, empty DB",
                note=f"{repeat} starts; {scrolled['first_rows']} rows in the first page of {scrolled['rows_total']}"),
            Row("peak RSS after scrolling the whole list", scrolled["rss_mb"], "MB",
                child(empty)["rss_mb"], "< 250 MB", scrolled["rss_mb"] < 250,
                baseline_name="same start, empty DB",
                note=f"{scrolled['rows_loaded']} of {scrolled['rows_total']} rows loaded in"
                     f" {scrolled['scroll_seconds']:.1f} s; RSS right after start {scrolled['rss_after_start_mb']:.0f} MB")]
    for row in rows:
        show(row)
    return rows


def picker(db_path: Path, samples: int) -> list[Row]:
    proc = subprocess.run([sys.executable, "-m", "bench.ui_child", "picker", str(db_path), str(samples)],
                          capture_output=True, text=True, env=_gui_env(), cwd=ROOT, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"picker bench failed ({proc.returncode}): {proc.stderr[-3000:]}")
    out = json.loads(lines[-1])
    rows = [Row(f"village picker filter keystroke ({out['villages']:,} villages)", out["p95_ms"], "ms p95",
                out["raw_p95_ms"], "p95 < 16 ms", out["p95_ms"] < 16, baseline_name="the same filter as raw SQL",
                note=f"{out['keystrokes']} keystrokes over 4 levels (Qt model + completer popup); max"
                     f" {out['max_ms']:.1f} ms"),
            Row("village search by name prefix (all villages)", out["search_p95_ms"], "ms p95",
                out["search_raw_p95_ms"], "p95 < 16 ms", out["search_p95_ms"] < 16,
                baseline_name="raw indexed SQL lookup", note=f"{out['search_keystrokes']} prefixes")]
    for row in rows:
        show(row)
    return rows
