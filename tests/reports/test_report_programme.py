"""Programme figures (issue 15) on a hand-counted fixture: the desktop and HQ (SQLite and
PostgreSQL, the aggregated report, the recomputation and a supervisor's summed rows) give the
numbers of ``programme_fixture``, for a month and for "everything until today"."""

from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from desmig_desktop.domain.numbers import figure
from desmig_desktop.domain.report_period import EVERYTHING
from desmig_desktop.domain.report_spec import METRIC, PROGRAMME_KEYS, PROGRAMME_SUMMARY_KEYS
from desmig_desktop.services.reports import build_report as desktop_report
from desmig_server import cli
from desmig_server.app import create_app
from desmig_server.auth.principal import Principal
from desmig_server.reports.queries import build_report as hq_report
from desmig_server.reports.queries import recompute_report
from tests.server.support import Hq
from tests.web.conftest import login

from . import fixture, programme_fixture
from .fixture import V1, V2, V3, V4
from .programme_fixture import EVERYTHING_TOTALS_CHANGES, EXPECTED_TOTALS, EXPECTED_VILLAGES, PERIOD, TODAY

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def programme(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in PROGRAMME_KEYS}


def by_village(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["code"]: programme(r) for r in report["rows"]}


def summed(*codes: str) -> dict[str, Any]:
    out = fixture.programme_figures()
    for code in codes:
        for key, value in EXPECTED_VILLAGES[code].items():
            out[key] = {k: out[key][k] + n for k, n in value.items()} if isinstance(value, dict) else out[key] + value
    return out


def check(report_of: Any) -> None:
    """``report_of(level, prefix, period)`` against the hand counts."""
    month = report_of("village", "", PERIOD)
    assert month["period"] == {"from": "2026-11-01", "to": "2026-11-30"}
    assert by_village(month) == EXPECTED_VILLAGES
    assert programme(month["totals"]) == EXPECTED_TOTALS == summed(V1, V2, V3, V4)
    district = report_of("district", "32.01", PERIOD)
    assert by_village(district) == {"32.01.01": summed(V1, V2), "32.01.02": EXPECTED_VILLAGES[V3]}
    assert programme(district["totals"]) == summed(V1, V2, V3)
    national = report_of("province", "", PERIOD)
    assert programme(national["totals"]) == EXPECTED_TOTALS
    ever = report_of("village", "", EVERYTHING)
    assert ever["period"] == {"from": None, "to": None}
    assert {k: ever["totals"][k] for k in EVERYTHING_TOTALS_CHANGES} == EVERYTHING_TOTALS_CHANGES


def test_desktop_counts_the_fixture(db: Any) -> None:
    fixture.load_desktop(db)
    programme_fixture.load_desktop(db)
    check(lambda level, prefix, period: desktop_report(db, level, prefix, period, today=TODAY))


@pytest.fixture(scope="module")
def hq(module_db_url: str) -> Iterator[Hq]:
    app = create_app(module_db_url)
    with TestClient(app) as client:
        hq = Hq(app.state.hq, client)
        boss = hq.user_device("pusat", "hq")
        assert {r["status"] for r in boss.push_ok(*fixture.server_create_ops(boss))} == {"ok"}
        assert {r["status"] for r in boss.push_ok(*fixture.server_delete_ops(boss))} == {"ok"}
        assert {r["status"] for r in boss.push_ok(*programme_fixture.server_household_ops(boss))} == {"ok"}
        programme_fixture.insert_server_records(hq.ctx.db)
        yield hq


def test_hq_counts_the_fixture_from_aggregates_and_records(hq: Hq) -> None:
    db = hq.ctx.db
    check(lambda level, prefix, period: hq_report(db, level=level, prefix=prefix, period=period, today=TODAY))
    check(lambda level, prefix, period: recompute_report(db, level=level, prefix=prefix, period=period, today=TODAY))


def test_hq_supervisor_sees_the_sums_of_its_villages(hq: Hq) -> None:
    supervisor = Principal(username="sup", role="supervisor", device_id="d-sup", regency="32.01")
    report = hq_report(hq.ctx.db, level="village", actor=supervisor, period=PERIOD)
    assert by_village(report) == {code: EXPECTED_VILLAGES[code] for code in (V1, V2, V3)}
    assert programme(report["totals"]) == summed(V1, V2, V3)
    assert report == recompute_report(hq.ctx.db, level="village", actor=supervisor, period=PERIOD)


_PILLAR = re.compile(r'<div class="tile pillar" data-key="([a-z_]+)" data-value="([^"]*)"[^>]*>\s*'
                     r'<div class="tile-value">([^<]*)<')


def test_hq_api_cli_and_web_page_take_the_period(hq: Hq) -> None:
    db = hq.ctx.db
    expected = hq_report(db, level="village", period=PERIOD)
    boss = hq.register("pusat", device_name="api")
    answer = hq.client.get("/v1/reports", params={"level": "village", "from": "2026-11-01", "to": "2026-11-30"},
                           headers=boss.headers)
    assert answer.status_code == 200 and answer.json()["rows"] == expected["rows"]
    for bad in ({"from": "2026-11-31"}, {"from": "2026-11-05", "to": "2026-11-01"}, {"to": "30/11/2026"}):
        refused = hq.client.get("/v1/reports", params={"level": "village", **bad}, headers=boss.headers)
        assert refused.status_code == 422, bad
    out = io.StringIO()
    assert cli.main(["report", "--level", "village", "--month", "2026-11", "--json", "--db", db.url], stdout=out) == 0
    assert json.loads(out.getvalue()) == answer.json()
    assert cli.main(["report", "--month", "2026-13", "--db", db.url], stdout=io.StringIO()) == 1
    assert login(hq.client, "pusat").status_code == 303
    page = hq.client.get("/", params={"dari": "2026-11-01", "sampai": "2026-11-30"})
    assert page.status_code == 200
    tiles = {key: (raw, text) for key, raw, text in _PILLAR.findall(page.text)}
    assert list(tiles) == list(PROGRAMME_SUMMARY_KEYS)
    assert tiles == {k: (str(EXPECTED_TOTALS[k]), figure(EXPECTED_TOTALS[k], METRIC[k].money))
                     for k in PROGRAMME_SUMMARY_KEYS}
    assert 'href="/?kode=32&amp;dari=2026-11-01&amp;sampai=2026-11-30"' in page.text  # drilling keeps the period
    refused = hq.client.get("/", params={"dari": "2026-02-30"})
    assert refused.status_code == 400 and "Dari" in refused.text
