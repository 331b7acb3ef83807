"""No echo (issue 21 §1), one pull for several scopes (§3) and the op hash the server computes.

A pull with the device's window of answered ops ``(own_after, own_through]`` leaves out exactly
the versions that are one of those ops as its device holds them after the "ok" answer — and
nothing else: a merge, a touch, a normalised value, a cascade, another device's change, an op
outside the window all still come down. The table of cases runs each on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import V1, V2, V3, Device, Hq, business, household, member


def pull_own(dev: Device, scope: str, window: tuple[int, int], since: int = 0, limit: int = 1000) -> dict[str, Any]:
    params = {"scope": scope, "since": since, "limit": limit, "own_after": window[0], "own_through": window[1]}
    response = dev.client.get("/v1/sync/pull", params=params, headers=dev.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def changes(dev: Device, cursors: list[tuple[str, int]], limit: int = 1000, window: tuple[int, int] = (0, 0),
            status: int = 200) -> dict[str, Any]:
    params = {"cursors": ",".join(f"{s}:{c}" for s, c in cursors), "limit": limit, "own_after": window[0],
              "own_through": window[1]}
    response = dev.client.get("/v1/sync/changes", params=params, headers=dev.headers)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def set_values(data: dict[str, Any]) -> dict[str, Any]:
    """A record's data without its empty fields (a laptop's empty column is the server's null)."""
    return {k: v for k, v in data.items() if v is not None}


def ids(page: dict[str, Any]) -> list[str]:
    return [r["id"] for r in page["records"]]


def test_own_answered_ops_are_left_out_and_the_cursor_passes_them(hq_app: Hq) -> None:
    ani = hq_app.user_device("ani", "officer", villages=[V1])
    ani.push_ok(*[ani.op("households", f"h{i}", household()) for i in range(5)])
    page = pull_own(ani, V1, (0, 5))
    assert page["records"] == [] and page["more"] is False
    assert page["next"] == ani.hello()["scope_seqs"][V1]  # the next hello skips the scope's pull
    assert ids(pull_own(ani, V1, (2, 4))) == ["h0", "h1", "h4"]  # only ops 3 and 4 were answered here
    assert ids(ani.pull(V1)) == [f"h{i}" for i in range(5)]  # no window (an older app): everything
    other = hq_app.register("ani", device_name="tablet")
    assert ids(pull_own(other, V1, (0, 5))) == [f"h{i}" for i in range(5)]  # another device's echoes


def test_versions_that_differ_from_the_devices_copy_still_come_down(hq_app: Hq) -> None:
    ani = hq_app.user_device("ani", "officer", villages=[V1])
    budi = hq_app.user_device("budi", "officer", villages=[V1])
    ani.push_ok(ani.op("households", "merged", household()), ani.op("households", "normalised", household()),
                ani.op("households", "rejected", household()), ani.op("households", "cascade", household()),
                ani.op("households", "conflict", household()), ani.op("households", "mine", household()))
    ani.push_ok(ani.op("members", "m1", member("cascade")))
    budi.pull(V1)
    budi.push_ok(budi.op("households", "merged", {"notes": "catatan budi"}),
                 budi.op("households", "conflict", {"head_name": "Nama Budi"}))
    base = ani.versions[("households", "merged")]
    first = ani.next_seq
    results = ani.push_ok(
        ani.op("households", "merged", {"hamlet": "Dusun Ani"}, base=base),  # merged with budi's notes
        ani.op("households", "normalised", {"head_name": "  Budi Santoso Jr  "}),  # stored stripped
        ani.op("households", "rejected", {"visited_on": "2999-01-01"}),  # refused: touched
        ani.op("households", "cascade", kind="delete"),  # its member is deleted by the cascade
        ani.op("households", "conflict", {"head_name": "Nama Ani"}, base=base),  # same field: clash
        ani.op("households", "mine", {"notes": "hanya saya"}))
    assert [r["status"] for r in results] == ["merged", "ok", "rejected", "ok", "conflict", "ok"]
    since = max(budi.versions.values())
    page = pull_own(ani, V1, (0, first + 5), since=since)
    assert sorted(ids(page)) == ["conflict", "m1", "merged", "normalised", "rejected"]
    # the member came down as the cascade's tombstone; the household itself (ani's ok delete) did not
    assert {r["id"]: r["deleted"] for r in page["records"]}["m1"] is True


def test_an_exact_op_never_stands_in_for_a_normalised_version_before_it(hq_app: Hq) -> None:
    """ani's "ok" op whose value the server stored normalised is not ani's copy; a later exact
    op of ani on that version must not hide it (the laptop rebased on it, believing it held it)."""
    ani = hq_app.user_device("ani", "officer", villages=[V1])
    ani.push_ok(ani.op("households", "h1", household()))
    [loose] = ani.push_ok(ani.op("households", "h1", {"notes": "  dengan spasi  "}))
    [exact] = ani.push_ok(ani.op("households", "h1", {"hamlet": "Dusun Baru"}, base=loose["version"]))
    assert loose["status"] == exact["status"] == "ok"
    [rec] = pull_own(ani, V1, (0, 3))["records"]
    assert rec["data"]["notes"] == "dengan spasi" and rec["version"] == exact["version"]
    ani.push_ok(ani.op("households", "h1", {"notes": "rapi"}, base=exact["version"]))
    assert ids(pull_own(ani, V1, (0, 4), since=rec["server_seq"])) == ["h1"]  # ... nor a version after it
    ani.pull(V1)
    ani.push_ok(ani.op("households", "h2", household()))
    assert ids(pull_own(ani, V1, (0, 5), since=rec["server_seq"])) == ["h1"]  # (h2: exact, new: left out)


def test_a_later_change_by_anyone_else_makes_the_record_come_down(hq_app: Hq) -> None:
    ani = hq_app.user_device("ani", "officer", villages=[V1])
    pusat = hq_app.user_device("pusat", "hq")
    ani.push_ok(ani.op("households", "h1", household()))
    assert ids(pull_own(ani, V1, (0, 1))) == []
    pusat.pull(V1)
    pusat.push_ok(pusat.op("households", "h1", {"notes": "koreksi HQ"}))
    assert ids(pull_own(ani, V1, (0, 1))) == ["h1"]


def test_a_record_moved_by_its_own_op_is_left_out_and_its_children_come_down(hq_app: Hq) -> None:
    ani = hq_app.user_device("ani", "officer", villages=[V1, V2])
    ani.push_ok(ani.op("households", "h1", household()), ani.op("members", "m1", member("h1")),
                ani.op("businesses", "b1", business("h1")))
    since = max(ani.versions.values())
    ani.push_ok(ani.op("households", "h1", {"village_code": V2}))
    assert sorted(ids(pull_own(ani, V2, (0, 4), since=since))) == ["b1", "m1"]  # moved by the cascade
    old = pull_own(ani, V1, (0, 4), since=since)["records"]
    assert sorted((r["id"], r.get("moved_out")) for r in old) == [("b1", True), ("h1", True), ("m1", True)]


def test_one_page_for_several_scopes_keeps_each_scopes_cursor(hq_app: Hq) -> None:
    ani = hq_app.user_device("ani", "officer", villages=[V1, V2, V3])
    ani.push_ok(*[ani.op("households", f"h{i}", household([V1, V2, V3][i % 3])) for i in range(9)])
    alone = {v: ani.pull_all(v) for v in (V1, V2, V3)}
    page = changes(ani, [(V1, 0), (V2, 0), (V3, 0)])
    assert page["records"] == alone[V1] + alone[V2] + alone[V3]
    assert page["unfinished"] == [] and page["more"] is False
    assert page["cursors"] == {v: alone[v][-1]["server_seq"] for v in (V1, V2, V3)}
    cut = changes(ani, [(V1, 0), (V2, 0), (V3, 0)], limit=4)  # V1's 3, then V2's first: V2 cut, V3 not reached
    assert cut["records"] == alone[V1] + alone[V2][:1] and cut["more"] is True
    assert cut["cursors"] == {V1: alone[V1][-1]["server_seq"], V2: alone[V2][0]["server_seq"]}
    assert cut["unfinished"] == [V2, V3]
    rest = changes(ani, [(V2, cut["cursors"][V2]), (V3, 0)])
    assert rest["records"] == alone[V2][1:] + alone[V3]


def test_several_scopes_are_refused_like_one(hq_app: Hq) -> None:
    ani = hq_app.user_device("ani", "officer", villages=[V1])
    changes(ani, [(V1, 0), (V2, 0)], status=403)
    too_many = ",".join(f"32.01.01.{1000 + i}:0" for i in range(65))
    for bad in ("", "32.01.01.1001", "32.01.01.1001:-1", "x" * 13 + ":1", "32.01.01.1001:1:2", "32.01.01.1001:",
                "32.01.01.1001:9999999999999999999", "32.01.01.1001:1,", too_many):
        response = ani.client.get("/v1/sync/changes", params={"cursors": bad}, headers=ani.headers)
        assert response.status_code == 422, (bad, response.text)
    twice = changes(ani, [(V1, 5), (V1, 0)])  # a scope named twice reads from its lower cursor
    assert twice["cursors"] == changes(ani, [(V1, 0)])["cursors"]


@pytest.mark.parametrize("with_hash", [True, False])
def test_the_server_computes_the_op_hash_and_still_refuses_a_changed_replay(hq_app: Hq, with_hash: bool) -> None:
    ani = hq_app.user_device("ani", "officer", villages=[V1])
    op = ani.op("households", "h1", household())
    first = dict(op) if with_hash else {k: v for k, v in op.items() if k != "op_hash"}
    ani.push_ok(first)
    bare = {k: v for k, v in op.items() if k != "op_hash"}
    for replay in (op, bare):  # the same op again, with or without its hash: skipped
        assert ani.push(replay).json()["last_op_seq"] == 1
    changed = {**bare, "fields": household(head_name="Lain")}
    response = ani.push(changed)
    assert response.status_code == 409 and response.json()["error"] == "replay_mismatch", response.text
    assert ani.push({**op, "op_hash": "0" * 64}).status_code == 400  # a hash that is sent must match


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.sampled_from(["ani", "budi"]), st.integers(0, 3),
                               st.sampled_from(["notes", "hamlet", "head_name"]), st.booleans(), st.booleans()),
                     min_size=1, max_size=14))
def test_a_copy_kept_from_answers_and_windowed_pulls_equals_the_server(hq_app: Hq, plan: list[Any]) -> None:
    """Random edits of 4 households by two officers (some on stale bases, some values the server
    normalises, some pulls skipped): ani keeps a copy from its "ok" answers and from pulls that
    send its window of answered ops; after every pull that copy equals the server, version and
    data, for every record — whatever was left out was exactly what ani already held."""
    from .support import reset_data

    with hq_app.ctx.db.write() as conn:
        reset_data(conn)
    ani, budi = (hq_app.user_device(name, "officer", villages=[V1]) for name in ("ani", "budi"))
    copy: dict[str, tuple[int, dict[str, Any]]] = {}
    cursor = 0

    def ani_pulls() -> None:
        nonlocal cursor
        more = True
        while more:
            page = pull_own(ani, V1, (0, ani.next_seq - 1), since=cursor, limit=3)
            for rec in page["records"]:
                copy[rec["id"]] = (rec["version"], rec["data"])
                ani.versions[("households", rec["id"])] = rec["version"]
            cursor, more = page["next"], page["more"]
        for h in range(4):
            row = hq_app.record("households", f"h{h}")
            if row is not None:
                assert copy[f"h{h}"][0] == row.version, (h, copy[f"h{h}"], row.version)
                assert set_values(copy[f"h{h}"][1]) == set_values(hq_app.data("households", f"h{h}")), h

    for name, h, key, stale, pull in plan:
        dev = ani if name == "ani" else budi
        rid = f"h{h}"
        value = f"{name} {dev.next_seq}" + ("  " if stale else "")  # trailing blanks: stored stripped
        fields = household() if ("households", rid) not in dev.versions else {key: value}
        op = dev.op("households", rid, fields, base=0 if stale and ("households", rid) in dev.versions else None)
        held = dev.versions.get(("households", rid))
        [result] = dev.push_ok(op)
        if dev is ani and result["status"] == "ok":
            copy[rid] = (result["version"], {**copy.get(rid, (0, {}))[1], **fields})
        elif dev is ani:  # like the laptop: only an "ok" answer moves its copy's version (a pull does the rest)
            if held is None:
                ani.versions.pop(("households", rid), None)
            else:
                ani.versions[("households", rid)] = held
        if pull:
            budi.pull_all(V1)
            ani_pulls()
    ani_pulls()


def test_a_compact_answer_stands_for_exactly_the_full_one(hq_app: Hq) -> None:
    """Issue 21 §1: ``compact`` answers plain "ok" results as runs; expanded, the answer is the
    full one (a replay too), and every other result stays as it was."""
    ani = hq_app.user_device("ani", "officer", villages=[V1])
    pusat = hq_app.user_device("pusat", "hq")
    ani.push_ok(ani.op("households", "h0", household()))
    pusat.pull(V1)
    pusat.push_ok(pusat.op("households", "h0", {"head_name": "Versi HQ"}))
    ops = [ani.op("households", f"h{i}", household()) for i in range(1, 4)]
    ops += [ani.op("households", "h0", {"head_name": "Versi Ani"}, base=1),  # conflict with HQ
            ani.op("households", "bad", household(visited_on="2999-01-01")),  # rejected
            ani.op("households", "h9", household()), ani.op("households", "h9", {"notes": "lagi"})]
    for replay in (False, True):
        full = ani.push(*ops).json() if replay else None
        compact = ani.push(*ops, compact=True).json()
        if full is None:
            full = ani.push(*ops).json()  # (a replay: answered from applied_ops, the same)
        expanded = [{"op_seq": s + i, "status": "ok", "version": v + i, "reason": None}
                    for s, v, n in compact["ok_runs"] for i in range(n)]
        assert sorted(expanded + compact["results"], key=lambda r: r["op_seq"]) == full["results"]
        assert [r["status"] for r in compact["results"]] == ["conflict", "rejected"]
        assert compact["ok_runs"] == [[2, full["results"][0]["version"], 3], [7, full["results"][5]["version"], 2]]
    assert ani.push(*ops).json()["results"] == full["results"]  # an older app's request: the full answer
