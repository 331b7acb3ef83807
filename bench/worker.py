"""Sync work run in a child process, so its time and peak RSS belong to that work alone.

``python -m bench.worker push|pull DB SERVER_URL USERNAME`` logs the device in (not timed), then
pushes the whole outbox / pulls every scope, and prints one JSON line:
``{"records", "seconds", "cpu_seconds", "rss_mb", "device_id"}`` (CPU: every thread of this
process during the timed work). ``login`` only registers the device;
``cycle`` runs one whole sync cycle. ``export DATA_DIR OUT`` runs ``desmig export --format jsonl``.
An encrypted DB is opened with the passphrase in ``DESMIG_PASSPHRASE`` (as the CLI does).
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench.common import peak_rss_mb
from bench.encrypted import PASSPHRASE_ENV
from bench.hq import PASSWORD


def export(data_dir: str, out: str) -> int:
    """The real ``desmig export --format jsonl`` command, run in this process."""
    from desmig_desktop.cli import main as desmig

    start = time.perf_counter()
    code = desmig(["--data-dir", data_dir, "export", "--format", "jsonl", "--out", out])
    seconds = time.perf_counter() - start
    with open(out, encoding="utf-8") as fh:
        records = sum(1 for _line in fh)
    print(json.dumps({"records": records, "seconds": seconds, "rss_mb": peak_rss_mb(), "exit": code}))
    return code


def main(argv: list[str]) -> int:
    if argv[0] == "export":
        return export(argv[1], argv[2])
    action, db_path, server_url, username = argv[:4]
    from desmig_desktop.services.sync_service import login, run_cycle
    from desmig_desktop.store import sync_store as st
    from desmig_desktop.store.db import connect
    from desmig_desktop.sync.client import SyncClient
    from desmig_desktop.sync.engine import SyncEngine

    db = connect(db_path, os.environ.get(PASSPHRASE_ENV) or None)  # encrypted DBs: bench.encrypted
    if action in ("push", "pull", "login"):
        login(db, server_url, username, PASSWORD, f"bench-{action}")
    if action == "login":
        print(json.dumps({"device_id": st.state(db, st.K_DEVICE_ID)}))
        return 0
    client = SyncClient(st.state(db, st.K_SERVER_URL), st.state(db, st.K_TOKEN))
    engine = SyncEngine(db, client)
    extra: dict[str, int] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    if action == "push":
        before = st.pending_count(db)
        engine.push_all()
        records = before - st.pending_count(db)
    elif action == "pull":
        hello = engine.hello()
        engine.pull_all(hello.scopes, together="changes" in hello.features)
        from desmig_desktop.domain.fields import ENTITIES  # every entity, the programme's records too

        records = sum(int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in ENTITIES)
    elif action == "cycle":
        report = run_cycle(db, session=client.session)
        records = report.pushed + report.pulled
        extra = {"pushed": report.pushed, "pulled": report.pulled}
    else:
        raise SystemExit(f"unknown action {action}")
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    client.close()
    print(json.dumps({"records": records, "seconds": seconds, "cpu_seconds": cpu_seconds, "rss_mb": peak_rss_mb(),
                      "device_id": st.state(db, st.K_DEVICE_ID), **extra}))
    db.conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
