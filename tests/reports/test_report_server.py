"""The HQ report (SQL over JSON ``records``) on the same hand-computed fixture, SQLite and PostgreSQL,
through the API, the CLI and with role restrictions."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from desmig_desktop.domain.report_spec import AREA_KEYS
from desmig_server import cli
from desmig_server.app import create_app
from tests.server.support import Device, Hq

from .fixture import (
    DIFFERENCES,
    DISTRICT_CIBINONG,
    EXPECTED,
    REGENCY_BOGOR,
    TOTALS,
    V1,
    V2,
    V3,
    VILLAGE_V1,
    as_triples,
    figure,
    figures,
    server_create_ops,
    server_delete_ops,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def hq_app(module_db_url: str) -> Iterator[Hq]:
    app = create_app(module_db_url)
    with TestClient(app) as client:
        hq_app = Hq(app.state.hq, client)
        boss = hq_app.user_device("pusat", "hq")
        results = boss.push_ok(*server_create_ops(boss))
        assert {r["status"] for r in results} == {"ok"}, results
        results = boss.push_ok(*server_delete_ops(boss))
        assert {r["status"] for r in results} == {"ok"}, results
        hq_app.add_user("ofc", "officer", villages=[V1])
        hq_app.add_user("sup", "supervisor", regency="32.01")
        yield hq_app


@pytest.fixture(scope="module")
def boss(hq_app: Hq) -> Device:
    return hq_app.register("pusat", device_name="reports")


def api(hq_app: Hq, device: Device, **params: str) -> dict[str, Any]:
    response = hq_app.client.get("/v1/reports", params=params, headers=device.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("level", list(EXPECTED))
def test_every_figure_at_every_level(hq_app: Hq, boss: Device, level: str) -> None:
    report = api(hq_app, boss, level=level)
    assert as_triples(report) == EXPECTED[level]
    assert report["totals"] == TOTALS


@pytest.mark.parametrize(("level", "code", "key", "old", "new"), DIFFERENCES)
def test_figures_count_what_their_labels_say(hq_app: Hq, boss: Device, level: str, code: str, key: str, old: Any,
                                             new: Any) -> None:
    """Active businesses, current remittances, areas counted once (issue 14), one figure at a time."""
    assert old != new
    assert figure(api(hq_app, boss, level=level), code, key) == new


def test_prefix_restricts_rows_and_totals(hq_app: Hq, boss: Device) -> None:
    report = api(hq_app, boss, level="village", prefix="32.01.01")
    assert [r["code"] for r in report["rows"]] == [V1, V2] and report["totals"] == DISTRICT_CIBINONG
    empty = api(hq_app, boss, level="village", prefix="35")
    assert empty["rows"] == [] and empty["totals"] == figures(households=0, members=0)


def test_roles_see_their_scopes_with_recomputed_totals(hq_app: Hq) -> None:
    officer, supervisor = hq_app.register("ofc"), hq_app.register("sup")
    report = api(hq_app, officer, level="village")
    assert as_triples(report) == [EXPECTED["village"][0]] and report["totals"] == VILLAGE_V1
    report = api(hq_app, supervisor, level="village")
    assert [r["code"] for r in report["rows"]] == [V1, V2, V3] and report["totals"] == REGENCY_BOGOR


def test_cli_json_equals_the_api(hq_app: Hq, boss: Device) -> None:
    for level in EXPECTED:
        out = io.StringIO()
        assert cli.main(["report", "--level", level, "--json", "--db", hq_app.ctx.db.url], stdout=out) == 0
        assert json.loads(out.getvalue()) == api(hq_app, boss, level=level)


@pytest.mark.parametrize("level", list(EXPECTED))
def test_cli_table_says_how_many_areas_hold_data(hq_app: Hq, level: str) -> None:
    """``desmig-hq report`` without --json: the TOTAL line carries provinces, regencies, districts, villages."""
    out = io.StringIO()
    assert cli.main(["report", "--level", level, "--db", hq_app.ctx.db.url], stdout=out) == 0
    lines = out.getvalue().splitlines()
    head, total = lines[0].split(), lines[-1].split()  # the TOTAL line's name is empty
    assert total[0] == "TOTAL" and len(head) == len(total) + 1
    shown = dict(zip(head[2:], total[1:]))
    assert {k: int(shown[k]) for k in AREA_KEYS} == {k: TOTALS[k] for k in AREA_KEYS} == {
        "provinces": 2, "regencies": 2, "districts": 3, "villages": 4}
