"""Shared pieces of the benchmark suite: result rows, percentiles, machine facts, report writing.

Every figure is printed next to a baseline measured in the same run on the same machine, because
the machines are shared and noisy: the ratio is what carries meaning, not the raw milliseconds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None
    target: str  # human-readable target, e.g. "p95 < 20 ms"
    met: bool | None
    baseline_name: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return round(self.value / self.baseline, 3)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds per call, ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def peak_rss_mb() -> float:
    """This process's peak RSS (MB).

    ``VmHWM`` belongs to the process's own address space; ``ru_maxrss`` would not do for a child
    process, because Linux carries the parent's RSS at fork over the exec into it.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    mem = 0
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) // 1024
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_mb": mem, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform()}


def write_report(rows: list[Row], params: dict[str, Any], suffix: str = "") -> tuple[Path, Path]:
    """Write ``bench/results/<date><suffix>.json`` and a markdown summary beside it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ") + suffix
    data = {"date": dt.datetime.now(dt.UTC).isoformat(), "machine": machine(), "params": params,
            "rows": [r.as_dict() for r in rows]}
    json_path = RESULTS / f"{stem}.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [f"# Benchmark {data['date']}", "", "Machine: " + ", ".join(f"{k} {v}" for k, v in data["machine"].items()),
             "", "Parameters: " + ", ".join(f"{k}={v}" for k, v in params.items()), "",
             "| benchmark | value | baseline (same run) | ratio | target | met | notes |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        base = f"{r.baseline:.2f} {r.unit} ({r.baseline_name})" if r.baseline is not None else "—"
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.name} | {r.value:.2f} {r.unit} | {base} | {r.ratio if r.ratio is not None else '—'} "
                     f"| {r.target} | {met} | {r.note} |")
    md_path = RESULTS / f"{stem}.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, md_path


def show(row: Row) -> None:
    base = f" vs {row.baseline:.2f} ({row.baseline_name})" if row.baseline is not None else ""
    ratio = f" ratio {row.ratio}" if row.ratio is not None else ""
    met = "" if row.met is None else ("  OK" if row.met else "  MISSED")
    print(f"{row.name:<48} {row.value:>10.2f} {row.unit}{base}{ratio}  [{row.target}]{met}", flush=True)


def build_local_db(path: Path, fill: Callable[[Any], None] | None = None) -> Path:
    """A migrated local (laptop) DB at ``path``, filled by ``fill(db)``, built once and atomically:
    written as ``<name>.part``, checkpointed, its WAL files removed, then renamed — so an
    interrupted build never leaves a half-filled file to be reused by ``--keep``."""
    from desmig_desktop.store.db import connect

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    for suffix in ("", "-wal", "-shm"):
        Path(str(part) + suffix).unlink(missing_ok=True)
    db = connect(part)
    if fill is not None:
        fill(db)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    for suffix in ("-wal", "-shm"):
        Path(str(part) + suffix).unlink(missing_ok=True)
    part.replace(path)
    return path
