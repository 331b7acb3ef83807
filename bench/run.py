"""Run the benchmark suite: ``python -m bench.run [--households N] [--smoke]``.

Writes ``bench/results/<date>.json`` and ``.md``. ``--smoke`` (CI) uses ~2k households so the
benchmarks never rot; the full run (default 100k households) is manual: ``make bench``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench import local
from bench.common import Row, write_report
from desmig_desktop.store.db import connect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="small CI run (2,000 households)")
    parser.add_argument("--keep", help="keep the work folder here (reused when it already holds a DB)")
    parser.add_argument("--only", help="comma-separated groups: local")
    args = parser.parse_args(argv)
    households = 2_000 if args.smoke else args.households
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="desmig-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    try:
        db_path = work / "desmig.db"
        reuse = db_path.exists()
        db = connect(db_path)
        if not reuse:
            rows.append(local.build(db, households))
        rows.extend(local.search(db, repeat=50 if args.smoke else 200))
        rows.append(local.save(db, repeat=50 if args.smoke else 200))
        db.conn.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    json_path, md_path = write_report(rows, {"households": households, "smoke": args.smoke},
                                      suffix="-smoke" if args.smoke else "")
    print(f"results: {json_path} {md_path}")
    missed = [r.name for r in rows if r.met is False]
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
