"""Several worker processes on PostgreSQL (issue 18 §2): ``desmig-hq serve --workers 2``, devices
pushing at the same time, then an audit: no error, no op lost, none applied twice, every record
as its device last wrote it, and the aggregates equal to a recomputation."""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bench.hq import PASSWORD as BENCH_PASSWORD
from bench.hq import HqServer, add_users
from desmig_server.aggregates.verify import verify
from desmig_server.db import tables as t
from desmig_server.db.engine import Database

from .conftest import empty_pg_schema
from .support import Device, business, household, member

pytestmark = pytest.mark.postgres

DEVICES = 6
ROUNDS = 6
# Pairs of devices share a village, so their pushes contend for the same rows and pages.
VILLAGES = ("35.07.01.2001", "35.07.01.2002", "35.07.01.2003")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


class _Pusher(threading.Thread):
    def __init__(self, url: str, n: int, start: threading.Barrier) -> None:
        super().__init__(name=f"pusher-{n}")
        self.url, self.n, self.gate = url, n, start
        self.errors: list[str] = []
        self.made: dict[str, str] = {}  # household id -> last notes written
        self.others: set[tuple[str, str]] = set()
        self.ops = 0
        self.device_id = ""

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            body = client.post("/v1/devices/register", json={"username": f"ofc{self.n}", "password": BENCH_PASSWORD,
                                                              "device_name": "laptop"}).json()
            device = Device(client, f"ofc{self.n}", body["device_id"], body["token"])
            self.device_id = device.device_id
            village = VILLAGES[self.n % len(VILLAGES)]
            self.gate.wait(timeout=120)
            for rnd in range(ROUNDS):
                ops: list[dict[str, Any]] = []
                for _ in range(5):
                    hid = uuid.uuid4().hex
                    mid, bid = uuid.uuid4().hex, uuid.uuid4().hex
                    ops += [device.op("households", hid, household(village, notes=f"r{rnd}")),
                            device.op("members", mid, member(hid)),
                            device.op("businesses", bid, business(hid))]
                    self.made[hid] = f"r{rnd}"
                    self.others |= {("members", mid), ("businesses", bid)}
                for hid in list(self.made)[:3]:  # edits of earlier households of this device
                    ops.append(device.op("households", hid, {"notes": f"e{rnd}"}))
                    self.made[hid] = f"e{rnd}"
                response = device.push(*ops)
                if response.status_code != 200:
                    self.errors.append(f"HTTP {response.status_code}")
                    return
                results = response.json()["results"]
                bad = [r["status"] for r in results if r["status"] not in ("ok", "merged")]
                if bad:
                    self.errors.append(f"statuses {bad[:3]}")
                for op, result in zip(ops, results):
                    device.versions[(op["entity"], op["id"])] = result["version"]
                self.ops += len(ops)


def test_two_workers_on_postgresql_concurrent_pushes(tmp_path: Path) -> None:
    with empty_pg_schema(f"hq_workers_{os.getpid()}") as url:
        add_users(url, {f"ofc{n}": ("officer", [VILLAGES[n % len(VILLAGES)]]) for n in range(DEVICES)})
        with HqServer(url, tmp_path / "serve.log", workers=2) as server:
            assert server.proc is not None
            assert len(_children(server.proc.pid)) >= 2, server.log_tail()
            gate = threading.Barrier(DEVICES)
            pushers = [_Pusher(server.url, n, gate) for n in range(DEVICES)]
            for p in pushers:
                p.start()
            for p in pushers:
                p.join(timeout=600)
            assert [p.errors for p in pushers] == [[]] * DEVICES, server.log_tail()
            assert not any(p.is_alive() for p in pushers)
            report = httpx.get(server.url + "/v1/sync/hello", timeout=30)
            assert report.status_code == 401  # still serving
        db = Database(url, pool_size=1, max_overflow=0)
        try:
            with db.read() as conn:
                applied: dict[str, int] = dict(conn.execute(select(t.applied_ops.c.device_id, func.count()).group_by(
                    t.applied_ops.c.device_id)).all())
                top: dict[str, int] = dict(conn.execute(select(
                    t.applied_ops.c.device_id, func.max(t.applied_ops.c.op_seq)).group_by(t.applied_ops.c.device_id)).all())
                records = {(e, i): d for e, i, d in conn.execute(select(t.records.c.entity, t.records.c.id,
                                                                        t.records.c.data))}
            for p in pushers:
                assert applied[p.device_id] == p.ops == top[p.device_id] == ROUNDS * 18  # none lost or twice
            made = {("households", h) for p in pushers for h in p.made} | {k for p in pushers for k in p.others}
            assert set(records) == made  # nothing lost, nothing extra
            for p in pushers:
                for hid, notes in p.made.items():
                    assert json.loads(records[("households", hid)])["notes"] == notes
            assert verify(db) == []
        finally:
            db.dispose()
