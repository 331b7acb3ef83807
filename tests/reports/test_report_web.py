"""The HQ national page on the hand-computed fixture, SQLite and PostgreSQL: the line of areas
holding data at the top, the tiles and the table are the JSON report's figures (issue 14 §1)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from desmig_server.app import create_app
from tests.server.support import Hq
from tests.web.conftest import login
from tests.web.pages import coverage, report_figures, table_figures, tile_figures

from .fixture import TOTALS, server_create_ops, server_delete_ops

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(module_db_url: str) -> Iterator[Any]:
    app = create_app(module_db_url)
    with TestClient(app, base_url="http://testserver") as test_client:
        hq = Hq(app.state.hq, test_client)
        boss = hq.user_device("pusat", "hq")
        boss.push_ok(*server_create_ops(boss))
        boss.push_ok(*server_delete_ops(boss))
        response = login(test_client, "pusat")
        assert response.status_code == 303, response.text
        yield test_client


@pytest.mark.parametrize(("kode", "line"), [
    ("", "2 provinsi · 2 kabupaten/kota · 3 kecamatan · 4 desa/kelurahan"),
    ("32", "1 kabupaten/kota · 2 kecamatan · 3 desa/kelurahan"),
])
def test_the_national_page_says_how_many_areas_hold_data(client: Any, kode: str, line: str) -> None:
    page = client.get("/", params={"kode": kode})
    assert page.status_code == 200
    found = coverage(page.text)
    assert found is not None and found[0] == line
    if not kode:
        assert found[1] == {"provinces": TOTALS["provinces"], "regencies": TOTALS["regencies"],
                            "districts": TOTALS["districts"], "villages": TOTALS["villages"]}


def test_the_national_page_shows_the_fixtures_figures(client: Any) -> None:
    from desmig_server.reports.queries import build_report

    page = client.get("/").text
    expected = build_report(client.app.state.hq.db, level="province", prefix="")
    assert expected["totals"] == TOTALS
    assert table_figures(page) == report_figures(expected)
    assert tile_figures(page) == {k: TOTALS[k] for k in tile_figures(page)}
    assert tile_figures(page)["businesses"] == 4 and tile_figures(page)["remittance_total"] == 16_000_001
