"""Run the benchmark suite: ``python -m bench.run [--households N] [--smoke] [--keep DIR] [--only GROUPS]``.

Writes ``bench/results/<date>.json`` and ``.md`` (``-smoke`` suffixed for ``--smoke``, which git
ignores). Groups, in order: ``local`` (search, save, the desktop report's figures), ``ui`` (app start, scrolling RSS, region
picker), ``sync`` (push, pull, no-op and incremental sync against a real ``desmig-hq serve``),
``memory`` (peak RSS of push, pull and export at a tenth of the size vs full size), ``load``
(concurrent devices on SQLite and PostgreSQL, audited for errors, lost and duplicated records) and
``bundle`` (size and cold/warm start of the officer's app bundle ``dist/desmig`` beside the same
app from the venv; skipped when no bundle is built: ``make bundle``) and ``shaped`` (a day's work
synced by the real ``desmig sync`` over a shaped village link, ``bench.shaped``; 2,000
households, 500 in smoke).

The desktop rows run on a SQLCipher-encrypted DB opened as the app opens it (``bench.encrypted``),
each followed by its plaintext twin as a context row; ``--smoke`` measures the plaintext twins only
for ``local`` (cheap), to stay fast, unless ``--plaintext-twins`` asks for all of them.

``--smoke`` (CI): ~2k households, HQ load 10 devices × 200 ops; the full run (100k households,
50 × 2,000) is manual: ``make bench``. The exit status is 0 even when a target is missed (the
misses are printed and recorded); it is 1 only when something crashed or the HQ load lost or
duplicated records or saw errors. ``--keep DIR`` keeps the generated databases there and reuses
them on the next run (demo generation of 100k households takes minutes); each run works on
copies, so a kept database is never changed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import bundle, encrypted, hq, hq_push, load, local, memory, shaped, sync, ui
from bench.common import Row, build_local_db, write_report
from bench.encrypted import PASSPHRASE
from desmig_desktop.store.db import connect

GROUPS = ("local", "ui", "sync", "memory", "load", "bundle", "shaped")
SHAPED_HOUSEHOLDS = 2_000  # issue 21 §3: a device holding its villages' data


def demo_db(path: Path, households: int, rows: list[Row] | None = None) -> Path:
    """The pristine demo DB at ``path`` (built when missing; never changed afterwards)."""
    def fill(db: Any) -> None:
        row = local.build(db, households)
        if rows is not None:
            rows.append(row)

    return build_local_db(path, fill)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="small CI run (2,000 households)")
    parser.add_argument("--keep", help="keep the generated databases here and reuse them")
    parser.add_argument("--only", help="comma-separated groups: " + ",".join(GROUPS))
    parser.add_argument("--devices", type=int, help="HQ load: concurrent devices (default 50; smoke 10)")
    parser.add_argument("--ops", type=int, help="HQ load: ops per device (default 2,000; smoke 200)")
    parser.add_argument("--plaintext-twins", action="store_true",
                        help="in --smoke too, measure every desktop row on a plaintext DB beside the encrypted one")
    parser.add_argument("--note", help="recorded in the results' parameters (e.g. what else ran on the machine)")
    args = parser.parse_args(argv)
    twins = args.plaintext_twins or not args.smoke
    households = 2_000 if args.smoke else args.households
    small = max(100, households // 10) if not args.smoke else 500
    devices = args.devices or (10 if args.smoke else 50)
    ops = args.ops or (200 if args.smoke else 2_000)
    groups = [g.strip() for g in (args.only or ",".join(GROUPS)).split(",") if g.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown groups: {', '.join(unknown)}")
    keep = Path(args.keep).resolve() if args.keep else None
    work = keep or Path(tempfile.mkdtemp(prefix="desmig-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    run_dir = work / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    rows: list[Row] = []
    failures: list[str] = []
    started = time.perf_counter()
    params: dict[str, Any] = {"households": households, "small_households": small, "smoke": args.smoke,
                              "load_devices": devices, "load_ops_per_device": ops, "groups": ",".join(groups),
                              "encrypted": "SQLCipher", "plaintext_twins": "all" if twins else "local"}
    if args.note:
        params["note"] = args.note

    def group(name: str, fn: Any) -> None:
        if name not in groups:
            return
        print(f"-- {name}", flush=True)
        begin = time.perf_counter()
        try:
            rows.extend(fn())
        except Exception:  # noqa: BLE001 — a crash fails the run, but the other groups still report
            traceback.print_exc()
            failures.append(f"{name} crashed")
        params[f"seconds_{name}"] = round(time.perf_counter() - begin, 1)

    try:
        pristine = demo_db(work / f"demo-{households}.db", households, rows)
        hq_template = hq.build_sqlite_template(work)
        local_tpl = sync.local_template(run_dir)
        # The officer's device, encrypted, and its plaintext twin.
        device = sync.fresh_device(pristine, run_dir / "device")
        villages = sync.villages_of(device)
        plain_device = sync.fresh_device(pristine, run_dir / "device-plain")
        encrypted.encrypt(device)

        def run_local() -> list[Row]:
            def measure(db_path: Path, passphrase: str | None) -> list[Row]:
                db = connect(db_path, passphrase)
                try:
                    out = local.search(db, repeat=50 if args.smoke else 200)
                    out.append(local.save(db, repeat=50 if args.smoke else 200))
                    out.extend(local.report(db, villages, repeat=5 if args.smoke else 20))
                finally:
                    db.conn.close()
                return out

            return encrypted.twins(measure(device, PASSPHRASE), measure(plain_device, None))

        def run_ui() -> list[Row]:
            repeat = 1 if args.smoke else 3
            # In place: the officer's settings (no first-run wizard; the villages listed) do not affect sync.
            full = ui.officer_settings(device, villages, PASSPHRASE).parent
            empty = sync.fresh_device(local_tpl, run_dir / "ui-empty")
            empty = ui.officer_settings(encrypted.encrypt(empty), villages, PASSPHRASE).parent
            out = ui.start(full, empty, repeat=repeat, passphrase=PASSPHRASE)
            plain: list[Row] = []
            if twins:
                full = ui.officer_settings(plain_device, villages).parent
                empty = ui.officer_settings(sync.fresh_device(local_tpl, run_dir / "ui-empty-plain"), villages).parent
                plain = ui.start(full, empty, repeat=repeat)
            out = encrypted.twins(out, plain)
            out.extend(ui.picker(local_tpl, 10 if args.smoke else 60))
            return out

        results: dict[str, sync.SyncResult] = {}

        def run_sync() -> list[Row]:
            label = f"{households:,} households"
            result = sync.push_pull(run_dir / "sync", device, hq_template=hq_template, local_tpl=local_tpl,
                                    label=label, noop_repeat=10 if args.smoke else 20, passphrase=PASSPHRASE)
            results["large"] = result
            # the HQ alone, without the laptop's process on the same cores (issue 21 §2)
            alone = hq_push.run(run_dir / "hq-push", sync.fresh_device(pristine, run_dir / "hq-push-device"),
                                hq_template=hq_template, villages=villages, label=label)
            if not twins:
                return encrypted.twins(result.rows, []) + alone
            plain = sync.push_pull(run_dir / "sync-plain", plain_device, hq_template=hq_template,
                                   local_tpl=local_tpl, label=label, baselines=False,
                                   noop_repeat=10 if args.smoke else 20)
            results["large-plain"] = plain
            return encrypted.twins(result.rows, plain.rows) + alone

        def run_memory() -> list[Row]:
            small_db = demo_db(work / f"demo-{small}.db", small)
            out = memory.run(run_dir / "memory", small_db, small, pristine, households, results.get("large"),
                             hq_template=hq_template, local_tpl=local_tpl, passphrase=PASSPHRASE)
            plain = memory.run(run_dir / "memory-plain", small_db, small, pristine, households,
                               results.get("large-plain"), hq_template=hq_template,
                               local_tpl=local_tpl) if twins else []
            return encrypted.twins(out, plain)

        def run_shaped() -> list[Row]:
            size = 500 if args.smoke else SHAPED_HOUSEHOLDS
            demo = pristine if size == households else demo_db(work / f"demo-{size}.db", size)
            return shaped.run(run_dir / "shaped", demo, hq_template=hq_template, local_tpl=local_tpl,
                              passphrase=PASSPHRASE, plain_twin=twins)

        def run_load() -> list[Row]:
            backends = ["sqlite"] + (["postgresql"] if hq.postgres_available() else [])
            if len(backends) == 1:
                print("PostgreSQL not reachable: HQ load runs on SQLite only", flush=True)
            out = load.run(work, devices=devices, ops_per_device=ops, hq_template=hq_template, backends=backends)
            for row in out:
                if not row.met:
                    failures.append(f"{row.name}: {row.note}")
            return out

        group("local", run_local)
        group("ui", run_ui)
        group("sync", run_sync)
        group("memory", run_memory)
        group("load", run_load)
        group("bundle", lambda: bundle.run(repeat=1 if args.smoke else 5))
        group("shaped", run_shaped)
    except Exception:  # noqa: BLE001 — reported as a failed run below, with its traceback
        traceback.print_exc()
        failures.append("setup crashed")
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    params["seconds_total"] = round(time.perf_counter() - started, 1)
    json_path, md_path = write_report(rows, params, suffix="-smoke" if args.smoke else "")
    print(f"results: {json_path} {md_path} ({params['seconds_total']} s)")
    missed = [r.name for r in rows if r.met is False]
    if missed:
        print("targets missed: " + "; ".join(missed))
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
