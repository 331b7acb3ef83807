"""An op outside the caller's villages is rejected per op, never the whole batch (issue 13 §5).

DESIGN §4: "one record never blocks the queue" holds for scope too. Each way an op can reach
another scope is rejected on its own, the rest of the batch is applied, nothing outside the
caller's scopes is written (no data, no version, no history, no conflict), and the reason tells
nothing about where a record lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, insert

from desmig_server.db import tables as t

from .support import REGENCY, V1, V2, V3, V_OTHER, Device, Hq, business, household, member, placement

OUTSIDE = "Di luar desa tugas Anda."


def _world(hq_app: Hq) -> tuple[Device, Device]:
    """``ofc`` (villages V1, V2) with a household ``h1`` (member ``m1``) in V1; HQ's ``hz`` (member
    ``mz``) in V_OTHER."""
    ofc = hq_app.user_device("ofc", "officer", villages=[V1, V2])
    boss = hq_app.user_device("pusat", "hq")
    ofc.push_ok(ofc.op("households", "h1", household()), ofc.op("members", "m1", member("h1")))
    boss.push_ok(boss.op("households", "hz", household(V_OTHER)), boss.op("members", "mz", member("hz")))
    return ofc, boss


OpMaker = Callable[[Device], dict[str, Any]]
OUT_OF_SCOPE: list[tuple[str, OpMaker]] = [
    ("new household elsewhere", lambda d: d.op("households", "n1", household(V_OTHER))),
    ("new household in the same regency", lambda d: d.op("households", "n2", household(V3))),
    ("edit of a household elsewhere", lambda d: d.op("households", "hz", {"head_name": "X"}, base=999)),
    ("delete of a household elsewhere", lambda d: d.op("households", "hz", kind="delete", base=999)),
    ("edit of a member elsewhere", lambda d: d.op("members", "mz", {"name": "X"}, base=999)),
    ("member under a household elsewhere", lambda d: d.op("members", "n3", member("hz"))),
    ("business under a household elsewhere", lambda d: d.op("businesses", "n4", business("hz"))),
    ("placement under a member elsewhere", lambda d: d.op("placements", "n5", placement("mz"))),
    ("move an own household elsewhere", lambda d: d.op("households", "h1", {"village_code": V_OTHER})),
    ("re-parent an own member elsewhere", lambda d: d.op("members", "m1", {"household_id": "hz"})),
    ("an invalid edit of a household elsewhere", lambda d: d.op("households", "hz", {"head_name": "\x00"}, base=999)),
]


def _outside_rows(hq_app: Hq) -> dict[str, list[Any]]:
    """Every row a write outside V1/V2 would change: records elsewhere, history, conflicts."""
    snap = hq_app.snapshot()
    return {"records": [r for r in snap["records"] if r[2] not in (V1, V2) or r[1] in ("hz", "mz")],
            "record_history": [r for r in snap["record_history"] if r[3] not in (V1, V2) or r[2] in ("hz", "mz")],
            "conflicts": snap["conflicts"]}


@pytest.mark.parametrize("make", [pytest.param(m, id=name) for name, m in OUT_OF_SCOPE])
def test_an_out_of_scope_op_is_rejected_alone_and_the_batch_goes_on(hq_app: Hq, make: OpMaker) -> None:
    ofc, _boss = _world(hq_app)
    before = _outside_rows(hq_app)
    data_before = hq_app.data("households", "h1"), hq_app.data("members", "m1")
    first = ofc.op("households", "a1", household(V2))
    bad = make(ofc)
    last = ofc.op("members", "a2", member("a1"))
    response = ofc.push(first, bad, last)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["ok", "rejected", "ok"]
    assert body["results"][1]["reason"] == OUTSIDE
    assert body["last_op_seq"] == last["op_seq"]  # consumed: the queue moves on
    assert V_OTHER not in response.text and "33.02" not in response.text
    assert _outside_rows(hq_app) == before  # nothing outside the caller's villages written
    assert (hq_app.data("households", "h1"), hq_app.data("members", "m1")) == data_before
    assert hq_app.record("households", "a1") is not None and hq_app.record("members", "a2") is not None
    # a replay of the same batch gets the same answer and applies nothing twice
    assert ofc.push(first, bad, last).json() == body


def test_a_refused_move_touches_the_own_record_so_the_device_gets_it_back(hq_app: Hq) -> None:
    ofc, _boss = _world(hq_app)
    version = hq_app.record("households", "h1").version
    [result] = ofc.push_ok(ofc.op("households", "h1", {"village_code": V_OTHER}))
    assert (result["status"], result["reason"]) == ("rejected", OUTSIDE)
    row = hq_app.record("households", "h1")
    assert row.scope == V1 and row.version > version  # same data, a new version: pulled back
    assert any(r["id"] == "h1" for r in ofc.pull_all(V1, since=version))


def test_ops_after_a_rejected_move_in_one_batch_still_see_the_old_village(hq_app: Hq) -> None:
    ofc, _boss = _world(hq_app)
    results = ofc.push_ok(ofc.op("households", "h1", {"village_code": V_OTHER}),
                          ofc.op("members", "m2", member("h1")),
                          ofc.op("households", "h1", {"village_code": V2}, base=1))
    assert results[0]["status"] == "rejected"
    assert [r["status"] for r in results][1:] in (["ok", "ok"], ["ok", "merged"])
    assert hq_app.record("households", "h1").scope == V2 and hq_app.record("members", "m2").scope == V2


def test_a_supervisor_is_rejected_per_op_outside_its_regency(hq_app: Hq) -> None:
    _ofc, _boss = _world(hq_app)
    sup = hq_app.user_device("sup", "supervisor", regency=REGENCY)
    results = sup.push_ok(sup.op("households", "s1", household(V3)), sup.op("households", "hz", {"notes": "x"}),
                          sup.op("households", "s2", household(V_OTHER)))
    assert [(r["status"], r["reason"]) for r in results] == [("ok", None), ("rejected", OUTSIDE),
                                                            ("rejected", OUTSIDE)]


def test_pending_work_of_a_village_taken_away_becomes_rejections(hq_app: Hq) -> None:
    """HQ removes V2 from the officer while the laptop still has work for it queued: those ops
    come back rejected (the officer can move the household to one of their villages or discard
    it); the work in V1 goes through; nothing of V2 changes."""
    ofc, _boss = _world(hq_app)
    ofc.push_ok(ofc.op("households", "h2", household(V2)), ofc.op("members", "m2", member("h2")))
    with hq_app.ctx.db.write() as conn:
        conn.execute(delete(t.user_scopes).where(t.user_scopes.c.username == "ofc",
                                                 t.user_scopes.c.village_code == V2))
    assert ofc.hello()["scopes"] == [V1]
    h2 = hq_app.data("households", "h2")
    results = ofc.push_ok(ofc.op("households", "h2", {"notes": "diubah"}),
                          ofc.op("members", "m3", member("h2")),
                          ofc.op("households", "h3", household(V2)),
                          ofc.op("households", "h1", {"notes": "tetap"}))
    assert [(r["status"], r["reason"]) for r in results] == [("rejected", OUTSIDE)] * 3 + [("ok", None)]
    assert hq_app.data("households", "h2") == h2 and hq_app.record("members", "m3") is None
    # the officer moves the refused new household into one of their villages: accepted
    [fixed] = ofc.push_ok(ofc.op("households", "h3", household(V1)))
    assert fixed["status"] == "ok" and hq_app.record("households", "h3").scope == V1
    with hq_app.ctx.db.write() as conn:  # the village given back: the same edit now applies
        conn.execute(insert(t.user_scopes).values(username="ofc", village_code=V2))
    [again] = ofc.push_ok(ofc.op("households", "h2", {"notes": "diubah"}))
    assert again["status"] == "ok"
