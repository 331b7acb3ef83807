"""Device succession by lineage (``auth.lineage``, issue 17 §3), on SQLite and PostgreSQL: which
device a registration gets, where its numbering starts, which devices it fences; hostile lineage
claims; and a registration racing the old device's pushes (the fence is atomic with them)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from desmig_server.db import tables as t

from .support import PASSWORD, V1, Device, Hq, household, make_op, serve

LINEAGE = "0b6c5d1e-3f7a-4c2b-9d8e-1a2b3c4d5e6f"


def register(hq_app: Hq, name: str = "ana", *, device_id: str | None = None, lineage: str = LINEAGE, base: int = 0,
             devices: list[dict[str, Any]] | None = None) -> tuple[Device, int | None]:
    body: dict[str, Any] = {"username": name, "password": PASSWORD, "device_name": "laptop",
                            "lineage": {"id": lineage, "base": base, "devices": devices or []}}
    if device_id:
        body["device_id"] = device_id
    response = hq_app.client.post("/v1/devices/register", json=body)
    assert response.status_code == 200, response.text
    reply = response.json()
    return Device(hq_app.client, name, reply["device_id"], reply["token"]), reply["lineage_base"]


def push_creates(device: Device, n: int, tag: str) -> None:
    device.push_ok(*[device.op("households", f"{tag}-{i}", household()) for i in range(n)])


def device_row(hq_app: Hq, device_id: str) -> Any:
    with hq_app.ctx.db.read() as conn:
        return conn.execute(select(t.devices).where(t.devices.c.device_id == device_id)).one()


@pytest.fixture
def ana(hq_app: Hq) -> Hq:
    hq_app.add_user("ana", "officer", villages=[V1])
    hq_app.add_user("budi", "officer", villages=[V1])
    return hq_app


def test_a_new_lineage_starts_where_the_laptop_says(ana: Hq) -> None:
    first, base = register(ana, base=7)
    assert base == 7
    row = device_row(ana, first.device_id)
    assert (row.lineage, row.lineage_base, row.last_op_seq) == (LINEAGE, 7, 0)


def test_the_live_device_carries_on_when_named(ana: Hq) -> None:
    first, _ = register(ana, base=3)
    push_creates(first, 4, "a")
    again, base = register(ana, device_id=first.device_id)
    assert (again.device_id, base) == (first.device_id, 3)  # same device, same numbering: replays stay replays
    assert again.push(make_op(4, "households", "a-3", household())).status_code == 200
    assert first.push(make_op(5, "households", "x", household())).status_code == 401  # the old token died


@pytest.mark.parametrize("named", ["revoked", "unnamed", "older"])
def test_otherwise_a_new_device_starts_at_the_lineage_watermark_and_fences_the_live_one(ana: Hq, named: str) -> None:
    """``revoked``: the named device was revoked (a logout); ``unnamed``: a login naming no device;
    ``older``: a restored backup names the device it knew, which a later one succeeded."""
    first, _ = register(ana, base=10)
    push_creates(first, 5, "a")  # lineage ops 11..15
    if named == "revoked":
        assert ana.client.post("/v1/devices/revoke", headers=first.headers).status_code == 200
    wish = None if named == "unnamed" else first.device_id
    if named == "older":
        second, base = register(ana, device_id=None)
        assert base == 15
        push_creates(second, 3, "b")  # lineage ops 16..18
        live = second
    else:
        live = first
    new, base = register(ana, device_id=wish)
    assert new.device_id not in (first.device_id, live.device_id)
    assert base == (18 if named == "older" else 15)
    assert live.push(make_op(live.next_seq, "households", "late", household())).status_code == 401  # fenced
    assert device_row(ana, live.device_id).revoked
    assert device_row(ana, new.device_id).lineage_base == base
    push_creates(new, 1, "c")


def test_a_device_of_an_older_app_is_adopted_with_the_base_the_laptop_gives(ana: Hq) -> None:
    old = ana.register("ana")  # no lineage (an older app)
    push_creates(old, 6, "a")
    _new, base = register(ana, device_id=None, base=2, devices=[{"device_id": old.device_id, "base": 2}])
    assert base == 8  # its six ops after the laptop's op 2
    assert device_row(ana, old.device_id).lineage == LINEAGE and device_row(ana, old.device_id).revoked


def test_another_users_devices_never_count(ana: Hq) -> None:
    budi, _ = register(ana, "budi", base=0)
    push_creates(budi, 4, "b")
    _mine, base = register(ana, "ana", base=1, devices=[{"device_id": budi.device_id, "base": 0}])
    assert base == 1
    row = device_row(ana, budi.device_id)
    assert not row.revoked and row.lineage == LINEAGE and row.username == "budi"  # untouched
    assert budi.push(make_op(5, "households", "b-5", household())).status_code == 200


@pytest.mark.parametrize("lineage", [
    {"id": "", "base": 0},
    {"id": "x" * 37, "base": 0},
    {"id": "bad id!", "base": 0},
    {"id": LINEAGE, "base": -1},
    {"id": LINEAGE, "base": 2**63},
    {"id": LINEAGE, "base": "3"},
    {"id": LINEAGE, "base": 0, "devices": [{"device_id": "d", "base": 0}] * 51},
    {"id": LINEAGE, "base": 0, "devices": [{"device_id": "d;drop", "base": 0}]},
    {"id": LINEAGE},
    "lineage",
])
def test_a_malformed_lineage_is_refused_and_registers_nothing(ana: Hq, lineage: Any) -> None:
    before = ana.snapshot()["devices"]
    response = ana.client.post("/v1/devices/register", json={"username": "ana", "password": PASSWORD,
                                                               "device_name": "laptop", "lineage": lineage})
    assert response.status_code == 422, response.text
    assert ana.snapshot()["devices"] == before


def test_a_wrong_password_with_a_lineage_fences_nothing(ana: Hq) -> None:
    first, _ = register(ana)
    response = ana.client.post("/v1/devices/register", json={
        "username": "ana", "password": "salah", "device_name": "x", "lineage": {"id": LINEAGE, "base": 0}})
    assert response.status_code == 401
    assert not device_row(ana, first.device_id).revoked


def test_registration_racing_the_old_devices_pushes(db_url: str, tmp_path: Path, ana: Hq) -> None:
    """The old device pushes one op at a time while the laptop registers again: every op the old
    device got applied lies at or below the new device's start, and none is applied after it."""
    first, _ = register(ana, base=0)
    with serve(db_url, tmp_path / "serve.log") as base_url:
        applied: list[int] = []
        stop = threading.Event()

        def pusher() -> None:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                for seq in range(1, 200):
                    if stop.is_set():
                        return
                    response = client.post("/v1/sync/push", headers=first.headers, json={
                        "device_id": first.device_id, "app_schema": 1,
                        "ops": [make_op(seq, "households", f"r-{seq}", household())]})
                    if response.status_code == 401:
                        return
                    assert response.status_code == 200, response.text
                    applied.append(response.json()["last_op_seq"])

        thread = threading.Thread(target=pusher)
        thread.start()
        while not applied:
            stop.wait(0.01)
        with httpx.Client(base_url=base_url, timeout=60) as client:
            reply = client.post("/v1/devices/register", json={
                "username": "ana", "password": PASSWORD, "device_name": "laptop",
                "lineage": {"id": LINEAGE, "base": 0}}).json()
        thread.join(60)
        stop.set()
    final = device_row(ana, first.device_id)
    assert final.revoked
    assert reply["lineage_base"] == final.last_op_seq == max(applied)  # nothing slipped past the fence
