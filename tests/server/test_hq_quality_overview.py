"""The review desk's data-quality overview (``/mutu``) a page at a time equals its definition
computed from the records, whatever the pushes (issue 18 §1 "every dashboard page" at national
scale: the overview reads the village list and the household total from the report aggregates
and counts the rest for one page of villages only).

A Hypothesis state machine adds households and members (with or without a head), moves
households between villages, deletes households and members, changes who is the head, makes the
server reject ops and lets officers' devices sync at different ages; after every step, for HQ, a
supervisor and an officer, under several prefixes and two staleness thresholds, the concatenated
pages of ``quality.overview`` (pages of 2) equal the rows, order and totals computed here in
Python from the tables. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select, update

from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.review import quality

from .support import V1, V2, V3, V_OTHER, Device, Hq, household, member, reset_data

VILLAGES = (V1, V2, V3, V_OTHER, "35.07.01.2001")
SUPERVISOR = Principal(username="sup", role="supervisor", device_id="d", regency="32.01")
OFFICER = Principal(username="ofc", role="officer", device_id="d", villages=frozenset({V1, V2}))
HQ = Principal(username="pusat", role="hq", device_id="d")
VIEWS = ((HQ, ""), (HQ, "32"), (HQ, "32.01.01"), (SUPERVISOR, ""), (SUPERVISOR, "32.01.02"), (OFFICER, ""))


def _under(code: str, prefix: str) -> bool:
    return not prefix or code == prefix or code.startswith(prefix + ".")


def expected(hq: Hq, actor: Principal, prefix: str, stale_days: int) -> dict[str, Any]:
    """The overview by its definition, from the tables in Python."""
    now = dt.datetime.now(dt.UTC)
    with hq.ctx.db.read() as conn:
        records = conn.execute(select(t.records.c.entity, t.records.c.id, t.records.c.parent_id, t.records.c.scope,
                                      t.records.c.data).where(t.records.c.deleted.is_(False))).all()
        ops = conn.execute(select(t.applied_ops.c.entity, t.applied_ops.c.record_id, t.applied_ops.c.result,
                                  t.applied_ops.c.applied_at)).all()
        scopes = conn.execute(select(t.user_scopes.c.village_code, t.user_scopes.c.username)).all()
        devices = conn.execute(select(t.devices.c.username, t.devices.c.last_seen, t.devices.c.revoked)).all()
    mine = [r for r in records if actor.can_access(r.scope) and _under(r.scope, prefix)]
    heads = {r.parent_id for r in records if r.entity == "members" and json.loads(r.data).get("relationship") == "kepala"}
    homes = [r for r in mine if r.entity == "households"]
    where = {(r.entity, r.id): r.scope for r in records}
    rejected: dict[str, int] = {}
    for op in ops:
        fixed = any(o.entity == op.entity and o.record_id == op.record_id and o.result in quality.ACCEPTED
                    and o.applied_at > op.applied_at for o in ops)
        scope = where.get((op.entity, op.record_id))
        if op.result == "rejected" and not fixed and scope and actor.can_access(scope) and _under(scope, prefix):
            rejected[scope] = rejected.get(scope, 0) + 1
    officers: dict[str, list[str | None]] = {}
    for village, username in scopes:
        if actor.can_access(village) and _under(village, prefix):
            seen = [d.last_seen for d in devices if d.username == username and not d.revoked and d.last_seen]
            officers.setdefault(village, []).append(max(seen, default=None))
    rows = {}
    for v in {r.scope for r in mine} | set(officers):
        last = max((s for s in officers.get(v, []) if s), default=None)
        days = None if last is None else (now - dt.datetime.strptime(last[:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=dt.UTC)).days
        rows[v] = {"code": v, "households": sum(1 for h in homes if h.scope == v),
                   "without_head": sum(1 for h in homes if h.scope == v and h.id not in heads),
                   "rejected": rejected.get(v, 0), "last_sync": last, "stale": days is None or days >= stale_days,
                   "days": days}
    order = sorted(rows, key=lambda v: (not rows[v]["stale"], -(rows[v]["days"] if rows[v]["days"] is not None
                                                                else 10**6), v))
    return {"rows": [{k: rows[v][k] for k in ("code", "households", "without_head", "rejected", "last_sync", "stale")}
                     for v in order],
            "households": len(homes), "rejected": sum(rejected.values()),
            "stale": sum(1 for v in order if rows[v]["stale"])}


def paged(hq: Hq, actor: Principal, prefix: str, stale_days: int, size: int = 2) -> dict[str, Any]:
    """Every page of the overview, concatenated; the page-independent counts must agree across pages."""
    rows: list[dict[str, Any]] = []
    first = quality.overview(hq.ctx.db, actor, prefix, stale_days=stale_days, limit=size)
    offset = 0
    while True:
        found = quality.overview(hq.ctx.db, actor, prefix, stale_days=stale_days, offset=offset, limit=size)
        assert len(found.rows) <= size
        assert (found.villages, found.households, found.rejected, found.stale) == (
            first.villages, first.households, first.rejected, first.stale)
        rows.extend({k: r[k] for k in ("code", "households", "without_head", "rejected", "last_sync", "stale")}
                    for r in found.rows)
        offset += size
        if offset >= found.villages:
            break
    assert len(rows) == first.villages
    return {"rows": rows, "households": first.households, "rejected": first.rejected, "stale": first.stale}


def machine(hq: Hq) -> type[RuleBasedStateMachine]:
    class Overview(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.devices: list[Device] = []
            self.households: list[str] = []
            self.members: list[str] = []
            self.serial = 0

        @initialize()
        def start(self) -> None:
            with hq.ctx.db.write() as conn:
                reset_data(conn)
            hq.add_user("sup", "supervisor", regency="32.01")
            self.devices = [hq.user_device("pusat", "hq"), hq.user_device("ofc", "officer", villages=[V1, V2]),
                            hq.user_device("ofc2", "officer", villages=[V3])]

        def _id(self, kind: str) -> str:
            self.serial += 1
            return f"{kind}{self.serial}"

        @rule(village=st.sampled_from(VILLAGES), head=st.booleans(), others=st.integers(0, 2))
        def add_household(self, village: str, head: bool, others: int) -> None:
            boss = self.devices[0]
            hid = self._id("h")
            ops = [boss.op("households", hid, household(village))]
            for j in range(others + int(head)):
                mid = self._id("m")
                ops.append(boss.op("members", mid, member(hid, relationship="kepala" if head and j == 0 else "anak")))
                self.members.append(mid)
            boss.push_ok(*ops)
            self.households.append(hid)

        @rule(data=st.data(), village=st.sampled_from(VILLAGES))
        def move_household(self, data: st.DataObject, village: str) -> None:
            if self.households:
                hid = data.draw(st.sampled_from(self.households))
                self.devices[0].push_ok(self.devices[0].op("households", hid, {"village_code": village},
                                                           base=hq.record("households", hid).version))

        @rule(data=st.data())
        def delete_household(self, data: st.DataObject) -> None:
            if self.households:
                hid = data.draw(st.sampled_from(self.households))
                self.households.remove(hid)
                self.devices[0].push_ok(self.devices[0].op("households", hid, kind="delete",
                                                           base=hq.record("households", hid).version))

        @rule(data=st.data(), relationship=st.sampled_from(["kepala", "anak"]))
        def change_head(self, data: st.DataObject, relationship: str) -> None:
            live = [m for m in self.members if not hq.record("members", m).deleted]
            if live:
                mid = data.draw(st.sampled_from(live))
                self.devices[0].push_ok(self.devices[0].op("members", mid, {"relationship": relationship},
                                                           base=hq.record("members", mid).version))

        @rule(data=st.data())
        def reject_an_op(self, data: st.DataObject) -> None:
            live = [m for m in self.members if not hq.record("members", m).deleted]
            if live:
                mid = data.draw(st.sampled_from(live))
                boss = self.devices[0]
                response = boss.push(boss.op("members", mid, {"sex": "X"}, base=hq.record("members", mid).version))
                assert response.json()["results"][0]["status"] == "rejected"

        @rule(who=st.sampled_from(["ofc", "ofc2"]), days=st.sampled_from([None, 0, 3, 40]))
        def officer_synced(self, who: str, days: int | None) -> None:
            seen = None if days is None else (dt.datetime.now(dt.UTC) - dt.timedelta(days=days, hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ")
            with hq.ctx.db.write() as conn:
                conn.execute(update(t.devices).where(t.devices.c.username == who).values(last_seen=seen))

        @invariant()
        def pages_equal_definition(self) -> None:
            if not self.devices:
                return
            for actor, prefix in VIEWS:
                for stale_days in (1, 30):
                    assert paged(hq, actor, prefix, stale_days) == expected(hq, actor, prefix, stale_days), (
                        actor.role, prefix, stale_days)

    return Overview


def test_overview_pages_equal_the_definition_after_every_step(hq_app: Hq) -> None:
    run_state_machine_as_test(machine(hq_app), settings=settings(
        max_examples=8, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


@pytest.mark.parametrize("size", [1, 3])
def test_a_page_holds_at_most_its_size_and_the_pages_cover_every_village(hq_app: Hq, size: int) -> None:
    hq = hq_app
    with hq.ctx.db.write() as conn:
        reset_data(conn)
    boss = hq.user_device("pusat", "hq")
    boss.push_ok(*(boss.op("households", f"h{i}", household(v)) for i, v in enumerate(VILLAGES)))
    found = paged(hq, HQ, "", 14, size)
    assert sorted(r["code"] for r in found["rows"]) == sorted(VILLAGES) and found["households"] == len(VILLAGES)
    assert quality.overview(hq.ctx.db, HQ, "", offset=len(VILLAGES)).rows == []


def _reject(dev: Device, hq: Hq, entity: str, record_id: str) -> None:
    response = dev.push(dev.op(entity, record_id, {"sex": "X"} if entity == "members" else {"consent": "maybe"},
                               base=hq.record(entity, record_id).version))
    assert response.json()["results"][0]["status"] == "rejected"


def _delete(dev: Device, hq: Hq, entity: str, record_id: str) -> None:
    dev.push_ok(dev.op(entity, record_id, kind="delete", base=hq.record(entity, record_id).version))


# (what happens after the rejection, open rejections left): "Rejected, not fixed" counts the
# rejections a supervisor can still have fixed; a record deleted since — itself or with its
# household — needs no fixing.
AFTERWARDS = [
    ("nothing", 1),
    ("member deleted with its household", 0),
    ("member itself deleted", 0),
    ("member fixed by a later accepted edit", 0),
    ("household deleted after its own rejection", 0),
    ("another member of the household deleted", 1),
]


@pytest.mark.parametrize(("afterwards", "still_open"), AFTERWARDS)
def test_open_rejections_count_live_records_only(hq_app: Hq, afterwards: str, still_open: int) -> None:
    hq = hq_app
    with hq.ctx.db.write() as conn:
        reset_data(conn)
    boss = hq.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household(V1)), boss.op("members", "m1", member("h1")),
                 boss.op("members", "m2", member("h1", relationship="anak")))
    rejected = ("households", "h1") if afterwards.startswith("household") else ("members", "m1")
    _reject(boss, hq, *rejected)
    if afterwards == "member deleted with its household" or afterwards.startswith("household deleted"):
        _delete(boss, hq, "households", "h1")
    elif afterwards == "member itself deleted":
        _delete(boss, hq, "members", "m1")
    elif afterwards == "member fixed by a later accepted edit":
        boss.push_ok(boss.op("members", "m1", {"sex": "P"}, base=hq.record("members", "m1").version))
    elif afterwards == "another member of the household deleted":
        _delete(boss, hq, "members", "m2")
    page = quality.overview(hq.ctx.db, HQ, "")
    by_code = {r["code"]: r["rejected"] for r in page.rows}
    assert (page.rejected, by_code.get(V1, 0)) == (still_open, still_open)
    listed = quality.village(hq.ctx.db, HQ, V1)["rejected"]
    assert [(r["entity"], r["record_id"]) for r in listed] == [rejected] * still_open
    assert expected(hq, HQ, "", 30)["rejected"] == still_open  # the state machine's definition agrees
