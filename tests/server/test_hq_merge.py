"""Field-level three-way merge, role priority, arrival order, and delete-vs-edit races.

Every test starts from household h1 created by officer device ``a`` and seen by all devices,
so ``base`` (the version everyone saw) is the same for each concurrent edit below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from .support import REGENCY, V1, V2, Device, Hq, household, make_op, member


@dataclass
class World:
    hq: Hq
    a: Device  # officer
    b: Device  # officer, same village
    s: Device  # supervisor of the regency
    h: Device  # hq
    base: int  # the version of h1 every device has seen


@pytest.fixture
def world(hq_app: Hq) -> World:
    a = hq_app.user_device("ani", "officer", villages=[V1, V2])
    b = hq_app.user_device("bayu", "officer", villages=[V1])
    s = hq_app.user_device("sari", "supervisor", regency=REGENCY)
    h = hq_app.user_device("hana", "hq")
    [created] = a.push_ok(a.op("households", "h1", household(hamlet="Dusun I", rt="001")))
    for dev in (b, s, h):
        dev.pull(V1)
    return World(hq_app, a, b, s, h, created["version"])


def conflict_rows(hq_app: Hq) -> list[dict[str, Any]]:
    return [{**row, "winning_value": json.loads(row["winning_value"]), "losing_value": json.loads(row["losing_value"])}
            for row in hq_app.conflicts()]


def test_disjoint_fields_merge_silently(world: World) -> None:
    w = world
    assert w.a.push_ok(w.a.op("households", "h1", {"head_name": "Budi A"}))[0]["status"] == "ok"
    [merged] = w.b.push_ok(w.b.op("households", "h1", {"hamlet": "Dusun II"}, base=w.base))
    assert merged["status"] == "merged"
    data = w.hq.data("households", "h1")
    assert (data["head_name"], data["hamlet"], data["rt"]) == ("Budi A", "Dusun II", "001")
    assert w.hq.conflicts() == []


def test_same_field_same_role_later_arrival_wins_and_loser_is_recorded(world: World) -> None:
    w = world
    [first] = w.a.push_ok(w.a.op("households", "h1", {"head_name": "Versi A"}))
    second_op = w.b.op("households", "h1", {"head_name": "Versi B"}, base=w.base)
    [second] = w.b.push_ok(second_op)
    assert second["status"] == "conflict" and second["conflicts"] == [{"field": "head_name", "won": True}]
    # the ack was lost: the replay answers exactly as the first time
    replay = w.b.push(make_op(second_op["op_seq"], "households", "h1", {"head_name": "Versi B"}, base=w.base))
    assert replay.status_code == 200 and replay.json()["results"] == [second]
    assert w.hq.data("households", "h1")["head_name"] == "Versi B"
    [row] = conflict_rows(w.hq)
    assert (row["kind"], row["field"], row["status"]) == ("conflict", "head_name", "open")
    assert (row["winning_value"], row["winner_device"], row["winner_user"]) == ("Versi B", w.b.device_id, "bayu")
    assert (row["losing_value"], row["loser_device"], row["loser_user"], row["loser_role"]) == (
        "Versi A", w.a.device_id, "ani", "officer")
    assert row["scope"] == V1 and row["version"] == second["version"] > first["version"]


@pytest.mark.parametrize(("first", "second", "winner"), [
    ("s", "a", "s"),  # supervisor first, officer later: role beats arrival
    ("a", "s", "s"),  # officer first, supervisor later
    ("h", "s", "h"),  # hq beats supervisor
    ("a", "h", "h"),
])
def test_same_field_higher_role_wins_whatever_the_order(world: World, first: str, second: str, winner: str) -> None:
    w = world
    devs = {"a": w.a, "s": w.s, "h": w.h}
    value = {"a": "oleh petugas", "s": "oleh supervisor", "h": "oleh pusat"}
    devs[first].push_ok(devs[first].op("households", "h1", {"head_name": value[first]}, base=w.base))
    [late] = devs[second].push_ok(devs[second].op("households", "h1", {"head_name": value[second]}, base=w.base))
    assert late["status"] == "conflict"
    [row] = conflict_rows(w.hq)
    if second == winner:
        assert late["conflicts"] == [{"field": "head_name", "won": True}]
    else:  # the pusher lost: the result says to what, by whom and why (the device's inbox)
        assert late["conflicts"] == [{"field": "head_name", "won": False, "id": row["id"], "kind": "conflict",
                                      "theirs": value[winner], "rule": "higher_role",
                                      "winner": {"role": row["winner_role"], "username": row["winner_user"]}}]
    assert w.hq.data("households", "h1")["head_name"] == value[winner]
    loser = second if winner == first else first
    assert (row["winning_value"], row["losing_value"]) == (value[winner], value[loser])
    assert (row["winner_device"], row["loser_device"]) == (devs[winner].device_id, devs[loser].device_id)


def test_losing_incoming_op_still_applies_its_other_fields_and_resends_the_record(world: World) -> None:
    w = world
    [by_sup] = w.s.push_ok(w.s.op("households", "h1", {"head_name": "Supervisor"}, base=w.base))
    [late] = w.a.push_ok(w.a.op("households", "h1", {"head_name": "Petugas", "rt": "002"}, base=w.base))
    assert late["status"] == "conflict" and late["version"] > by_sup["version"]
    data = w.hq.data("households", "h1")
    assert (data["head_name"], data["rt"]) == ("Supervisor", "002")
    # the officer's next pull carries the authoritative record
    assert [r["data"]["head_name"] for r in w.a.pull(V1, since=by_sup["version"])["records"]] == ["Supervisor"]


def test_own_device_history_and_equal_values_are_not_conflicts(world: World) -> None:
    w = world
    w.a.push_ok(w.a.op("households", "h1", {"head_name": "Satu"}, base=w.base))
    [again] = w.a.push_ok(w.a.op("households", "h1", {"head_name": "Dua"}, base=w.base))  # not yet rebased
    assert again["status"] == "ok"
    [same] = w.b.push_ok(w.b.op("households", "h1", {"head_name": "Dua"}, base=w.base))
    assert same["status"] == "merged"
    assert w.hq.conflicts() == []


def test_edit_after_seeing_the_change_is_not_a_conflict(world: World) -> None:
    w = world
    w.a.push_ok(w.a.op("households", "h1", {"head_name": "Satu"}))
    w.b.pull(V1)  # b now has the new version as its base
    assert w.b.push_ok(w.b.op("households", "h1", {"head_name": "Dua"}))[0]["status"] == "ok"
    assert w.hq.conflicts() == []


def test_delete_racing_an_earlier_edit_is_refused_and_recorded(world: World) -> None:
    w = world
    w.a.push_ok(w.a.op("households", "h1", {"head_name": "Diubah"}))
    [delete] = w.b.push_ok(w.b.op("households", "h1", kind="delete", base=w.base))
    assert delete["status"] == "conflict"
    assert not w.hq.record("households", "h1").deleted
    [row] = conflict_rows(w.hq)
    assert (row["kind"], row["field"], row["losing_value"]) == ("delete_edit", "*", {"deleted": True})
    assert (row["loser_device"], row["winner_device"]) == (w.b.device_id, w.a.device_id)
    assert row["winning_value"]["head_name"] == "Diubah"


def test_edit_racing_an_earlier_delete_is_not_applied_and_recorded(world: World) -> None:
    w = world
    [deleted] = w.b.push_ok(w.b.op("households", "h1", kind="delete", base=w.base))
    [edit] = w.a.push_ok(w.a.op("households", "h1", {"head_name": "Terlambat"}, base=w.base))
    assert edit["status"] == "conflict" and edit["version"] > deleted["version"]
    rec = w.hq.record("households", "h1")
    assert rec.deleted and w.hq.data("households", "h1")["head_name"] == "Budi Santoso"
    [row] = conflict_rows(w.hq)
    assert (row["kind"], row["winning_value"], row["losing_value"]) == (
        "delete_edit", {"deleted": True}, {"head_name": "Terlambat"})
    assert (row["loser_device"], row["winner_device"]) == (w.a.device_id, w.b.device_id)


def test_new_child_under_a_concurrently_deleted_parent_is_recorded(world: World) -> None:
    w = world
    w.b.push_ok(w.b.op("households", "h1", kind="delete", base=w.base))
    [child] = w.a.push_ok(w.a.op("members", "m9", member("h1")))
    assert child["status"] == "conflict"
    assert w.hq.record("members", "m9") is None
    [row] = conflict_rows(w.hq)
    assert (row["entity"], row["record_id"], row["kind"]) == ("members", "m9", "delete_edit")
    assert row["losing_value"]["name"] == "Siti Aminah"


def test_delete_is_refused_when_a_descendant_changed_concurrently(world: World) -> None:
    w = world
    w.a.push_ok(w.a.op("members", "m1", member("h1")))
    [delete] = w.b.push_ok(w.b.op("households", "h1", kind="delete", base=w.base))
    assert delete["status"] == "conflict"
    assert not w.hq.record("members", "m1").deleted
    # after pulling (which re-sends the touched household) the delete goes through
    w.b.pull(V1)
    assert w.b.push_ok(w.b.op("households", "h1", kind="delete"))[0]["status"] == "ok"
    assert w.hq.record("members", "m1").deleted


def test_upsert_after_seeing_the_deletion_revives(world: World) -> None:
    w = world
    w.b.push_ok(w.b.op("households", "h1", kind="delete", base=w.base))
    w.a.pull(V1)
    [revive] = w.a.push_ok(w.a.op("households", "h1", {"head_name": "Kembali"}))
    assert revive["status"] == "ok"
    rec = w.hq.record("households", "h1")
    assert not rec.deleted and w.hq.data("households", "h1")["head_name"] == "Kembali"
    assert w.hq.conflicts() == []


def test_moving_a_household_moves_its_members_and_tells_the_old_scope(world: World) -> None:
    w = world
    w.a.push_ok(w.a.op("members", "m1", member("h1")))
    cursor = w.a.pull(V1)["next"]
    [moved] = w.a.push_ok(w.a.op("households", "h1", {"village_code": V2}))
    assert moved["status"] == "ok"
    assert (w.hq.record("households", "h1").scope, w.hq.record("members", "m1").scope) == (V2, V2)
    assert {r["id"] for r in w.a.pull(V2)["records"]} == {"h1", "m1"}
    old_feed = w.a.pull(V1, since=cursor)["records"]
    # the old scope learns the move once, as notices without data, and nothing afterwards
    assert sorted((r["id"], r["moved_out"], r["deleted"], r["data"]) for r in old_feed) == [
        ("h1", True, True, {}), ("m1", True, True, {})]
    w.a.push_ok(w.a.op("households", "h1", {"head_name": "Pindah"}), w.a.op("members", "m1", {"name": "Baru"}))
    assert w.a.pull(V1, since=max(r["server_seq"] for r in old_feed))["records"] == []


def test_supervisor_resolves_by_applying_the_losing_value(world: World) -> None:
    w = world
    w.a.push_ok(w.a.op("households", "h1", {"head_name": "Versi A"}))
    w.b.push_ok(w.b.op("households", "h1", {"head_name": "Versi B"}, base=w.base))
    listed = w.hq.client.get("/v1/conflicts", headers=w.s.headers).json()["conflicts"]
    assert [(c["field"], c["losing_value"], c["loser"]["username"]) for c in listed] == [
        ("head_name", "Versi A", "ani")]
    url = f"/v1/conflicts/{listed[0]['id']}/resolve"
    response = w.hq.client.post(url, json={"action": "apply_losing"}, headers=w.s.headers)
    assert response.status_code == 200, response.text
    assert response.json()["conflict"]["status"] == "resolved"
    assert w.hq.data("households", "h1")["head_name"] == "Versi A"
    assert w.hq.client.post(url, json={"action": "dismiss"}, headers=w.s.headers).status_code == 409
    assert w.hq.client.get("/v1/conflicts", headers=w.s.headers).json()["conflicts"] == []
    # the resolution is an ordinary change: every device receives it in its feed
    assert any(r["data"]["head_name"] == "Versi A" for r in w.b.pull(V1, since=w.base)["records"])


@pytest.mark.parametrize("delete_first", [True, False])
def test_resolving_a_delete_edit_conflict_with_the_losing_side(world: World, delete_first: bool) -> None:
    w = world
    if delete_first:  # the late edit lost: applying it revives the record with the edit
        w.b.push_ok(w.b.op("households", "h1", kind="delete", base=w.base))
        w.a.push_ok(w.a.op("households", "h1", {"head_name": "Terlambat"}, base=w.base))
    else:  # the late delete lost: applying it deletes the record
        w.a.push_ok(w.a.op("households", "h1", {"head_name": "Diubah"}))
        w.b.push_ok(w.b.op("households", "h1", kind="delete", base=w.base))
    [conflict] = w.hq.client.get("/v1/conflicts", headers=w.h.headers).json()["conflicts"]
    response = w.hq.client.post(f"/v1/conflicts/{conflict['id']}/resolve", json={"action": "apply_losing"},
                                headers=w.h.headers)
    assert response.status_code == 200, response.text
    rec = w.hq.record("households", "h1")
    if delete_first:
        assert not rec.deleted and w.hq.data("households", "h1")["head_name"] == "Terlambat"
    else:
        assert rec.deleted
