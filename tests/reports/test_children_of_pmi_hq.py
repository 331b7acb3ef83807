"""Children of PMI at HQ: the SQL over the records (``queries.is_child_of_pmi`` and
``child_of_pmi``, and the recomputed report) picks the members the one definition,
``domain.programme.children_of_pmi``, picks; the aggregated report (birth dates kept in
``area_values`` by the catch-up, counted by ``read._aged`` for HQ and ``queries.aged_count`` for a
supervisor's summed villages) gives its count at village, district and national level, for the
report day the generator draws. SQLite and PostgreSQL.

The cases are the laptop check's (``tests.support.children_of_pmi.households``), each household
put in one of four villages (two of one district, one of another district of the same regency,
one of another province). They reach HQ as a laptop's push (``tests.server.support.Device``), as
the other report tests load households: a member the push refuses is not at HQ and not counted.
HQ refuses only a member without a migration status (a required field); HQ's tolerance for dates
in the future is widened to the generator's last date (its report days run to 2030).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, false, select

from desmig_desktop.domain.programme import children_of_pmi
from desmig_desktop.domain.report_period import Period
from desmig_desktop.domain.report_spec import LEVELS
from desmig_server.app import create_app
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.json_sql import json_text
from desmig_server.reports.queries import build_report, child_of_pmi, is_child_of_pmi, recompute_report
from desmig_server.settings import Settings
from tests.server.support import V1, V2, V3, V_OTHER, Hq, household, reset_data
from tests.support.children_of_pmi import LAST_DAY, households

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

VILLAGES = (V1, V2, V3, V_OTHER)
REGENCY = V1[:5]  # V1, V2, V3: a supervisor's villages
Case = tuple[list[dict[str, Any]], list[dt.date], dict[str, str]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Several ``households`` cases loaded at once (one HQ load is the slow part), ids kept apart,
    each household in a village; and each case's report day."""
    members: list[dict[str, Any]] = []
    days: list[dt.date] = []
    for i in range(draw(st.integers(3, 8))):
        some, on = draw(households())
        members += [{**m, "id": f"c{i}{m['id']}", "household_id": f"c{i}{m['household_id']}"} for m in some]
        days.append(on)
    villages = {h: draw(st.sampled_from(VILLAGES)) for h in sorted({m["household_id"] for m in members})}
    return members, days, villages


@pytest.fixture(scope="module")
def hq(module_db_url: str) -> Iterator[Hq]:
    tolerance = max(3, (LAST_DAY - dt.date.today()).days + 1)  # the generator's births, up to LAST_DAY
    app = create_app(module_db_url, dataclasses.replace(Settings.from_env(), future_date_tolerance_days=tolerance))
    with TestClient(app) as client:
        yield Hq(app.state.hq, client)


def load(hq: Hq, members: list[dict[str, Any]], villages: dict[str, str]) -> list[dict[str, Any]]:
    """An empty HQ, then ``members`` pushed (deleted ones deleted after): the members HQ holds."""
    with hq.ctx.db.write() as conn:
        reset_data(conn)
    device = hq.user_device("pusat", "hq")
    ops = [device.op("households", hid, household(village)) for hid, village in villages.items()]
    ops += [device.op("members", m["id"], {"household_id": m["household_id"], "name": "Siti Aminah", "sex": "P",
                                           "relationship": m["relationship"],
                                           **{k: m[k] for k in ("migration_status", "birth_date") if m[k]}})
            for m in members]
    results = device.push_ok(*ops)
    assert [r["status"] for r in results[:len(villages)]] == ["ok"] * len(villages)
    held = [m for m, r in zip(members, results[len(villages):]) if r["status"] == "ok"]
    assert [m["id"] for m in held] == [m["id"] for m in members if m["migration_status"]], results
    deletes = [device.op("members", m["id"], kind="delete") for m in held if m["deleted"]]
    if deletes:
        assert {r["status"] for r in device.push_ok(*deletes)} == {"ok"}
    return held


def picked(db: Database, on: dt.date) -> tuple[list[str], list[str]]:
    """The live members of live households ``is_child_of_pmi`` picks on ``on``, and those
    ``child_of_pmi`` (the same by the member's id) picks."""
    r, h = t.records, t.records.alias("h")
    household_live = and_(h.c.entity == "households", h.c.id == r.c.parent_id, h.c.deleted == false())
    by_columns = select(r.c.id).select_from(r.join(h, household_live)).where(
        r.c.entity == "members", r.c.deleted == false(),
        is_child_of_pmi(db.dialect, json_text(db.dialect, r.c.data, "relationship"),
                        json_text(db.dialect, r.c.data, "birth_date"),
                        json_text(db.dialect, r.c.data, "migration_status"), r.c.parent_id, on))
    by_id = select(r.c.id).where(r.c.entity == "members", child_of_pmi(db.dialect, r.c.id, on))
    with db.read() as conn:
        return sorted(conn.execute(by_columns).scalars()), sorted(conn.execute(by_id).scalars())


def counts(children: list[str], members: list[dict[str, Any]], villages: dict[str, str],
           length: int, within: tuple[str, ...] = VILLAGES) -> dict[str, int]:
    """The children per area code of ``length`` (every area holding a household of ``within``)."""
    village_of = {m["id"]: villages[m["household_id"]] for m in members}
    found = Counter(village_of[c][:length] for c in children if village_of[c] in within)
    return {v[:length]: found[v[:length]] for v in villages.values() if v in within}


def by_code(report: dict[str, Any]) -> dict[str, int]:
    return {row["code"]: row["children_of_pmi"] for row in report["rows"]}


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def check(hq: Hq, case: Case) -> None:
    members, days, villages = case
    held = load(hq, members, villages)
    db, village = hq.ctx.db, LEVELS["village"]
    supervisor = Principal(username="sup", role="supervisor", device_id="d-sup", regency=REGENCY)
    mine = (V1, V2, V3)
    for on in days:
        children, period = children_of_pmi(held, on), Period(end=on)
        assert picked(db, on) == (children, children), on
        recomputed = recompute_report(db, level="village", period=period)
        assert by_code(recomputed) == counts(children, held, villages, village), on
        for level in ("village", "district", "province"):
            report = build_report(db, level=level, period=period)  # the aggregates, caught up first
            assert by_code(report) == counts(children, held, villages, LEVELS[level]), (on, level)
            assert report["totals"]["children_of_pmi"] == len(children), (on, level)
        summed = build_report(db, level="village", actor=supervisor, period=period)  # the villages' birth dates
        assert by_code(summed) == counts(children, held, villages, village, mine), on
        assert summed["totals"]["children_of_pmi"] == sum(counts(children, held, villages, village, mine).values())


def test_hq_sql_and_aggregates_agree_with_the_definition(hq: Hq) -> None:
    check(hq)
