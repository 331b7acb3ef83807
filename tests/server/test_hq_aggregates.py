"""The maintained report aggregates always equal a full recomputation (issue 18 §1).

A Hypothesis state machine drives three devices (two HQ users, one officer with two villages)
through random creates, edits (remittances, statuses, return dates, business status and class),
moves of households between villages and provinces, re-parented members, deletes (with their
cascades), stale edits that conflict and conflict resolutions; after every step the report of
every level (HQ, the officer and a supervisor, with and without a prefix) read from the
aggregates equals ``recompute_report``, ``member_niks`` equals its recomputation (members' NIKs
are set, changed and cleared too), and ``verify`` finds nothing. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text, update

from desmig_desktop.domain import report_spec as spec
from desmig_server.aggregates import niks
from desmig_server.aggregates.maintain import catch_up, median_of
from desmig_server.aggregates.verify import verify
from desmig_server.auth.principal import Principal
from desmig_server.checks.duplicates import find_duplicates
from desmig_server.cli import main as cli_main
from desmig_server.db import tables as t
from desmig_server.db.migrations import STEPS, migrate
from desmig_server.reports.queries import build_report, recompute_report

from .support import (
    V1,
    V2,
    V3,
    V_OTHER,
    Device,
    Hq,
    business,
    household,
    member,
    placement,
    programme_ops,
    reset_data,
)

VILLAGES = (V1, V2, V3, V_OTHER, "32.01.02.2002", "35.07.01.2001")
OFFICER_VILLAGES = (V1, V2)
OFFICER = Principal(username="ofc", role="officer", device_id="d", villages=frozenset(OFFICER_VILLAGES))
SUPERVISOR = Principal(username="sup", role="supervisor", device_id="d", regency="32.01")
# (actor, level, prefix) read after every step: HQ's stored rows at each level, and the scoped
# readers' sums of their villages.
VIEWS: tuple[tuple[Principal | None, str, str], ...] = (
    (None, "province", ""), (None, "regency", "32"), (None, "district", "35"), (None, "village", ""),
    (OFFICER, "village", ""), (OFFICER, "province", ""), (SUPERVISOR, "district", ""), (SUPERVISOR, "province", ""),
)
STATUSES = ("bukan", "calon_pmi", "pmi_aktif", "pmi_purna")
# Few values, so medians of even counts and ties between villages happen often.
REMITTANCES = st.one_of(st.none(), st.sampled_from([1_000_000, 2_500_000, 3_000_000]),
                        st.integers(0, 10_000_000))
# Few structurally valid synthetic NIKs, so members of different households share one often.
NIKS = st.sampled_from(["3201014101900001", "3201010202850002", "3201010303800003"])
MONEY = st.one_of(st.none(), st.sampled_from([0, 50_000_000, 400_000_000, 3_000_000_000]))


def machine(hq_app: Hq) -> type[RuleBasedStateMachine]:
    class Aggregates(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ids: dict[str, list[str]] = {e: [] for e in ("households", "members", "placements", "businesses")}
            self.serial = 0
            self.devices: list[Device] = []
            self.steps = 0

        @initialize()
        def start(self) -> None:
            with hq_app.ctx.db.write() as conn:
                reset_data(conn)
            self.devices = [hq_app.user_device("pusat", "hq"), hq_app.user_device("pusat2", "hq"),
                            hq_app.user_device("ofc", "officer", villages=list(OFFICER_VILLAGES))]

        def _new_id(self, entity: str) -> str:
            self.serial += 1
            record_id = f"{entity[0]}{self.serial}"
            self.ids[entity].append(record_id)
            return record_id

        def _push(self, who: int, *ops: dict[str, Any]) -> None:
            self.devices[who].push_ok(*ops)

        def _pick(self, data: st.DataObject, entity: str) -> str | None:
            return data.draw(st.sampled_from(self.ids[entity])) if self.ids[entity] else None

        @rule(who=st.integers(0, 2), village=st.sampled_from(VILLAGES))
        def add_household(self, who: int, village: str) -> None:
            self._push(who, self.devices[who].op("households", self._new_id("households"), household(village)))

        @rule(who=st.integers(0, 2), data=st.data(), status=st.sampled_from(STATUSES), nik=st.one_of(st.none(), NIKS))
        def add_member(self, who: int, data: st.DataObject, status: str, nik: str | None) -> None:
            parent = self._pick(data, "households")
            if parent:
                self._push(who, self.devices[who].op("members", self._new_id("members"),
                                                     member(parent, migration_status=status, nik=nik)))

        @rule(who=st.integers(0, 2), data=st.data(), remittance=REMITTANCES, returned=st.booleans(),
              country=st.sampled_from(["MY", "SA", "HK", "TW"]))
        def add_placement(self, who: int, data: st.DataObject, remittance: int | None, returned: bool,
                          country: str) -> None:
            parent = self._pick(data, "members")
            if parent:
                fields = placement(parent, country=country, monthly_remittance=remittance,
                                   returned_on="2024-01-02" if returned else None)
                self._push(who, self.devices[who].op("placements", self._new_id("placements"), fields))

        @rule(who=st.integers(0, 2), village=st.sampled_from(VILLAGES), remittance=st.integers(0, 10_000_000),
              second=REMITTANCES)
        def add_family_with_worker_abroad(self, who: int, village: str, remittance: int, second: int | None) -> None:
            """The common case of the figures: a household whose member abroad sends money home (so
            medians are taken over several values in most runs)."""
            device = self.devices[who]
            hid, mid = self._new_id("households"), self._new_id("members")
            self._push(who, device.op("households", hid, household(village)),
                       device.op("members", mid, member(hid, migration_status="pmi_aktif",
                                                        nik="3201010404750004")),
                       device.op("placements", self._new_id("placements"), placement(mid, monthly_remittance=remittance)),
                       device.op("placements", self._new_id("placements"), placement(mid, monthly_remittance=second)))

        @rule(who=st.integers(0, 2), village=st.sampled_from(VILLAGES))
        def add_programme_records(self, who: int, village: str) -> None:
            """A household with a member and a business, and one record of each programme entity
            (issue 15) naming them: their changes make the village's figures dirty too."""
            device = self.devices[who]
            hid, mid, bid = self._new_id("households"), self._new_id("members"), self._new_id("businesses")
            self.serial += 1
            graph = [device.op("households", hid, household(village)), device.op("members", mid, member(hid)),
                     device.op("businesses", bid, business(hid))]
            ops, _ids = programme_ops(device, village, mid, bid, suffix=str(self.serial))
            self._push(who, *graph, *ops)

        @rule(who=st.integers(0, 2), data=st.data(), kbli=st.sampled_from("ACGZ"), active=st.booleans(),
              ready=st.sampled_from([True, False, None]), capital=MONEY, turnover=MONEY)
        def add_business(self, who: int, data: st.DataObject, kbli: str, active: bool, ready: bool | None,
                         capital: int | None, turnover: int | None) -> None:
            parent = self._pick(data, "households")
            if parent:
                fields = business(parent, kbli_category=kbli, status="aktif" if active else "tutup",
                                  export_ready=ready, exporting=ready, capital=capital, annual_turnover=turnover)
                self._push(who, self.devices[who].op("businesses", self._new_id("businesses"), fields))

        @rule(who=st.integers(0, 2), data=st.data(), stale=st.booleans())
        def edit(self, who: int, data: st.DataObject, stale: bool) -> None:
            """An edit of a figure's field; ``stale`` sends base 0, so another device's change clashes."""
            entity = data.draw(st.sampled_from(["households", "members", "placements", "businesses"]))
            record_id = self._pick(data, entity)
            if record_id is None:
                return
            fields: dict[str, Any]
            if entity == "households":
                fields = {"village_code": data.draw(st.sampled_from(VILLAGES))}
            elif entity == "members":
                fields = {"migration_status": data.draw(st.sampled_from(STATUSES))}
            elif entity == "placements":
                fields = data.draw(st.sampled_from([
                    {"monthly_remittance": data.draw(REMITTANCES)}, {"returned_on": None},
                    {"returned_on": "2024-03-04"}, {"country": data.draw(st.sampled_from(["MY", "SA"]))}]))
            else:
                fields = data.draw(st.sampled_from([
                    {"status": "tutup"}, {"status": "aktif"}, {"kbli_category": "G"}, {"capital": data.draw(MONEY)},
                    {"export_ready": True}]))
            device = self.devices[who]
            self._push(who, device.op(entity, record_id, fields, base=0 if stale else None))

        @rule(who=st.integers(0, 2), data=st.data(), nik=st.one_of(st.none(), NIKS), stale=st.booleans())
        def set_nik(self, who: int, data: st.DataObject, nik: str | None, stale: bool) -> None:
            """A member's NIK set, changed or cleared (``member_niks``)."""
            record_id = self._pick(data, "members")
            if record_id:
                device = self.devices[who]
                self._push(who, device.op("members", record_id, {"nik": nik}, base=0 if stale else None))

        @rule(who=st.integers(0, 2), data=st.data())
        def reparent(self, who: int, data: st.DataObject) -> None:
            """A member (with its placements) moves to another household, maybe in another village."""
            child, parent = self._pick(data, "members"), self._pick(data, "households")
            if child and parent:
                self._push(who, self.devices[who].op("members", child, {"household_id": parent}))

        @rule(who=st.integers(0, 2), data=st.data(), stale=st.booleans())
        def delete(self, who: int, data: st.DataObject, stale: bool) -> None:
            entity = data.draw(st.sampled_from(["households", "members", "placements", "businesses"]))
            record_id = self._pick(data, entity)
            if record_id:
                self._push(who, self.devices[who].op(entity, record_id, kind="delete", base=0 if stale else None))

        @rule(data=st.data(), action=st.sampled_from(["dismiss", "apply_losing"]))
        def resolve(self, data: st.DataObject, action: str) -> None:
            boss = self.devices[0]
            listed = hq_app.client.get("/v1/conflicts", headers=boss.headers).json()["conflicts"]
            if listed:
                conflict = data.draw(st.sampled_from(listed))
                response = hq_app.client.post(f"/v1/conflicts/{conflict['id']}/resolve", json={"action": action},
                                          headers=boss.headers)
                # 409: already resolved; 422 "rejected": the losing value is no longer valid (its
                # parent was deleted since), the applier refuses it like a push.
                assert response.status_code in (200, 409) or (
                    response.status_code == 422 and response.json()["error"] == "rejected"), response.text

        @rule()
        def catch_up_now(self) -> None:
            """A catch-up between steps (the serving follower), so later ones start from a watermark
            in the middle of the run rather than only right before a report."""
            catch_up(hq_app.ctx.db)

        @invariant()
        def member_niks_equal_recomputation(self) -> None:
            if not self.devices:
                return
            catch_up(hq_app.ctx.db)
            with hq_app.ctx.db.read() as conn:
                assert niks.compare(conn) == []

        @invariant()
        def reports_equal_recomputation(self) -> None:
            if not self.devices:
                return
            db = hq_app.ctx.db
            for actor, level, prefix in VIEWS:
                expected = recompute_report(db, level=level, prefix=prefix, actor=actor)
                assert build_report(db, level=level, prefix=prefix, actor=actor) == expected, (
                    actor and actor.role, level, prefix)
            self.steps += 1
            if self.steps % 5 == 0:  # every area and value count, not only what the views show
                assert verify(db) == []

        def teardown(self) -> None:
            if self.devices:
                assert verify(hq_app.ctx.db) == []

    return Aggregates


@pytest.mark.parametrize("steps", [25])
def test_aggregates_equal_recomputation_after_every_step(hq_app: Hq, steps: int) -> None:
    run_state_machine_as_test(machine(hq_app), settings=settings(
        max_examples=12, stateful_step_count=steps, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_cli_verify_names_area_and_figure_then_rebuild_repairs(hq_app: Hq, capsys: pytest.CaptureFixture[str]) -> None:
    """``aggregates verify`` exits 1 naming the village and the figure a corrupted row gets wrong
    (and, rolled up, its district), without any record value; ``rebuild`` repairs it."""
    boss = hq_app.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household(V1, head_name="Rahasia Sekali")),
                 boss.op("members", "m1", member("h1", migration_status="pmi_aktif")),
                 boss.op("placements", "p1", placement("m1", monthly_remittance=3_000_000)),
                 boss.op("households", "h2", household(V3)))
    url = hq_app.ctx.db.url
    assert cli_main(["aggregates", "verify", "--db", url]) == 0
    assert "equal a recomputation" in capsys.readouterr().out
    with hq_app.ctx.db.write() as conn:
        a = t.area_figures
        row = json.loads(conn.execute(select(a.c.figures).where(a.c.code == V1)).scalar_one())
        row["members"] += 1
        conn.execute(update(a).where(a.c.code == V1).values(figures=json.dumps(row)))
        conn.execute(update(t.area_values).where(t.area_values.c.code == "32.01").values(n=t.area_values.c.n + 1))
    assert cli_main(["aggregates", "verify", "--db", url, "--json"]) == 1
    out, err = capsys.readouterr()
    found = {(m["code"], m["figure"]) for m in json.loads(out)["mismatches"]}
    assert found == {(V1, "members"), ("32.01", "remittance_median values")}
    assert "differ from a recomputation" in err
    assert "Rahasia" not in out + err and "3000000" not in out + err
    assert cli_main(["aggregates", "rebuild", "--db", url]) == 0
    assert "rebuilt: 2 villages" in capsys.readouterr().out
    assert cli_main(["aggregates", "verify", "--db", url]) == 0


def test_migration_builds_aggregates_for_existing_data(hq_app: Hq) -> None:
    """Data stored before step 13 gets its aggregates when the step runs."""
    boss = hq_app.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household(V1)), boss.op("households", "h2", household(V_OTHER)))
    with hq_app.ctx.db.write() as conn:
        for table in (t.area_values, t.area_figures, t.aggregate_state):
            conn.execute(table.delete())
        # back to the database as it was before step 13 (and the steps after it: 14 adds the no-echo
        # columns, 15 member_niks, 16 questionnaire_versions, 19 pmi_children)
        conn.execute(t.schema_migrations.delete().where(t.schema_migrations.c.version >= 13))
        for table in (t.area_values, t.area_figures, t.aggregate_state, t.member_niks, t.questionnaire_versions,
                      t.pmi_children):
            table.drop(conn)
        conn.execute(text("DROP INDEX ix_scope_exits_seq"))
        conn.execute(text("DROP INDEX ix_conflicts_resolved_seq"))
        for table, column in (("records", "echo_device"), ("records", "echo_op"), ("conflicts", "resolved_seq")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    assert migrate(hq_app.ctx.db) == len([s for s in STEPS if s.version >= 13])
    with hq_app.ctx.db.read() as conn:
        codes = set(conn.execute(select(t.area_figures.c.code)).scalars())
    assert codes == {"", "32", "32.01", "32.01.01", V1, "33", "33.02", "33.02.01", V_OTHER}
    assert verify(hq_app.ctx.db) == []


def test_migration_fills_member_niks_for_existing_data(hq_app: Hq) -> None:
    """Members stored before step 15 are in ``member_niks`` once it runs (live ones with a NIK)."""
    boss = hq_app.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household(V1)), boss.op("households", "h2", household(V_OTHER)),
                 boss.op("members", "m1", member("h1", nik="3201014101900001")),
                 boss.op("members", "m2", member("h2", nik="3201014101900001")),
                 boss.op("members", "m3", member("h2")), boss.op("members", "m4", member("h2", nik="3201010202850002")))
    boss.push_ok(boss.op("members", "m4", kind="delete"))
    with hq_app.ctx.db.write() as conn:
        # back to before step 15 and every later step (migrate goes on from the highest applied)
        conn.execute(t.schema_migrations.delete().where(t.schema_migrations.c.version >= 15))
        for table in (t.member_niks, t.questionnaire_versions, t.pmi_children):
            table.drop(conn)
    assert migrate(hq_app.ctx.db) == len([s for s in STEPS if s.version >= 15])
    with hq_app.ctx.db.read() as conn:
        m = t.member_niks
        assert conn.execute(select(m.c.member_id, m.c.household_id, m.c.scope).order_by(m.c.member_id)).all() == [
            ("m1", "h1", V1), ("m2", "h2", V_OTHER)]
    assert verify(hq_app.ctx.db) == []


def test_member_niks_follow_moves_and_deletes(hq_app: Hq) -> None:
    """A household moving to another village takes its members' NIKs along (the old village's rows
    go), a deleted member's NIK goes, and HQ's duplicate list sees it at once."""
    boss = hq_app.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household(V1)), boss.op("households", "h2", household(V3)),
                 boss.op("members", "m1", member("h1", nik="3201014101900001")),
                 boss.op("members", "m2", member("h2", nik="3201014101900001")))
    catch_up(hq_app.ctx.db)
    boss.push_ok(boss.op("households", "h1", {"village_code": V_OTHER}))
    catch_up(hq_app.ctx.db)
    m = t.member_niks
    with hq_app.ctx.db.read() as conn:
        assert conn.execute(select(m.c.member_id, m.c.scope).order_by(m.c.member_id)).all() == [
            ("m1", V_OTHER), ("m2", V3)]
    assert find_duplicates(hq_app.ctx.db, Principal("pusat", "hq", "web")).total == 1
    boss.push_ok(boss.op("members", "m2", kind="delete"))
    assert find_duplicates(hq_app.ctx.db, Principal("pusat", "hq", "web")).total == 0
    assert verify(hq_app.ctx.db) == []


@given(st.lists(st.integers(-5, 10**12), max_size=40))
def test_median_of_counts_is_the_report_median(values: list[int]) -> None:
    """The median from a value multiset (how every area above a village gets one) is the report's."""
    assert median_of(dict(Counter(values))) == spec.median(values)


def test_children_in_parenting_reads_kept_children_and_equals_the_recomputation(hq_app: Hq) -> None:
    """``children_in_parenting`` of the aggregated report reads ``pmi_children`` (kept by the
    catch-up) and equals the recomputation from the records as households change: a PMI parent
    who comes home, a child's household deleted, a new PMI parent."""
    boss = hq_app.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household(V1)),
                 boss.op("members", "p1", member("h1", relationship="kepala", migration_status="pmi_aktif")),
                 boss.op("members", "k1", member("h1", relationship="anak", birth_date="2015-03-01", migration_status="bukan")),
                 boss.op("members", "k2", member("h1", relationship="anak", migration_status="bukan")),
                 boss.op("parenting_activities", "a1", {"village_code": V1, "held_on": "2026-11-02",
                                                        "activity_type": "kelompok_belajar"}),
                 boss.op("parenting_attendance", "t1", {"activity_id": "a1", "member_id": "k1", "role": "anak"}),
                 boss.op("parenting_attendance", "t2", {"activity_id": "a1", "member_id": "k2", "role": "anak"}))

    def both() -> tuple[int, int]:
        aggregated = build_report(hq_app.ctx.db, level="village")["totals"]["children_in_parenting"]
        recomputed = recompute_report(hq_app.ctx.db, level="village")["totals"]["children_in_parenting"]
        return aggregated, recomputed

    assert both() == (2, 2)
    boss.push_ok(boss.op("members", "p1", {"migration_status": "pmi_purna"}))
    assert both() == (0, 0)
    boss.push_ok(boss.op("members", "k3", member("h1", relationship="suami_istri", migration_status="pmi_aktif")))
    assert both() == (2, 2)
    assert verify(hq_app.ctx.db) == []
