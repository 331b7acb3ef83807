"""Who may read and write what: one table of (caller, request, expected status).

Villages: V1 (the officer's), V3 (same regency 32.01, another officer's), V_OTHER (regency 33.02).
A village code is public, so asking for another village's feed or report is 403; a record or a
conflict is addressed by its id, and one outside the caller's scopes is 404 exactly like a
missing one, so a refusal never tells that it exists elsewhere. A pushed op outside the caller's
scopes is rejected per op (DESIGN §4: one record never blocks the queue): the push answers 200,
the op is consumed as ``rejected`` ("Di luar desa tugas Anda."), and nothing outside the caller's
scopes is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from desmig_server.db import tables as t
from tests.server.conftest import open_hq
from tests.server.support import OTHER_REGENCY, REGENCY, V1, V3, V_OTHER, Device, Hq, household, make_op, member

RIDS = {V1: "h-v1", V3: "h-v3", V_OTHER: "h-other"}
MISSING = "h-missing"


@dataclass
class World:
    hq: Hq
    devices: dict[str, Device]  # caller name -> device
    conflicts: dict[str, int]  # village -> an open conflict id there
    seqs: dict[str, int]

    def push(self, caller: str, *ops: dict[str, Any]) -> httpx.Response:
        dev = self.devices[caller]
        response = dev.push(*ops)
        if response.status_code == 200:  # its ops were consumed (applied or rejected)
            dev.next_seq += len(ops)
        return response

    def op(self, caller: str, entity: str, rid: str, fields: dict[str, Any], base: int = 0) -> dict[str, Any]:
        # Refused pushes do not advance the device's watermark, so every attempt reuses the next seq.
        dev = self.devices[caller]
        return make_op(dev.next_seq, entity, rid, fields, base=base)


@pytest.fixture(scope="module")
def world(module_db_url: str) -> Iterator[World]:
    for hq_app in open_hq(module_db_url):
        hq_app.add_user("ofc", "officer", villages=[V1])
        hq_app.add_user("ofc3", "officer", villages=[V3])
        hq_app.add_user("ofc_other", "officer", villages=[V_OTHER])
        hq_app.add_user("sup", "supervisor", regency=REGENCY)
        hq_app.add_user("sup_other", "supervisor", regency=OTHER_REGENCY)
        hq_app.add_user("pusat", "hq")
        devices = {name: hq_app.register(name) for name in ("ofc", "ofc3", "ofc_other", "sup", "sup_other", "pusat")}
        for name in ("ofc", "ofc3", "ofc_other"):
            devices[f"{name}-2"] = hq_app.register(name, device_name="second")
        devices["revoked"] = hq_app.register("ofc", device_name="lost")
        devices["expired"] = hq_app.register("ofc", device_name="old")
        assert hq_app.client.post("/v1/devices/revoke", headers=devices["revoked"].headers).status_code == 200
        with hq_app.ctx.db.write() as conn:
            conn.execute(update(t.devices).where(t.devices.c.device_id == devices["expired"].device_id)
                         .values(token_expires_at=1.0))
        conflicts = {}
        for owner, village in (("ofc", V1), ("ofc3", V3), ("ofc_other", V_OTHER)):
            first, second = devices[owner], devices[f"{owner}-2"]
            rid = RIDS[village]
            [created] = first.push_ok(first.op("households", rid, household(village)))
            first.push_ok(first.op("members", rid + "-m", member(rid, nik="3201014101900001")),
                          first.op("households", rid, {"head_name": "satu"}))
            second.push_ok(second.op("households", rid, {"head_name": "dua"}, base=created["version"]))
            conflicts[village] = int(hq_app.conflicts()[-1]["id"])
        yield World(hq_app, devices, conflicts, {})


Request = Callable[[World, str], httpx.Response]


def get(path: str, **params: Any) -> Request:
    return lambda w, caller: w.hq.client.get(path, params=params, headers=w.devices[caller].headers)


def pull(village: str) -> Request:
    return get("/v1/sync/pull", scope=village)


def history(rid: str, entity: str = "households") -> Request:
    return get(f"/v1/records/{entity}/{rid}/history")


def report(prefix: str) -> Request:
    return get("/v1/reports", level="village", prefix=prefix)


def resolve(village: str | None) -> Request:
    def call(w: World, caller: str) -> httpx.Response:
        conflict_id = w.conflicts[village] if village else 999_999
        return w.hq.client.post(f"/v1/conflicts/{conflict_id}/resolve", json={"action": "dismiss"},
                                headers=w.devices[caller].headers)
    return call


def push_new(village: str) -> Request:
    return lambda w, caller: w.push(caller, w.op(caller, "households", f"new-{caller}", household(village)))


def push_edit(village: str) -> Request:
    """Edit a stored household of ``village`` without naming its village (the stored scope decides)."""
    return lambda w, caller: w.push(caller, w.op(caller, "households", RIDS[village], {"notes": "x"}, base=999))


def push_child(village: str) -> Request:
    return lambda w, caller: w.push(caller, w.op(caller, "members", f"m-{caller}", member(RIDS[village])))


def push_move_into(village: str) -> Request:
    """Move the caller's own V1 household into ``village``."""
    return lambda w, caller: w.push(caller, w.op(caller, "households", RIDS[V1], {"village_code": village}, base=999))


OK, FORBIDDEN, NOT_FOUND, UNAUTHORIZED, EXPIRED = (200, "-"), (403, "forbidden"), (404, "not_found"), \
    (401, "unauthorized"), (401, "token_expired")
OUTSIDE = (200, "rejected: outside the caller's villages")
OUTSIDE_REASON = "Di luar desa tugas Anda."

CASES: list[tuple[str, str, Request, tuple[int, str]]] = [
    # an officer: own village only — reads, writes, reports; histories are for supervisors and HQ
    ("ofc", "pull own village", pull(V1), OK),
    ("ofc", "pull same-regency village", pull(V3), FORBIDDEN),
    ("ofc", "pull other-province village", pull(V_OTHER), FORBIDDEN),
    ("ofc", "push new household elsewhere", push_new(V_OTHER), OUTSIDE),
    ("ofc", "push edit of a household elsewhere", push_edit(V3), OUTSIDE),
    ("ofc", "push member under a household elsewhere", push_child(V_OTHER), OUTSIDE),
    ("ofc", "push move own household elsewhere", push_move_into(V3), OUTSIDE),
    ("ofc", "report own village", report(V1), OK),
    ("ofc", "report other village", report(V_OTHER), FORBIDDEN),
    ("ofc", "report other regency", report(OTHER_REGENCY), FORBIDDEN),
    ("ofc", "conflicts of other village", get("/v1/conflicts", scope=V3), FORBIDDEN),
    ("ofc", "resolve own conflict", resolve(V1), FORBIDDEN),
    ("ofc", "history own record", history(RIDS[V1]), FORBIDDEN),
    ("ofc", "history other record", history(RIDS[V_OTHER]), FORBIDDEN),
    ("ofc", "history missing record", history(MISSING), FORBIDDEN),
    # a supervisor: its regency's villages, every one of them
    ("sup", "pull own village", pull(V1), OK),
    ("sup", "pull another village of the regency", pull(V3), OK),
    ("sup", "pull other regency", pull(V_OTHER), FORBIDDEN),
    ("sup", "push edit in other regency", push_edit(V_OTHER), OUTSIDE),
    ("sup", "report own regency", report(REGENCY), OK),
    ("sup", "report other regency", report(OTHER_REGENCY), FORBIDDEN),
    ("sup", "history in regency", history(RIDS[V3]), OK),
    ("sup", "history of a member in regency", history(RIDS[V1] + "-m", "members"), OK),
    ("sup", "history other regency", history(RIDS[V_OTHER]), NOT_FOUND),
    ("sup", "history other regency member", history(RIDS[V_OTHER] + "-m", "members"), NOT_FOUND),
    ("sup", "history missing record", history(MISSING), NOT_FOUND),
    ("sup", "resolve conflict in other regency", resolve(V_OTHER), NOT_FOUND),
    ("sup", "resolve missing conflict", resolve(None), NOT_FOUND),
    ("sup_other", "history of the first regency", history(RIDS[V1]), NOT_FOUND),
    ("sup_other", "pull the first regency", pull(V1), FORBIDDEN),
    # HQ: everything
    ("pusat", "pull any village", pull(V_OTHER), OK),
    ("pusat", "history any record", history(RIDS[V_OTHER]), OK),
    ("pusat", "history missing record", history(MISSING), NOT_FOUND),
    ("pusat", "report anywhere", report(OTHER_REGENCY), OK),
]
# a revoked or an expired token opens nothing, in its own village included
for _token, _expected in (("revoked", UNAUTHORIZED), ("expired", EXPIRED)):
    for _what, _request in (("pull own village", pull(V1)), ("push new household", push_new(V1)),
                            ("report own village", report(V1)), ("hello", get("/v1/sync/hello")),
                            ("conflicts", get("/v1/conflicts")), ("history", history(RIDS[V1])),
                            ("devices", get("/v1/devices")), ("reference", get("/v1/reference/kbli"))):
        CASES.append((_token, _what, _request, _expected))


@pytest.mark.parametrize(("caller", "what", "request_", "expected"),
                         [pytest.param(*case, id=f"{case[0]}-{case[1].replace(' ', '_')}") for case in CASES])
def test_authorization_table(world: World, caller: str, what: str, request_: Request,
                             expected: tuple[int, str]) -> None:
    before = world.hq.snapshot()
    response = request_(world, caller)
    status, error = expected
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["error"] == error
        assert world.hq.snapshot() == before, "a refused request stored something"
    elif expected == OUTSIDE:
        [result] = response.json()["results"]
        assert (result["status"], result["reason"]) == ("rejected", OUTSIDE_REASON)
        assert _written(before, world.hq.snapshot()) <= {RIDS[V1]}, "an op outside the caller's scopes wrote"


def _written(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> set[str]:
    """Ids of records whose row changed, asserting nothing else but the op's bookkeeping changed.

    Only a record of the caller's own scopes may change (a refused move touches it: a new
    version, the same data, so the author's next pull restores it); history and conflicts never."""
    for name in before:
        if name not in ("records", "applied_ops", "devices", "seq_counter"):
            assert before[name] == after[name], name
    old = {(r[0], r[1]): r for r in before["records"]}
    new = {(r[0], r[1]): r for r in after["records"]}
    assert old.keys() == new.keys()
    changed = {key[1] for key in old if old[key] != new[key]}
    for key in old:  # entity, id, scope, prev_scope, parent_id, data: never changed
        assert old[key][:6] == new[key][:6]
    return changed


def test_not_found_outside_the_scope_is_indistinguishable_from_missing(world: World) -> None:
    elsewhere = history(RIDS[V_OTHER])(world, "sup")
    missing = history(MISSING)(world, "sup")
    assert (elsewhere.status_code, elsewhere.json()) == (missing.status_code, missing.json())
    elsewhere = resolve(V_OTHER)(world, "sup")
    missing = resolve(None)(world, "sup")
    assert (elsewhere.status_code, elsewhere.json()) == (missing.status_code, missing.json())


def test_a_refused_push_does_not_tell_where_a_record_lives(world: World) -> None:
    response = push_edit(V_OTHER)(world, "ofc")
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["status"], result["reason"], result["version"]) == ("rejected", OUTSIDE_REASON, 0)
    assert V_OTHER not in response.text and OTHER_REGENCY not in response.text


def test_listings_only_show_the_callers_scopes(world: World) -> None:
    def scopes(caller: str) -> set[str]:
        body = world.hq.client.get("/v1/conflicts", headers=world.devices[caller].headers).json()
        return {c["scope"] for c in body["conflicts"]}

    assert scopes("ofc") == {V1}
    assert scopes("sup") == {V1, V3}
    assert scopes("pusat") == {V1, V3, V_OTHER}
    rows = get("/v1/reports", level="village")(world, "ofc").json()["rows"]
    assert {r["code"] for r in rows} == {V1}
    rows = get("/v1/reports", level="village")(world, "sup").json()["rows"]
    assert {r["code"] for r in rows} == {V1, V3}
    hello = get("/v1/sync/hello")(world, "sup").json()
    assert V1 in hello["scopes"] and V_OTHER not in hello["scopes"]
    assert all(s.startswith(REGENCY + ".") for s in hello["scopes"])
