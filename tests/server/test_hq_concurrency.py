"""Concurrent pushers against a real server process while a reader follows the pull cursor.

If a server_seq could become visible before a smaller one committed (e.g. numbers from a
PostgreSQL sequence), the reader's cursor would pass the smaller one and never see that row:
the union of its pages would then differ from a full pull from 0.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from desmig_server.cli import main

from .support import PASSWORD, V1, household, make_op, serve

WRITERS = 4
BATCHES = 15
CREATES_PER_BATCH = 3  # plus two edits of earlier records per batch


def _writer(base: str, creds: dict[str, str], index: int, acked: dict[tuple[str, str], int],
            lock: threading.Lock) -> None:
    mine: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        auth = {"Authorization": f"Bearer {creds['token']}"}
        seq = 1
        for batch in range(BATCHES):
            ops = []
            for k in range(CREATES_PER_BATCH):
                ops.append(make_op(seq, "households", f"w{index}-{batch}-{k}", household(head_name=f"w{index}")))
                seq += 1
            for rid in list(mine)[-2:]:  # edits make already-pulled rows reappear with new versions
                ops.append(make_op(seq, "households", rid, {"hamlet": f"b{batch}"}, base=mine[rid]))
                seq += 1
            response = client.post("/v1/sync/push", headers=auth,
                                   json={"device_id": creds["device_id"], "app_schema": 1, "ops": ops})
            assert response.status_code == 200, response.text
            assert response.json()["last_op_seq"] == seq - 1
            for op, result in zip(ops, response.json()["results"]):
                assert result["status"] == "ok", result
                mine[op["id"]] = result["version"]
                with lock:
                    acked[("households", op["id"])] = max(result["version"], acked.get(("households", op["id"]), 0))


def _follow(base: str, token: str, done: threading.Event, seen: dict[tuple[str, str], int]) -> int:
    """Pull with a small page size until a page started after ``done`` says nothing more."""
    since, last_seq, pages = 0, 0, 0
    with httpx.Client(base_url=base, timeout=60) as client:
        while True:
            finished = done.is_set()
            page = client.get("/v1/sync/pull", params={"scope": V1, "since": since, "limit": 7},
                              headers={"Authorization": f"Bearer {token}"}).json()
            pages += 1
            for rec in page["records"]:
                assert rec["server_seq"] > last_seq, "feed went backwards"
                last_seq = rec["server_seq"]
                seen[(rec["entity"], rec["id"])] = rec["version"]
            since = page["next"]
            if finished and not page["more"]:
                return pages


def _register(client: httpx.Client, name: str) -> dict[str, str]:
    response = client.post("/v1/devices/register", json={"username": name, "password": PASSWORD,
                                                         "device_name": "laptop"})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


@pytest.mark.e2e
def test_union_of_pages_equals_full_pull_under_concurrent_pushes(db_url: str, tmp_path: Path) -> None:
    for name in [f"w{i}" for i in range(WRITERS)] + ["reader"]:
        assert main(["user", "add", name, "--role", "officer", "--villages", V1, "--password-stdin", "--db", db_url],
                    stdin=io.StringIO(PASSWORD), stdout=io.StringIO()) == 0
    with serve(db_url, tmp_path / "server.log") as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            creds = [_register(client, f"w{i}") for i in range(WRITERS)]
            reader = _register(client, "reader")
        acked: dict[tuple[str, str], int] = {}
        seen: dict[tuple[str, str], int] = {}
        errors: list[BaseException] = []
        lock, done = threading.Lock(), threading.Event()

        def guarded(fn: Any, *args: Any) -> None:
            try:
                fn(*args)
            except BaseException as exc:  # noqa: BLE001 — re-raised in the test thread below
                errors.append(exc)

        writers = [threading.Thread(target=guarded, args=(_writer, base, creds[i], i, acked, lock))
                   for i in range(WRITERS)]
        pages: list[int] = []
        follower = threading.Thread(target=guarded, args=(lambda: pages.append(_follow(base, reader["token"], done,
                                                                                         seen)),))
        follower.start()
        for w in writers:
            w.start()
        for w in writers:
            w.join(timeout=120)
        done.set()
        follower.join(timeout=120)
        assert not errors, errors
        with httpx.Client(base_url=base, timeout=30) as client:
            full: dict[tuple[str, str], int] = {}
            since = 0
            while True:
                page = client.get("/v1/sync/pull", params={"scope": V1, "since": since, "limit": 5000},
                                  headers={"Authorization": f"Bearer {reader['token']}"}).json()
                full.update({(r["entity"], r["id"]): r["version"] for r in page["records"]})
                since = page["next"]
                if not page["more"]:
                    break
    assert len(full) == WRITERS * BATCHES * CREATES_PER_BATCH
    assert seen == full  # the incremental reader missed nothing and ended on the latest versions
    assert acked == full  # every acknowledged write is what the feed ends with
    assert pages and pages[0] > BATCHES  # the reader really interleaved with the writers
    assert len(set(full.values())) == len(full)
