"""The HQ's push on its own: one device's batches, pre-encoded, with and without push workers.

In the end-to-end rows the laptop's process runs on the same cores as the HQ, so they show the
sum of both sides' work. Here the client does nearly nothing: the demo outbox is taken and
encoded as the laptop sends it (``OutboxOp.wire_text``, ``SyncClient.push_body_text``: 5,000 ops
per request, gzipped, ``compact``) before the clock starts, and the requests go one after the
other, each after the previous answer, as one device's must. The
same bodies go to a fresh server without push workers (``DESMIG_HQ_PUSH_PROCESSES=0``: every op
prepared on the request's thread) and to one with the default number of workers
(``sync.prepare``): wall time per record, and the HQ's CPU per record split into the serving
process (the ordered path) and its workers. With a free core for the workers the wall time per
record approaches the ordered path's CPU; on a machine whose every core is busy it cannot.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests

from bench import hq
from bench.common import Row, show
from desmig_desktop.domain.ops import APP_SCHEMA
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.db import connect
from desmig_desktop.sync.client import SyncClient
from desmig_server.settings import PUSH_PROCESSES_ENV, default_push_processes

BATCH = 5_000
USER = "petugas-hq"


def _ops(device_db: Path, passphrase: str | None) -> list[bytes]:
    """The outbox's ops as the laptop writes them into a push body (numbered from 1, no hashes)."""
    db = connect(device_db, passphrase)
    try:
        return [op.wire_text(0, hashed=False) for op in st.take_batch(db, 10**9)]
    finally:
        db.conn.close()


def _run(work: Path, hq_template: Path, villages: list[str], ops: list[bytes],
         processes: int) -> tuple[float, float, float]:
    """``(wall seconds, serving CPU seconds, workers' CPU seconds)`` of pushing ``ops``."""
    server = hq.HqServer.sqlite(work / f"hq-{processes}", hq_template)
    server.env[PUSH_PROCESSES_ENV] = str(processes)
    hq.add_users(server.db_url, {USER: ("officer", villages)})
    with server, requests.Session() as http:
        reply = http.post(f"{server.url}/v1/devices/register", timeout=60,
                          json={"username": USER, "password": hq.PASSWORD, "device_name": "bench"})
        reply.raise_for_status()
        device, token = reply.json()["device_id"], reply.json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Content-Encoding": "gzip"}
        bodies = [SyncClient.push_body_text(device, APP_SCHEMA, ops[i:i + BATCH]) for i in range(0, len(ops), BATCH)]
        before = server.cpu_split()
        began = time.perf_counter()
        for body in bodies:
            answer = http.post(f"{server.url}/v1/sync/push", data=body, headers=headers, timeout=600)
            answer.raise_for_status()
            if answer.json()["results"]:
                raise RuntimeError(f"push: {len(answer.json()['results'])} ops not plainly ok")
        wall = time.perf_counter() - began
        ordered, workers = server.cpu_since(before)
    return wall, ordered, workers


def run(work: Path, device_db: Path, *, hq_template: Path, villages: list[str], label: str,
        passphrase: str | None = None) -> list[Row]:
    ops = _ops(device_db, passphrase)
    n = len(ops)
    processes = default_push_processes()
    if processes == 0:
        return [Row(f"HQ push {label}, one device, with push workers", 0.0, "µs/record", None,
                    "context (no §7 target)", None, note="one core: the server starts no push workers")]
    inline_wall, inline_cpu, _ = _run(work, hq_template, villages, ops, 0)
    wall, ordered, workers = _run(work, hq_template, villages, ops, processes)
    us = 1e6 / n
    rows = [
        Row(f"HQ push {label}, one device, with push workers: wall per record", wall * us, "µs/record",
            inline_wall * us, "context (no §7 target)", None,
            baseline_name="the same bodies to a server without push workers, same run",
            note=f"{n} ops in {-(-n // BATCH)} requests; {processes} worker(s) on {os.cpu_count()} cores: HQ CPU"
                 f" {(ordered + workers) * us:.0f} µs per record (serving process {ordered * us:.0f}, workers"
                 f" {workers * us:.0f}); without workers {inline_cpu * us:.0f} µs, all in the serving process"),
        Row(f"HQ push {label}, one device: ordered path CPU per record", ordered * us, "µs/record", inline_cpu * us,
            "context (no §7 target)", None, baseline_name="serving process CPU per record without push workers",
            note="the work one device's ops must wait for in order; the rest runs on the workers"),
    ]
    for row in rows:
        show(row)
    return rows
