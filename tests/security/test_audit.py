"""The server's field history: every applied change once, every losing value, in the push transaction."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from desmig_server.db import tables as t
from tests.server.support import REGENCY, V1, V_OTHER, Device, Hq, business, household, member

NIK = "3201014101900001"
PHONE = "081234567890"


def history_rows(hq_app: Hq, record_id: str | None = None) -> list[dict[str, Any]]:
    """The stored ``record_history`` rows, oldest first, ``changes`` decoded."""
    h = t.record_history
    with hq_app.ctx.db.read() as conn:
        query = select(h).order_by(h.c.id)
        if record_id is not None:
            query = query.where(h.c.record_id == record_id)
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["changes"] = json.loads(r["changes"])
    return rows


def audit_rows(hq_app: Hq, record_id: str | None = None) -> list[dict[str, Any]]:
    """The history as one entry per changed field (the API's view), in stored order."""
    return [{**r, "field": key, "old_value": old, "new_value": new}
            for r in history_rows(hq_app, record_id) for key, (old, new) in sorted(r["changes"].items())]


def changes(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["field"], r["old_value"], r["new_value"], r["outcome"]) for r in rows]


def history(hq_app: Hq, dev: Device, record_id: str, entity: str = "households", **params: Any) -> Any:
    return hq_app.client.get(f"/v1/records/{entity}/{record_id}/history", params=params, headers=dev.headers)


@pytest.fixture
def ofc(hq_app: Hq) -> Device:
    return hq_app.user_device("ofc", "officer", villages=[V1])


@pytest.fixture
def boss(hq_app: Hq) -> Device:
    return hq_app.user_device("pusat", "hq")


def test_every_applied_field_change_appears_once(hq_app: Hq, ofc: Device, boss: Device) -> None:
    create = ofc.op("households", "h1", household(phone=PHONE))
    edit = ofc.op("households", "h1", {"head_name": "Budi S.", "rt": "003"})
    same = ofc.op("households", "h1", {"head_name": "Budi S."})  # no change: no history
    ofc.push_ok(create, edit, same)
    # a retried request (lost reply) is a replay: applied once, recorded once
    assert ofc.push(create, edit, same).status_code == 200
    rows = audit_rows(hq_app, "h1")
    assert [r["op_seq"] for r in rows if r["field"] == "head_name"] == [1, 2]
    assert sorted(changes(r for r in rows if r["op_seq"] == 1)) == sorted(
        (k, None, v, "applied") for k, v in household(phone=PHONE).items())
    assert sorted(changes(r for r in rows if r["op_seq"] == 2)) == [
        ("head_name", "Budi Santoso", "Budi S.", "applied"), ("rt", None, "003", "applied")]
    assert {(r["username"], r["device_id"], r["role"], r["entity"], r["scope"]) for r in rows} == {
        ("ofc", ofc.device_id, "officer", "households", V1)}
    assert all(r["at"].endswith("Z") or "+" in r["at"] for r in rows)
    assert [r["version"] for r in rows if r["op_seq"] == 2] == [2, 2]
    # one stored row per op and record, whatever the number of fields it changed
    assert [(r["op_seq"], r["outcome"], len(r["changes"])) for r in history_rows(hq_app, "h1")] == [
        (1, "applied", len(household(phone=PHONE))), (2, "applied", 2)]


def test_conflicts_record_the_losing_value(hq_app: Hq) -> None:
    first = hq_app.user_device("ofc", "officer", villages=[V1])
    second = hq_app.register("ofc", device_name="second")
    boss = hq_app.user_device("pusat", "hq")
    [created] = first.push_ok(first.op("households", "h1", household()))
    first.push_ok(first.op("households", "h1", {"head_name": "satu"}))
    # same rank, later arrival wins: "satu" is overwritten, and is the losing value
    second.push_ok(second.op("households", "h1", {"head_name": "dua"}, base=created["version"]))
    # lower rank loses against HQ: the officer's "tiga" is never applied, and is recorded
    boss.push_ok(boss.op("households", "h1", {"head_name": "pusat"}, base=created["version"] + 2))
    first.push_ok(first.op("households", "h1", {"head_name": "tiga"}, base=created["version"] + 1))
    rows = [r for r in audit_rows(hq_app, "h1") if r["field"] == "head_name"]
    assert changes(rows) == [
        ("head_name", None, "Budi Santoso", "applied"),
        ("head_name", "Budi Santoso", "satu", "applied"),
        ("head_name", "satu", "dua", "conflict_won"),
        ("head_name", "dua", "pusat", "applied"),
        ("head_name", "pusat", "tiga", "conflict_lost"),
    ]
    assert hq_app.data("households", "h1")["head_name"] == "pusat"
    assert rows[-1]["username"] == "ofc" and rows[-1]["device_id"] == first.device_id


def test_deletes_cascades_and_delete_edit_races_are_recorded(hq_app: Hq, ofc: Device) -> None:
    other = hq_app.register("ofc", device_name="second")
    [h] = ofc.push_ok(ofc.op("households", "h1", household()))
    ofc.push_ok(ofc.op("members", "m1", member("h1")), ofc.op("businesses", "b1", business("h1")))
    # an edit made without seeing the deletion loses: each of its fields is a losing value
    ofc.push_ok(ofc.op("households", "h1", kind="delete"))
    other.push_ok(other.op("households", "h1", {"notes": "terlambat"}, base=h["version"]))
    rows = audit_rows(hq_app)
    deleted = {(r["entity"], r["record_id"], r["outcome"]) for r in rows if r["field"] == "deleted"}
    assert deleted == {("households", "h1", "applied"), ("members", "m1", "cascade"),
                       ("businesses", "b1", "cascade")}
    lost = [r for r in rows if r["outcome"] == "conflict_lost"]
    assert changes(lost) == [("notes", None, "terlambat", "conflict_lost")]
    assert lost[0]["device_id"] == other.device_id


def test_the_history_endpoint_serves_hq_and_the_regencys_supervisor(hq_app: Hq, ofc: Device, boss: Device) -> None:
    sup = hq_app.user_device("sup", "supervisor", regency=REGENCY)
    ofc.push_ok(ofc.op("households", "h1", household(phone=PHONE)),
                ofc.op("members", "m1", member("h1", nik=NIK)))
    ofc.push_ok(ofc.op("households", "h1", {"head_name": "Budi S."}))
    for reader in (boss, sup):
        body = history(hq_app, reader, "h1").json()
        assert (body["entity"], body["id"], body["scope"], body["deleted"]) == ("households", "h1", V1, False)
        assert body["version"] == hq_app.record("households", "h1").version
        last = body["history"][-1]
        assert (last["field"], last["old_value"], last["new_value"], last["username"], last["op_seq"]) == (
            "head_name", "Budi Santoso", "Budi S.", "ofc", 3)
    nik = [e for e in history(hq_app, boss, "m1", "members").json()["history"] if e["field"] == "nik"]
    assert [e["new_value"] for e in nik] == [NIK]  # HQ sees the values: the audit is for them
    assert history(hq_app, ofc, "h1").status_code == 403


def test_history_pages_with_a_cursor(hq_app: Hq, ofc: Device, boss: Device) -> None:
    ofc.push_ok(ofc.op("households", "h1", household()))
    for i in range(3):
        ofc.push_ok(ofc.op("households", "h1", {"notes": f"catatan {i}"}))
    everything = history(hq_app, boss, "h1").json()["history"]
    seen: list[int] = []
    after = 0
    while True:
        page = history(hq_app, boss, "h1", after=after, limit=2).json()
        seen += [e["id"] for e in page["history"]]
        after = page["next"]
        if not page["more"]:
            break
    assert seen == [e["id"] for e in everything] and len(seen) == len(household()) + 3


def test_resolving_a_conflict_by_applying_the_losing_value_is_recorded(hq_app: Hq) -> None:
    first = hq_app.user_device("ofc", "officer", villages=[V1])
    second = hq_app.register("ofc", device_name="second")
    sup = hq_app.user_device("sup", "supervisor", regency=REGENCY)
    [created] = first.push_ok(first.op("households", "h1", household()))
    first.push_ok(first.op("households", "h1", {"head_name": "satu"}))
    second.push_ok(second.op("households", "h1", {"head_name": "dua"}, base=created["version"]))
    conflict_id = hq_app.conflicts()[-1]["id"]
    response = hq_app.client.post(f"/v1/conflicts/{conflict_id}/resolve", json={"action": "apply_losing"},
                              headers=sup.headers)
    assert response.status_code == 200, response.text
    last = audit_rows(hq_app, "h1")[-1]
    assert changes([last]) == [("head_name", "dua", "satu", "applied")]
    assert (last["username"], last["role"], last["op_seq"]) == ("sup", "supervisor", None)


def test_a_refused_push_leaves_no_history(hq_app: Hq, ofc: Device) -> None:
    ofc.push_ok(ofc.op("households", "h1", household()))
    before = len(audit_rows(hq_app))
    outside = ofc.op("households", "h2", household(V_OTHER))  # rejected per op (DESIGN §4)
    rejected = ofc.op("households", "h3", household(visited_on="2999-01-01"))
    assert [r["status"] for r in ofc.push_ok(outside, rejected)] == ["rejected", "rejected"]
    assert len(audit_rows(hq_app)) == before


def test_field_values_never_reach_the_logs(hq_app: Hq, ofc: Device, boss: Device,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ofc.push_ok(ofc.op("households", "h1", household(phone=PHONE, kk_number="3201010101010001")),
                ofc.op("members", "m1", member("h1", nik=NIK)))
    ofc.push_ok(ofc.op("members", "m1", {"nik": "3201014101900002"}))
    assert history(hq_app, boss, "m1", "members").status_code == 200
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert logged  # something was logged, or this proves nothing
    for secret in (NIK, "3201014101900002", "3201010101010001", PHONE, "Siti Aminah"):
        assert secret not in logged
    assert len([r for r in audit_rows(hq_app) if r["field"] == "nik"]) == 2
