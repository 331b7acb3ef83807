"""Issue 13 §6 on the server: a device learns every value of its that lost a conflict.

On arrival through its push result (the same on a replay), later through
``GET /v1/sync/conflicts`` (``sync/lost``), with hello's ``conflict_seq`` saying when to ask.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from desmig_server.db import tables as t

from .support import REGENCY, V1, V2, Device, Hq, household, make_op


def feed(dev: Device, since: int = 0, limit: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"since": since} | ({"limit": limit} if limit is not None else {})
    response = dev.client.get("/v1/sync/conflicts", params=params, headers=dev.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _world(hq_app: Hq) -> tuple[Device, Device, Device, int]:
    a = hq_app.user_device("ani", "officer", villages=[V1, V2])
    b = hq_app.user_device("bayu", "officer", villages=[V1])
    h = hq_app.user_device("hana", "hq")
    [created] = a.push_ok(a.op("households", "h1", household(head_name="Awal", hamlet="Dusun I")))
    return a, b, h, created["version"]


def test_value_lost_on_arrival_is_described_in_the_result_the_replay_and_the_feed(hq_app: Hq) -> None:
    a, _b, h, base = _world(hq_app)
    h.push_ok(h.op("households", "h1", {"head_name": "Versi HQ"}, base=base))
    op = a.op("households", "h1", {"head_name": "Versi Petugas", "hamlet": "Dusun II"}, base=base)
    [result] = a.push_ok(op)
    [row] = hq_app.conflicts()
    assert result["status"] == "conflict"
    assert result["conflicts"] == [{"field": "head_name", "won": False, "id": row["id"], "kind": "conflict",
                                    "theirs": "Versi HQ", "winner": {"role": "hq", "username": "hana"},
                                    "rule": "higher_role"}]
    assert "device" not in json.dumps(result)  # the winner by role and name only
    replay = a.push(make_op(op["op_seq"], "households", "h1", op["fields"], base=base))
    assert replay.status_code == 200 and replay.json() == {"last_op_seq": op["op_seq"], "results": [result]}
    assert a.hello()["conflict_seq"] == row["id"] and h.hello()["conflict_seq"] == 0
    [item] = feed(a)["conflicts"]
    assert item == {**result["conflicts"][0], "entity": "households", "record_id": "h1", "mine": "Versi Petugas",
                    "op_seq": op["op_seq"], "status": "open"}
    assert feed(a, since=row["id"]) == {"conflicts": [], "next": row["id"], "more": False}


def test_value_overwritten_later_reaches_its_device_only_through_the_feed(hq_app: Hq) -> None:
    a, b, h, base = _world(hq_app)
    [mine] = a.push_ok(a.op("households", "h1", {"head_name": "Versi Petugas"}))
    assert mine["status"] == "ok" and "conflicts" not in mine  # nothing lost when it arrived
    [late] = h.push_ok(h.op("households", "h1", {"head_name": "Versi HQ"}, base=base))
    assert late["conflicts"] == [{"field": "head_name", "won": True}]  # the winner learns no more than before
    [row] = hq_app.conflicts()
    assert a.hello()["conflict_seq"] == row["id"]
    assert feed(a)["conflicts"] == [{
        "id": row["id"], "field": "head_name", "won": False, "kind": "conflict", "theirs": "Versi HQ",
        "winner": {"role": "hq", "username": "hana"}, "rule": "higher_role", "entity": "households",
        "record_id": "h1", "mine": "Versi Petugas", "op_seq": None, "status": "open"}]
    for other in (b, h):  # per device: another officer of the village, the winner
        assert feed(other)["conflicts"] == [] and other.hello()["conflict_seq"] == 0


def test_delete_racing_an_edit_is_described_from_both_sides(hq_app: Hq) -> None:
    a, b, _h, base = _world(hq_app)
    [other] = a.push_ok(a.op("households", "h2", household(head_name="Kedua")))
    b.push_ok(b.op("households", "h1", {"notes": "masih tinggal"}, base=base))
    [lost_delete] = a.push_ok(a.op("households", "h1", kind="delete", base=base))
    a.push_ok(a.op("households", "h2", kind="delete", base=other["version"]))
    [lost_edit] = b.push_ok(b.op("households", "h2", {"notes": "diubah"}, base=other["version"]))
    [d] = lost_delete["conflicts"]
    assert (d["field"], d["kind"], d["theirs"], d["rule"], d["winner"]["username"]) == (
        "*", "delete_edit", {"deleted": False}, "delete_edit", "bayu")
    [e] = lost_edit["conflicts"]
    assert (e["field"], e["theirs"], e["rule"], e["winner"]["username"]) == ("*", {"deleted": True}, "delete_edit", "ani")
    assert [i["mine"] for i in feed(a)["conflicts"]] == [{"deleted": True}]
    assert [i["mine"] for i in feed(b)["conflicts"]] == [{"notes": "diubah"}]


def test_feed_pages_by_conflict_id_and_rejects_bad_cursors(hq_app: Hq) -> None:
    a, _b, h, base = _world(hq_app)
    fields = {"head_name": "X", "hamlet": "Y", "rt": "009"}
    h.push_ok(h.op("households", "h1", fields, base=base))
    a.push_ok(a.op("households", "h1", {k: v.lower() + "a" for k, v in fields.items()}, base=base))
    first = feed(a, limit=2)
    assert len(first["conflicts"]) == 2 and first["more"]
    second = feed(a, since=first["next"], limit=2)
    assert len(second["conflicts"]) == 1 and not second["more"]
    assert sorted(i["field"] for i in first["conflicts"] + second["conflicts"]) == sorted(fields)
    for bad in ({"since": -1}, {"since": 2**31}, {"limit": 0}, {"limit": 1001}, {"since": "x"}):
        response = a.client.get("/v1/sync/conflicts", params=bad, headers=a.headers)
        assert response.status_code == 422, (bad, response.text)
    assert hq_app.client.get("/v1/sync/conflicts").status_code == 401


def test_feed_leaves_out_villages_no_longer_assigned(hq_app: Hq) -> None:
    """The winning value is personal data of a record the officer may no longer read."""
    a, _b, h, _base = _world(hq_app)
    [v2] = a.push_ok(a.op("households", "h2", household(V2, head_name="Di desa dua")))
    h.push_ok(h.op("households", "h2", {"hamlet": "HQ"}, base=v2["version"]))
    a.push_ok(a.op("households", "h2", {"hamlet": "Petugas"}, base=v2["version"]))
    assert [i["record_id"] for i in feed(a)["conflicts"]] == ["h2"]
    with hq_app.ctx.db.write() as conn:
        conn.execute(t.user_scopes.delete().where(t.user_scopes.c.username == "ani", t.user_scopes.c.village_code == V2))
    assert feed(a)["conflicts"] == []


# -- property ----------------------------------------------------------------------------------
STEP = st.one_of(
    st.tuples(st.just("pull"), st.integers(0, 2)),
    st.tuples(st.just("edit"), st.integers(0, 2), st.sampled_from(("head_name", "hamlet")),
              st.sampled_from(["v1", "v2"]), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 2)),
)


def test_every_conflict_a_device_lost_reaches_it_with_the_same_detail(hq_app: Hq) -> None:
    """Random interleavings of two officers and a supervisor editing and deleting one household
    with stale or fresh bases, some answers replayed: every conflict row whose loser is device D
    is in D's feed, exactly those, and a push result that reported it says the same."""
    devices = [hq_app.user_device("ani", "officer", villages=[V1]), hq_app.user_device("bayu", "officer", villages=[V1]),
               hq_app.user_device("sari", "supervisor", regency=REGENCY)]
    counter = iter(range(10_000))
    cursors = [0, 0, 0]
    seen = {"reported": 0, "fed": 0}

    @settings(max_examples=30, deadline=None, database=None)
    @given(steps=st.lists(STEP, min_size=1, max_size=8))
    def run(steps: list[tuple[Any, ...]]) -> None:
        rid = f"h{next(counter)}"
        [created] = devices[0].push_ok(devices[0].op("households", rid, household(head_name="v0", hamlet="v0")))
        base = {0: created["version"], 1: 0, 2: 0}
        reported: dict[int, dict[str, Any]] = {}
        for step in steps:
            idx = step[1]
            dev = devices[idx]
            if step[0] == "pull":
                base[idx] = hq_app.record("households", rid).version
                continue
            op = (dev.op("households", rid, {step[2]: step[3]}, base=base[idx]) if step[0] == "edit"
                  else dev.op("households", rid, kind="delete", base=base[idx]))
            [result] = dev.push_ok(op)
            if step[0] == "edit" and step[4]:  # the answer was lost: the replay must say the same
                [again] = dev.push_ok(op)
                assert again == result
            for entry in result.get("conflicts", []):
                if not entry["won"]:
                    reported[entry["id"]] = {**entry, "device": dev.device_id}
            if result["status"] == "ok":
                base[idx] = result["version"]
        rows = {r["id"]: r for r in hq_app.conflicts()}
        for i, dev in enumerate(devices):
            page = feed(dev, since=cursors[i], limit=1000)
            cursors[i] = page["next"]
            got = {item["id"]: item for item in page["conflicts"]}
            seen["fed"] += len(got)
            # each example has its own record; earlier ones were read by the cursor already
            assert set(got) == {cid for cid, r in rows.items() if r["loser_device"] == dev.device_id
                                and r["record_id"] == rid}
            for cid, item in got.items():
                row = rows[cid]
                assert (item["entity"], item["record_id"], item["field"]) == (row["entity"], row["record_id"],
                                                                             row["field"])
                assert item["mine"] == json.loads(row["losing_value"])
                assert item["winner"] == {"role": row["winner_role"], "username": row["winner_user"]}
                if cid in reported:
                    assert reported[cid]["device"] == dev.device_id
                    assert {k: v for k, v in reported[cid].items() if k != "device"} == {
                        k: v for k, v in item.items() if k not in ("entity", "record_id", "mine", "op_seq", "status")}
        assert set(reported) <= {cid for cid, r in rows.items() if r["record_id"] == rid}
        seen["reported"] += len(reported)

    run()
    assert seen["reported"] and seen["fed"] > seen["reported"]  # both roads were exercised


def resolutions(dev: Device, since: int = 0, limit: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"since": since} | ({"limit": limit} if limit is not None else {})
    response = dev.client.get("/v1/sync/resolutions", params=params, headers=dev.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_resolutions_reach_the_losing_device_in_commit_order(hq_app: Hq) -> None:
    """Issue 21 §5: every resolution of a conflict a device lost is numbered in commit order and
    listed to that device (and only to it) after its cursor, page by page; hello says the newest."""
    a, b, h, _base = _world(hq_app)
    sup = hq_app.user_device("sari", "supervisor", regency=REGENCY)
    for i in range(4):
        h.push_ok(h.op("households", f"x{i}", household(head_name=f"Awal {i}")))
    lost = []
    for i in range(4):
        rid = f"x{i}"
        first = h.versions[("households", rid)]
        b.pull(V1)
        h.push_ok(h.op("households", rid, {"head_name": f"HQ {i}"}, base=first))
        [res] = a.push_ok(a.op("households", rid, {"head_name": f"Ani {i}"}, base=first))
        assert res["status"] == "conflict"
        lost.append(res["conflicts"][0]["id"])
    assert a.hello()["resolution_seq"] == 0 and resolutions(a) == {"resolved": [], "next": 0, "more": False}
    order = [lost[2], lost[0], lost[3]]
    for conflict_id in order:
        done = sup.client.post(f"/v1/conflicts/{conflict_id}/resolve", json={"action": "dismiss"}, headers=sup.headers)
        assert done.status_code == 200, done.text
    page = resolutions(a, limit=2)
    assert [r["id"] for r in page["resolved"]] == order[:2] and page["more"] is True
    rest = resolutions(a, since=page["next"])
    assert [r["id"] for r in rest["resolved"]] == order[2:] and rest["more"] is False
    assert a.hello()["resolution_seq"] == rest["next"] == rest["resolved"][-1]["seq"]
    seqs = [r["seq"] for r in page["resolved"] + rest["resolved"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert resolutions(b)["resolved"] == [] and b.hello()["resolution_seq"] == 0  # not b's conflicts
