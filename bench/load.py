"""HQ load: N officer laptops syncing at once against one ``desmig-hq serve``, then a full audit.

Each device (its own local DB, thread, connection and HTTP session, as the real engine uses
them) first holds ~80 % of its ops as new households saved offline — the morning a region's
officers come back into coverage — and all devices sync at the same moment; then each makes the
rest as edits of its own households in rounds, syncing after each. Devices come in pairs sharing
a village, so every pull also carries the partner's records.

Afterwards, on the server and on every device:
* errors — sync cycles that failed, and every 5xx answer of the server, also those the
  transport's retry then got past (a retried lost connection is only counted as ``retried``);
* lost — an op a device made that the server has not applied, a created record missing on the
  server, a device's last edit not on the server, or ops left in an outbox;
* duplicated — more applied ops than were made, or records on the server nobody made.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import hq
from bench.common import Row, show
from bench.sync import copy_db, local_template

EDIT_ROUNDS = 4


@dataclass
class LoadResult:
    backend: str
    devices: int
    ops_per_device: int
    seconds: float
    errors: int
    lost: int
    duplicated: int
    retried: int
    applied_ops: int
    records: int
    notes: list[str] = field(default_factory=list)
    workers: int = 1


def _seed_villages(tpl: Path, pairs: int) -> list[str]:
    conn = sqlite3.connect(tpl)
    try:
        return [r[0] for r in conn.execute(
            "SELECT code FROM regions WHERE level = 4 AND code LIKE '35.%' ORDER BY code LIMIT ?", [pairs])]
    finally:
        conn.close()


def _trimmed(graph: Any, room: int) -> Any:
    """The graph cut to at most ``room`` records (household first, then members, their placements,
    businesses of kept owners), so a device holds exactly its share of creates."""
    members = graph.members[:max(0, room - 1)]
    kept = {m["id"] for m in members}
    left = room - 1 - len(members)
    placements = [p for p in graph.placements if p["member_id"] in kept][:max(0, left)]
    left -= len(placements)
    businesses = [b for b in graph.businesses if b.get("owner_member_id") in kept][:max(0, left)]
    graph.members, graph.placements, graph.businesses = members, placements, businesses
    return graph


def seed_devices(folder: Path, local_tpl: Path, devices: int, creates: int) -> list[tuple[Path, str]]:
    """``devices`` laptop DBs, each with exactly ``creates`` pending ops of new demo households
    (reused when already built). Returns ``(db path, village)`` per device."""
    from desmig_desktop.services.demo import DemoFactory
    from desmig_desktop.services.households import save_household
    from desmig_desktop.store.db import connect

    villages = _seed_villages(local_tpl, (devices + 1) // 2)
    out = []
    marker = folder / f"seeded-{devices}x{creates}"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for n in range(devices):
        village = villages[n // 2]
        path = folder / f"device{n:02d}.db"
        out.append((path, village))
        if marker.exists():
            continue
        copy_db(local_tpl, path)
        db = connect(path)
        factory = DemoFactory(seed=1000 + n)
        made = 0
        with db.atomic():
            while made < creates:
                graph = _trimmed(factory.household(village), creates - made)
                save_household(db, graph, confirm_warnings=True)
                made += 1 + len(graph.members) + len(graph.placements) + len(graph.businesses)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()
    marker.touch()
    return out


class _Device(threading.Thread):
    def __init__(self, path: Path, username: str, edits: int, start: threading.Barrier,
                 quiet: threading.Barrier) -> None:
        super().__init__(name=f"device-{username}", daemon=True)
        self.path, self.username, self.edits = path, username, edits
        self.start_barrier, self.quiet_barrier = start, quiet
        self.server_url = ""
        self.errors: list[str] = []
        self.retried = 0
        self.statuses: Counter[int] = Counter()

    def _hook(self, response: Any, *_a: Any, **_k: Any) -> None:
        self.statuses[response.status_code] += 1
        retries = getattr(getattr(response, "raw", None), "retries", None)
        for attempt in (retries.history if retries is not None else ()):
            # Answers the transport retried before this one: a 5xx is a server error even when a
            # retry then succeeded; a lost connection is counted as a retry only.
            self.retried += 1
            if attempt.status is not None:
                self.statuses[attempt.status] += 1

    def run(self) -> None:
        from desmig_desktop.services.sync_service import SyncError, login, run_cycle
        from desmig_desktop.store import records
        from desmig_desktop.store.db import connect
        from desmig_desktop.store.records import Change
        from desmig_desktop.sync.client import make_session

        db = connect(self.path)
        session = make_session()
        session.hooks["response"].append(self._hook)
        try:
            login(db, self.server_url, self.username, hq.PASSWORD, self.name, session=session)
            mine = [r[0] for r in db.execute("SELECT id FROM households ORDER BY id")]
            self.start_barrier.wait(timeout=600)

            def cycle() -> None:
                for attempt in range(3):  # the scheduler would retry later; a failure is still an error
                    try:
                        run_cycle(db, session=session)
                        return
                    except SyncError as exc:
                        self.errors.append(f"{exc.kind.value}: {exc.detail or exc}")
                        time.sleep(0.5 * (attempt + 1))

            cycle()
            per_round = -(-self.edits // EDIT_ROUNDS)
            done = 0
            for n in range(EDIT_ROUNDS):
                for i in range(min(per_round, self.edits - done)):
                    hid = mine[(done + i) % len(mine)]
                    records.apply_changes(db, [Change("households", hid, {"notes": f"ronde {n} {done + i}"})])
                done += min(per_round, self.edits - done)
                cycle()
            self.quiet_barrier.wait(timeout=1800)  # every device has pushed its last edit
            cycle()  # quiescence: the partner's last edits arrive
        except Exception as exc:  # noqa: BLE001 - every failure is an error of the run
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            session.close()
            db.conn.close()


def run_load(work: Path, backend: str, seeds: list[tuple[Path, str]], ops_per_device: int, creates: int,
             hq_template: Path, *, workers: int = 1, pg_db: str = hq.PG_DB) -> LoadResult:
    """Copy the seeded devices, start a server of ``workers`` processes on ``backend``
    (sqlite|postgresql, the database ``pg_db`` created afresh), run, audit."""
    run_dir = work / f"load-{backend}-{workers}w"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    if backend == "sqlite":
        server = hq.HqServer.sqlite(run_dir, hq_template)
    else:
        server = hq.HqServer(hq.reset_postgres(pg_db), run_dir / "hq.log")
    server.workers = workers
    users = {f"officer{n:02d}": ("officer", [village]) for n, (_p, village) in enumerate(seeds)}
    hq.add_users(server.db_url, users)
    paths = []
    for n, (seed, _village) in enumerate(seeds):
        target = run_dir / f"device{n:02d}.db"
        copy_db(seed, target)
        paths.append(target)
    edits = ops_per_device - creates
    start, quiet = threading.Barrier(len(seeds) + 1), threading.Barrier(len(seeds))
    threads = [_Device(path, f"officer{n:02d}", edits, start, quiet) for n, path in enumerate(paths)]
    with server:
        for t in threads:
            t.server_url = server.url
            t.start()
        start.wait(timeout=600)
        start = time.perf_counter()
        for t in threads:
            t.join(timeout=3600)
        seconds = time.perf_counter() - start
        result = _audit(server, backend, threads, paths, ops_per_device, seconds)
        if result.errors:
            result.notes.append("server log: " + server.log_tail(1500).replace("\n", " | "))
    return result


def _audit(server: hq.HqServer, backend: str, threads: list[_Device], paths: list[Path], ops_per_device: int,
           seconds: float) -> LoadResult:
    notes: list[str] = []
    statuses = sum((t.statuses for t in threads), Counter())
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    errors = sum(len(t.errors) for t in threads) + sum(1 for t in threads if t.is_alive()) + server_errors
    if server_errors:
        notes.append(f"{server_errors} server errors (5xx), retried by the transport")
    for t in threads:
        notes.extend(f"{t.username}: {e}" for e in t.errors[:3])
    retried = sum(t.retried for t in threads)
    server_ops = dict(server.query("SELECT device_id, count(*) FROM applied_ops GROUP BY device_id"))
    server_max = dict(server.query("SELECT device_id, max(op_seq) FROM applied_ops GROUP BY device_id"))
    server_records = {(e, i): data for e, i, data in server.query("SELECT entity, id, data FROM records")}
    lost = duplicated = 0
    made: set[tuple[str, str]] = set()
    for path in paths:
        conn = sqlite3.connect(path)
        try:
            device_id = conn.execute("SELECT json_extract(value, '$') FROM sync_state WHERE key = 'device_id'"
                                     ).fetchone()[0]
            pending = conn.execute("SELECT count(*) FROM sync_outbox").fetchone()[0]
            journal = conn.execute("SELECT count(*) FROM sync_journal").fetchone()[0]
            created = conn.execute("SELECT DISTINCT entity, record_id FROM sync_journal").fetchall()
            local_notes = conn.execute("SELECT id, notes FROM households").fetchall()
        finally:
            conn.close()
        applied = int(server_ops.get(device_id, 0))
        if pending or journal != ops_per_device or applied < ops_per_device:
            lost += pending + max(0, ops_per_device - applied)
            notes.append(f"{path.name}: pending {pending}, journal {journal}, applied {applied}")
        if applied > ops_per_device or int(server_max.get(device_id, 0)) != applied:
            duplicated += max(0, applied - ops_per_device)
            notes.append(f"{path.name}: applied {applied}, max op_seq {server_max.get(device_id)}")
        made.update(created)
        differ = [hid for hid, note in local_notes
                  if ("households", hid) not in server_records
                  or json.loads(server_records[("households", hid)]).get("notes") != note]
        if differ:  # after quiescence every device equals the server
            lost += len(differ)
            notes.append(f"{path.name}: {len(differ)} households differ from the server")
    missing = made - set(server_records)
    extra = set(server_records) - made
    lost += len(missing)
    duplicated += len(extra)
    if missing or extra:
        notes.append(f"records missing on the server {len(missing)}, unknown extra {len(extra)}")
    applied_total = int(server.query("SELECT count(*) FROM applied_ops")[0][0])
    if applied_total != ops_per_device * len(paths):
        notes.append(f"applied_ops {applied_total} != {ops_per_device * len(paths)}")
    notes.append("HTTP statuses seen: " + ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items())))
    return LoadResult(backend, len(paths), ops_per_device, seconds, errors, lost, duplicated, retried,
                      applied_total, len(server_records), notes, server.workers)


def rows_for(result: LoadResult) -> list[Row]:
    ok = result.errors == 0 and result.lost == 0 and result.duplicated == 0
    workers = f", {result.workers} workers" if result.workers != 1 else ""
    name = f"HQ load {result.backend}{workers}: {result.devices} devices × {result.ops_per_device:,} ops"
    total_ops = result.devices * result.ops_per_device
    row = Row(name, float(result.errors + result.lost + result.duplicated), "faults", None,
              "0 errors, 0 lost, 0 duplicated", ok,
              note=(f"errors {result.errors}, lost {result.lost}, duplicated {result.duplicated}; "
                    f"{result.applied_ops} applied ops, {result.records} records on the server; "
                    f"{result.seconds:.1f} s ({total_ops / result.seconds:.0f} ops/s); "
                    f"transport retries {result.retried}"))
    show(row)
    print(f"    {row.note}", flush=True)
    for note in result.notes:
        print(f"    {note}", flush=True)
    return [row]


def rate_row(result: LoadResult) -> Row:
    """The run's throughput as a row of its own (the worker-count comparison of issue 18 §2)."""
    total_ops = result.devices * result.ops_per_device
    rate = Row(f"HQ load {result.backend}, {result.workers} worker(s): throughput", total_ops / result.seconds,
               "ops/s", None, "(recorded)", None, note=f"{total_ops:,} ops in {result.seconds:.1f} s")
    show(rate)
    return rate


def run(work: Path, *, devices: int, ops_per_device: int, hq_template: Path, backends: list[str],
        workers: tuple[int, ...] = (1,), pg_db: str = hq.PG_DB, rates: bool = False) -> list[Row]:
    """The load on each backend; on PostgreSQL once per worker count in ``workers`` (``rates``: plus
    a throughput row per run)."""
    local_tpl = local_template(work / "run")
    creates = ops_per_device * 4 // 5
    seeds = seed_devices(work / f"load-seeds-{devices}x{ops_per_device}", local_tpl, devices, creates)
    rows: list[Row] = []
    for backend in backends:
        for n in workers if backend == "postgresql" else (1,):
            result = run_load(work, backend, seeds, ops_per_device, creates, hq_template, workers=n, pg_db=pg_db)
            rows.extend(rows_for(result))
            if rates:
                rows.append(rate_row(result))
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.load --workers 1,2,4 [--devices 50] [--ops 2000] [--pg-db NAME]``: the HQ load on
    PostgreSQL with 1, 2 and 4 worker processes (issue 18 §2); results in ``bench/results``."""
    import argparse
    import tempfile

    from bench.common import write_report

    parser = argparse.ArgumentParser(prog="bench.load")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--ops", type=int, default=2_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--pg-db", default="desmig_load", help="a database of its own, dropped and created afresh")
    args = parser.parse_args(argv)
    counts = tuple(int(w) for w in args.workers.split(","))
    work = Path(tempfile.mkdtemp(prefix="desmig-load-"))
    try:
        rows = run(work, devices=args.devices, ops_per_device=args.ops, hq_template=hq.build_sqlite_template(work),
                   backends=["postgresql"], workers=counts, pg_db=args.pg_db, rates=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    params = {"devices": args.devices, "ops_per_device": args.ops, "workers": args.workers, "database": args.pg_db,
              "note": "2 CPU cores shared with up to 8 concurrent helper sessions; devices run on the same cores"}
    json_path, md_path = write_report(rows, params, suffix="-load_workers")
    print(f"results: {json_path} {md_path}")
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    import sys

    sys.exit(main())
