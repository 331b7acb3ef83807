"""Sync benchmarks against a real ``desmig-hq serve`` on 127.0.0.1: push, pull, no-op and
incremental sync, each with a baseline measured in the same run.

* push — the whole outbox of the demo DB, in a child process (time and peak RSS of that work
  only). Baseline: the server's resulting ``records`` rows inserted with one raw ``executemany``
  into a fresh copy of the same migrated server DB (same kind: SQLite file, WAL, synchronous=FULL).
* pull — every record into a fresh device, in a child process. Baseline: the pulled rows
  inserted with a raw ``executemany`` into a fresh local DB of the same kind.
* no-op sync — a full cycle on the pulled device with nothing new. Baseline: the same cycle on
  a device whose villages (as many) hold no records: equal means the cost does not grow with
  DB size.
* incremental sync — 100 edits saved like form saves, then one full cycle (push 100; no echo
  comes back since issue 21 §1). Baseline: the no-op cycle.
* end to end — ``desmig sync``'s cycle (hello, push, pull, feeds) of the same outbox into
  another fresh server, through a counting (unshaped) proxy: records/s against the push's raw
  executemany baseline, and the bytes it downloads against the bytes it uploads (issue 21: a
  device never downloads its own acknowledged changes).

With ``passphrase`` every device DB (the pushing one, the pulled one, the no-op baseline's) is
SQLCipher-encrypted and opened with it (``bench.encrypted``); the raw baselines stay plain files.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import hq
from bench.common import Row, build_local_db, p95, show
from bench.encrypted import encrypt, passphrase_env
from desmig_desktop.domain.fields import ENTITY_ORDER
from desmig_server.settings import Settings

PETUGAS = "petugas"
KOSONG = "kosong"  # an officer whose villages hold no records


@dataclass
class Measured:
    """What a child process did: records handled, seconds, its own peak RSS."""

    records: int
    seconds: float
    rss_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def run_child(args: list[str], *, timeout: float = 3600, passphrase: str | None = None) -> Measured:
    """Run ``python -m bench.worker ARGS`` (the DB opened with ``passphrase``, None: plain);
    raise with its stderr when it fails."""
    proc = subprocess.run([sys.executable, "-m", "bench.worker", *args], capture_output=True, text=True,
                          env={**hq.child_env(), **passphrase_env(passphrase)}, timeout=timeout,
                          cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise RuntimeError(f"bench.worker {args[0]} failed ({proc.returncode}): {proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measured(int(out["records"]), float(out["seconds"]), float(out["rss_mb"]), out)


def local_template(folder: Path) -> Path:
    """An empty, migrated local DB (regions loaded) in ``folder``: a fresh laptop, copied per device.
    Built once per run (a few seconds), so it always has the current local schema."""
    return build_local_db(folder / "local-template.db")


def fresh_device(template: Path, folder: Path) -> Path:
    """A data dir holding a copy of ``template`` as its ``desmig.db``; returns the DB path."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db = folder / "desmig.db"
    copy_db(template, db)
    return db


def copy_db(source: Path, target: Path) -> None:
    """Copy an SQLite file that may have a WAL beside it (checkpointed first)."""
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copy(source, target)


def open_conn(db_path: Path, passphrase: str | None = None) -> Any:
    """A bare DB-API connection to a local DB, encrypted (``passphrase``) or not."""
    if passphrase is None:
        return sqlite3.connect(db_path)
    from desmig_desktop.store.db import connect

    return connect(db_path, passphrase).conn


def villages_of(db_path: Path, passphrase: str | None = None) -> list[str]:
    conn = open_conn(db_path, passphrase)
    try:
        return [r[0] for r in conn.execute("SELECT DISTINCT village_code FROM households ORDER BY 1")]
    finally:
        conn.close()


def empty_villages(db_path: Path, used: list[str], passphrase: str | None = None) -> list[str]:
    """As many villages as ``used``, none of them holding records."""
    conn = open_conn(db_path, passphrase)
    try:
        codes = [r[0] for r in conn.execute("SELECT code FROM regions WHERE level = 4 AND code LIKE '34.%'"
                                            " ORDER BY code LIMIT ?", [len(used) + 5])]
    finally:
        conn.close()
    return [c for c in codes if c not in used][:len(used)]


def _sqlite_rows(path: Path, sql: str, passphrase: str | None = None) -> sqlite3.Cursor:
    conn = open_conn(path, passphrase)
    cursor: sqlite3.Cursor = conn.execute(sql)
    return cursor


def raw_insert(target: Path, table_rows: list[tuple[str, list[str], sqlite3.Cursor]]) -> tuple[int, float]:
    """Baseline: ``executemany`` the rows of each cursor into ``target`` (one transaction, the
    pragmas of the real DB). Only the inserts are timed, not reading the source."""
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    count, seconds = 0, 0.0
    conn.execute("BEGIN IMMEDIATE")
    for table, columns, cursor in table_rows:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        while True:
            chunk = cursor.fetchmany(20_000)
            if not chunk:
                break
            start = time.perf_counter()
            conn.executemany(sql, chunk)
            seconds += time.perf_counter() - start
            count += len(chunk)
    start = time.perf_counter()
    conn.execute("COMMIT")
    seconds += time.perf_counter() - start
    conn.close()
    return count, seconds


BASELINE_RUNS = 3  # the raw baseline alone moved 55k–90k rows/s between runs; its median is steadier


def median_raw_insert(template: Path, target: Path, sources: Callable[[], list[tuple[str, list[str], sqlite3.Cursor]]],
                      runs: int = BASELINE_RUNS) -> tuple[int, float, str]:
    """``raw_insert`` into a fresh copy of ``template``, ``runs`` times: the (count, seconds) of the
    median run, and every run's rate for the notes."""
    results = []
    for _ in range(runs):
        copy_db(template, target)
        results.append(raw_insert(target, sources()))
    results.sort(key=lambda r: r[0] / r[1])
    count, seconds = results[len(results) // 2]
    return count, seconds, ", ".join(f"{c / s:,.0f}" for c, s in results) + " rows/s"


def _columns(path: Path, table: str, passphrase: str | None = None) -> list[str]:
    conn = open_conn(path, passphrase)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


@dataclass
class SyncResult:
    rows: list[Row]
    push: Measured
    pull: Measured
    pulled_device: Path


def push_pull(work: Path, device_db: Path, *, hq_template: Path, local_tpl: Path, label: str,
              baselines: bool = True, cycles: bool = True, noop_repeat: int = 20,
              edit_rounds: int = 3, passphrase: str | None = None) -> SyncResult:
    """Push ``device_db``'s outbox to a fresh SQLite server, pull it into a fresh device, then the
    no-op and incremental cycles. ``label`` names the data size in the row names. Without
    ``baselines`` the push and pull rows have none (context twins). ``passphrase``: ``device_db``
    is encrypted with it, and so is every device made here."""
    villages = villages_of(device_db, passphrase)
    server = hq.HqServer.sqlite(work / "hq", hq_template)
    hq.add_users(server.db_url, {PETUGAS: ("officer", villages),
                                 KOSONG: ("officer", empty_villages(device_db, villages, passphrase))})
    rows: list[Row] = []
    whole = work / "e2e-device" / device_db.name
    if baselines:  # (before the push drains it) the same outbox, for the end-to-end cycle
        whole.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal"):  # (no writer now: the file and its WAL are one consistent DB, encrypted or not)
            if Path(str(device_db) + suffix).exists():
                shutil.copy(str(device_db) + suffix, str(whole) + suffix)
    with server:
        before = server.cpu_split()
        push = run_child(["push", str(device_db), server.url, PETUGAS], passphrase=passphrase)
        # the serving process's and its push workers' CPU per pushed record, µs
        server_us = tuple(seconds / push.records * 1e6 for seconds in server.cpu_since(before))
        server_records = server.query("SELECT count(*) FROM records")[0][0]
        if server_records != push.records:
            raise RuntimeError(f"push: {push.records} ops acknowledged but {server_records} records on the server")
        pulled = fresh_device(local_tpl, work / "pulled")
        if passphrase:
            encrypt(pulled, passphrase)
        pull = run_child(["pull", str(pulled), server.url, PETUGAS], passphrase=passphrase)
        if pull.records != server_records:
            raise RuntimeError(f"pull: {pull.records} records on the device, {server_records} on the server")
        if baselines:
            assert server.sqlite_path is not None
            raw_db = work / "raw-hq.db"
            columns = _columns(server.sqlite_path, "records")
            server_db = server.sqlite_path
            count, seconds, rates = median_raw_insert(hq_template, raw_db, lambda: [("records", columns, _sqlite_rows(
                server_db, f"SELECT {', '.join(columns)} FROM records ORDER BY server_seq"))])
            rate = count / seconds
            row = Row(f"push {label} over loopback", push.rate, "records/s", rate, PUSH_RATE_CONTEXT, None,
                      baseline_name="raw executemany of the same records rows, same kind of server DB (SQLite)",
                      note=f"{push.records} ops in {push.seconds:.1f} s; raw {count} rows in {seconds:.1f} s"
                           f" (median of {rates})")
            show(row)
            rows.append(row)
            rows.append(_push_hq_cpu_row(server_us, rate, label))
            rows.append(_push_all_rows(server.sqlite_path, hq_template, raw_db, push, label))
            rows.append(_push_cpu_row(push, server_us, 0.15 * rate, label))
            rows.extend(_end_to_end(work / "e2e", whole, hq_template, villages, rate, label, passphrase))
            raw_dev = work / "raw-device.db"
            tables = [(name, _columns(pulled, name, passphrase)) for name in ENTITY_ORDER]
            count, seconds, rates = median_raw_insert(local_tpl, raw_dev, lambda: [
                (name, columns, _sqlite_rows(pulled, f"SELECT {', '.join(columns)} FROM {name}", passphrase))
                for name, columns in tables])
            rate = count / seconds
            row = Row(f"pull {label} into a fresh device", pull.rate, "records/s", rate, "≥ 30 % of raw executemany",
                      pull.rate >= 0.3 * rate, baseline_name="raw executemany of the same rows, same kind of local DB"
                      + (" (plain file)" if passphrase else ""),
                      note=f"{pull.records} records in {pull.seconds:.1f} s; raw {count} rows in {seconds:.1f} s"
                           f" (median of {rates})")
            show(row)
            rows.append(row)
            raw_db.unlink(missing_ok=True)
            raw_dev.unlink(missing_ok=True)
        else:
            rows.append(Row(f"push {label} over loopback", push.rate, "records/s", None, PUSH_RATE_CONTEXT,
                            None, note=f"{push.records} ops in {push.seconds:.1f} s"))
            rows.append(Row(f"pull {label} into a fresh device", pull.rate, "records/s", None,
                            "≥ 30 % of raw executemany", None, note=f"{pull.records} records in {pull.seconds:.1f} s"))
        if cycles:
            rows.extend(_cycles(work, server, pulled, local_tpl, noop_repeat=noop_repeat, edit_rounds=edit_rounds,
                                passphrase=passphrase))
    return SyncResult(rows, push, pull, pulled)


# DESIGN §7's push row is the HQ's CPU per record (issue 21 moved it there from "≥ 30 % of a raw
# executemany", which one core of HQ CPU cannot reach); the push's records/s stays as context.
PUSH_RATE_CONTEXT = "context (§7's push target: HQ CPU per record)"
HQ_CPU_TARGET_US = 80.0


def _push_hq_cpu_row(server_us: tuple[float, ...], raw_rate: float, label: str) -> Row:
    """DESIGN §7's push row: the HQ's CPU (``server_us``: the serving process's and its push
    workers' µs) per pushed record, beside the raw executemany's wall time per records row of the
    same run."""
    ordered_us, workers_us = server_us
    hq_us = ordered_us + workers_us
    row = Row(f"push {label} over loopback: HQ CPU per record", hq_us, "µs/record", 1e6 / raw_rate,
              f"≤ {HQ_CPU_TARGET_US:.0f} µs (DESIGN §7)", hq_us <= HQ_CPU_TARGET_US,
              baseline_name="raw executemany, µs per records row, same run",
              note=f"serving process {ordered_us:.1f} µs + push workers {workers_us:.1f} µs"
                   f" (push workers: {Settings.from_env().push_prepare_processes}, on {os.cpu_count()} cores)")
    show(row)
    return row


def _push_cpu_row(push: Measured, server_us: tuple[float, ...], target_rate: float, label: str) -> Row:
    """Context for the push row: CPU per record on both sides (``server_us``: the serving process's
    and its push workers' µs per record). The laptop and the HQ's serving process each run one ordered
    stream (one device's ops apply in order), so even with all work overlapped the wall time per
    record is at least the larger of the two, and at least the sum of everything divided by the
    machine's cores; the target allows ``1 / target_rate`` seconds per record."""
    laptop_us = float(push.extra.get("cpu_seconds", 0.0)) / push.records * 1e6
    ordered_us, workers_us = server_us
    hq_us = ordered_us + workers_us
    cores = os.cpu_count() or 1
    floor_us = max(laptop_us, ordered_us, (laptop_us + hq_us) / cores)
    budget_us = 1e6 / target_rate
    row = Row(f"push {label}, CPU per record (laptop + HQ)", laptop_us + hq_us, "µs/record", budget_us,
              "context (no §7 target)", None, baseline_name="wall time per record the end-to-end target allows",
              note=f"laptop {laptop_us:.0f} µs + HQ {hq_us:.0f} µs (serving process {ordered_us:.0f}, push workers"
                   f" {workers_us:.0f}) of CPU per record; on {cores} cores the wall time"
                   f" per record cannot go below {floor_us:.0f} µs, vs {budget_us:.0f} µs allowed")
    show(row)
    return row


def _end_to_end(work: Path, device_db: Path, hq_template: Path, villages: list[str], raw_rate: float, label: str,
                passphrase: str | None) -> list[Row]:
    """One whole ``desmig sync`` cycle of ``device_db``'s outbox into a fresh server, through a
    counting proxy (no shaping): what the officer waits for, and what crosses the wire."""
    from bench.shaping_proxy import ProxyThread

    server = hq.HqServer.sqlite(work / "hq", hq_template)
    hq.add_users(server.db_url, {PETUGAS: ("officer", villages)})
    with server, ProxyThread(server.port) as proxy:
        subprocess.run([sys.executable, "-m", "bench.worker", "login", str(device_db), proxy.url, PETUGAS],
                       check=True, capture_output=True, env={**hq.child_env(), **passphrase_env(passphrase)},
                       timeout=600, cwd=Path(__file__).resolve().parents[1])
        proxy.set_shape(None)  # count the cycle only
        before = server.cpu_split()
        cycle = run_child(["cycle", str(device_db), proxy.url, PETUGAS], passphrase=passphrase)
        ordered, workers = server.cpu_since(before)
        server_cpu = ordered + workers
        stats = proxy.stats
    pushed, pulled = int(cycle.extra.get("pushed", 0)), int(cycle.extra.get("pulled", 0))
    rate = pushed / cycle.seconds if cycle.seconds else 0.0
    by_kind: dict[str, list[int]] = {}
    for r in stats.requests:
        by_kind.setdefault(r.path, [0, 0, 0])
        by_kind[r.path][0] += 1
        by_kind[r.path][1] += r.bytes_up
        by_kind[r.path][2] += r.bytes_down
    listing = "; ".join(f"{path} ×{n} ({up:,} B up, {down:,} B down)" for path, (n, up, down) in sorted(by_kind.items()))
    out = [
        Row(f"desmig sync {label} end to end (push + pull)", rate, "records/s", raw_rate, "≥ 0.15 of raw executemany",
            rate >= 0.15 * raw_rate, baseline_name="raw executemany of the same records rows (the push row's)",
            note=f"one cycle: pushed {pushed}, pulled {pulled} in {cycle.seconds:.1f} s; HQ CPU"
                 f" {server_cpu / max(1, pushed) * 1e6:.0f} µs per pushed record (serving process"
                 f" {ordered / max(1, pushed) * 1e6:.0f}, push workers {workers / max(1, pushed) * 1e6:.0f}); wall"
                 f" {cycle.seconds / max(1, pushed) * 1e6:.0f} µs per pushed record; {len(stats.requests)} requests"),
        Row(f"desmig sync {label} end to end: bytes down", stats.bytes_down, "bytes", stats.bytes_up,
            "≤ 2 % of bytes up", stats.bytes_down <= 0.02 * stats.bytes_up, baseline_name="bytes up of the same cycle",
            note=f"{listing} (HTTP heads included)"),
    ]
    for row in out:
        show(row)
    return out


AUDIT_SAMPLE = 2_000_000  # history rows inserted for the all-rows baseline; the rest is extrapolated


def _push_all_rows(server_db: Path, hq_template: Path, raw_db: Path, push: Measured, label: str) -> Row:
    """Context for the push row: a raw executemany of *every* row the push commits — records,
    applied_ops and the change history (one row per record) — not only the records."""
    copy_db(hq_template, raw_db)
    conn = sqlite3.connect(server_db)
    device = conn.execute("SELECT device_id, username, device_name, token_hash, created_at FROM devices").fetchall()
    audit_total = int(conn.execute("SELECT count(*) FROM record_history").fetchone()[0])
    conn.close()
    target = sqlite3.connect(raw_db)
    with target:
        target.execute("INSERT INTO users (username, password_hash, role, created_at) VALUES ('petugas', 'x',"
                       " 'officer', 'x')")
        target.executemany("INSERT INTO devices (device_id, username, device_name, token_hash, created_at, last_op_seq,"
                           " revoked) VALUES (?, ?, ?, ?, ?, 0, 0)", device)
    target.close()
    tables = []
    for table, order in (("records", "server_seq"), ("applied_ops", "op_seq"), ("record_history", "id")):
        columns = [c for c in _columns(server_db, table) if not (table == "record_history" and c == "id")]
        limit = f" LIMIT {AUDIT_SAMPLE}" if table == "record_history" else ""
        tables.append((table, columns, _sqlite_rows(server_db, f"SELECT {', '.join(columns)} FROM {table}"
                                                               f" ORDER BY {order}{limit}")))
    count, seconds = raw_insert(raw_db, tables)
    sampled = min(audit_total, AUDIT_SAMPLE)
    if audit_total > sampled:  # the audit rows not inserted, at the rate of the whole sample
        seconds *= (count + audit_total - sampled) / count
    rate = push.records / seconds
    raw_db.unlink(missing_ok=True)
    row = Row(f"push {label}, vs every row it writes", push.rate, "records/s", rate,
              "context (no §7 target)", None, baseline_name="raw executemany of records + applied_ops + history rows",
              note=f"{audit_total} history rows ({audit_total / max(1, push.records):.1f} per record)"
                   + (f", {sampled} inserted, rest extrapolated" if audit_total > sampled else ""))
    show(row)
    return row


def _cycles(work: Path, server: hq.HqServer, pulled: Path, local_tpl: Path, *, noop_repeat: int,
            edit_rounds: int, passphrase: str | None = None) -> list[Row]:
    from desmig_desktop.services.sync_service import login, run_cycle
    from desmig_desktop.store import records
    from desmig_desktop.store.db import connect
    from desmig_desktop.store.records import Change

    rows: list[Row] = []
    db = connect(pulled, passphrase)
    empty_db = fresh_device(local_tpl, work / "empty")
    empty = connect(encrypt(empty_db, passphrase) if passphrase else empty_db, passphrase)
    try:
        login(empty, server.url, KOSONG, hq.PASSWORD, "bench-empty")
        run_cycle(empty)
        run_cycle(db)  # the pull device's first full cycle (nothing new)
        full = [_timed_cycle(db)[0] for _ in range(noop_repeat)]
        base = [_timed_cycle(empty)[0] for _ in range(noop_repeat)]
        row = Row("no-op sync, full DB", p95(full), "ms p95", p95(base), "< 100 ms", p95(full) < 100,
                  baseline_name="same cycle, device whose villages hold no records",
                  note=f"median {statistics.median(full):.1f} ms vs {statistics.median(base):.1f} ms")
        show(row)
        rows.append(row)
        ids = [r[0] for r in db.execute("SELECT id FROM households WHERE deleted = 0 ORDER BY random() LIMIT ?",
                                        [100 * edit_rounds])]
        times, pushed, pulled_n = [], 0, 0
        for n in range(edit_rounds):
            for i, hid in enumerate(ids[n * 100:(n + 1) * 100]):
                records.apply_changes(db, [Change("households", hid, {"notes": f"kunjungan ulang {n}-{i}"})])
            ms, report = _timed_cycle(db)
            times.append(ms)
            pushed += report.pushed
            pulled_n += report.pulled
        if pushed != 100 * edit_rounds or report.pending_ops:
            raise RuntimeError(f"incremental sync pushed {pushed} of {100 * edit_rounds} edits")
        value = statistics.median(times)
        row = Row("incremental sync of 100 edits, full DB", value, "ms median", statistics.median(full),
                  "< 1,000 ms; grows with changes", value < 1000, baseline_name="no-op sync, full DB",
                  note=f"{edit_rounds} rounds; pushed {pushed}, pulled {pulled_n}")
        show(row)
        rows.append(row)
    finally:
        db.conn.close()
        empty.conn.close()
    return rows


def _timed_cycle(db: Any) -> tuple[float, Any]:
    from desmig_desktop.services.sync_service import run_cycle

    start = time.perf_counter()
    report = run_cycle(db)
    return (time.perf_counter() - start) * 1000, report
