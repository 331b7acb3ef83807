"""Reports: totals on a hand-computed fixture, per level, prefix, and role restriction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from desmig_desktop.domain.report_spec import DESIGN_KEYS, KBLI_CODES

from .conftest import open_hq
from .support import V1, V3, V_OTHER, Device, Hq, business, household, member

# The fixture, by village (deleted records in brackets, never counted):
#   V1      hA: a1 pmi_aktif, a2 pmi_purna, a3 bukan, [a4 calon_pmi]; bA1 G export-ready, bA2 C
#           hB: b1 calon_pmi
#   V3      hC: c1 pmi_aktif, c2 pmi_aktif; bC1 A export-ready, [bC2 G]
#           [hE: e1 pmi_aktif; bE1 G export-ready]  (household deleted: cascades)
#   V_OTHER hD: d1 pmi_purna; bD1 G (export readiness unknown)


def design(figures: dict[str, Any]) -> dict[str, Any]:
    """The DESIGN §6 keys of a row (issue 6 added more; tests/reports checks those)."""
    return {k: v for k, v in figures.items() if k in DESIGN_KEYS}


def counts(households: int, members: int, active: int, returned: int, prospective: int, with_business: int,
           businesses: int, ready: int, **kbli: int) -> dict[str, Any]:
    return {"households": households, "members": members, "pmi_active": active, "pmi_returned": returned,
            "pmi_prospective": prospective, "households_with_business": with_business, "businesses": businesses,
            "export_ready": ready, "businesses_by_kbli": {code: kbli.get(code, 0) for code in KBLI_CODES}}


VILLAGE_V1 = counts(2, 4, 1, 1, 1, 1, 2, 1, G=1, C=1)
VILLAGE_V3 = counts(1, 2, 2, 0, 0, 1, 1, 1, A=1)
VILLAGE_OTHER = counts(1, 1, 0, 1, 0, 1, 1, 0, G=1)
REGENCY_3201 = counts(3, 6, 3, 1, 1, 2, 3, 2, G=1, C=1, A=1)
TOTALS = counts(4, 7, 3, 2, 1, 3, 4, 2, G=2, C=1, A=1)


@pytest.fixture(scope="module")
def hq_with_data(module_db_url: str) -> Iterator[Hq]:
    for hq_app in open_hq(module_db_url):
        boss = hq_app.user_device("pusat", "hq")
        ms = "migration_status"
        boss.push_ok(
            boss.op("households", "hA", household(V1)),
            boss.op("members", "a1", member("hA", **{ms: "pmi_aktif"})),
            boss.op("members", "a2", member("hA", **{ms: "pmi_purna"})),
            boss.op("members", "a3", member("hA", **{ms: "bukan"})),
            boss.op("members", "a4", member("hA", **{ms: "calon_pmi"})),
            boss.op("businesses", "bA1", business("hA", kbli_category="G", export_ready=True)),
            boss.op("businesses", "bA2", business("hA", kbli_category="C", export_ready=False)),
            boss.op("households", "hB", household(V1)),
            boss.op("members", "b1", member("hB", **{ms: "calon_pmi"})),
            boss.op("households", "hC", household(V3)),
            boss.op("members", "c1", member("hC", **{ms: "pmi_aktif"})),
            boss.op("members", "c2", member("hC", **{ms: "pmi_aktif"})),
            boss.op("businesses", "bC1", business("hC", kbli_category="A", export_ready=True)),
            boss.op("businesses", "bC2", business("hC", kbli_category="G")),
            boss.op("households", "hE", household(V3)),
            boss.op("members", "e1", member("hE", **{ms: "pmi_aktif"})),
            boss.op("businesses", "bE1", business("hE", kbli_category="G", export_ready=True)),
            boss.op("households", "hD", household(V_OTHER)),
            boss.op("members", "d1", member("hD", **{ms: "pmi_purna"})),
            boss.op("businesses", "bD1", business("hD", kbli_category="G")),
        )
        results = boss.push_ok(boss.op("members", "a4", kind="delete"), boss.op("businesses", "bC2", kind="delete"),
                               boss.op("households", "hE", kind="delete"))
        assert [r["status"] for r in results] == ["ok"] * 3
        hq_app.add_user("ofc", "officer", villages=[V1])
        hq_app.add_user("sup", "supervisor", regency="32.01")
        yield hq_app


def report(hq_app: Hq, device: Device, **params: str) -> dict[str, Any]:
    response = hq_app.client.get("/v1/reports", params=params, headers=device.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def boss(hq_with_data: Hq) -> Device:
    return hq_with_data.register("pusat", device_name="reports")


def test_village_level(hq_with_data: Hq, boss: Device) -> None:
    body = report(hq_with_data, boss, level="village")
    assert body["level"] == "village"
    assert [(r["code"], r["name"]) for r in body["rows"]] == [
        (V1, "Pondok Rajeg"), (V3, "Wanaherang"), (V_OTHER, "Cirahab")]
    strip = [design(r) for r in body["rows"]]
    assert strip == [VILLAGE_V1, VILLAGE_V3, VILLAGE_OTHER]
    assert design(body["totals"]) == TOTALS


@pytest.mark.parametrize(("level", "rows"), [
    ("district", [("32.01.01", "Cibinong", VILLAGE_V1), ("32.01.02", "Gunungputri", VILLAGE_V3),
                  ("33.02.01", "Lumbir", VILLAGE_OTHER)]),
    ("regency", [("32.01", "Kabupaten Bogor", REGENCY_3201), ("33.02", "Kabupaten Banyumas", VILLAGE_OTHER)]),
    ("province", [("32", "Jawa Barat", REGENCY_3201), ("33", "Jawa Tengah", VILLAGE_OTHER)]),
])
def test_higher_levels_add_up(hq_with_data: Hq, boss: Device, level: str, rows: list[Any]) -> None:
    body = report(hq_with_data, boss, level=level)
    assert [(r["code"], r["name"], design(r))
            for r in body["rows"]] == rows
    assert design(body["totals"]) == TOTALS


def test_prefix_restricts_rows_and_totals(hq_with_data: Hq, boss: Device) -> None:
    body = report(hq_with_data, boss, level="village", prefix="32.01")
    assert [r["code"] for r in body["rows"]] == [V1, V3]
    assert design(body["totals"]) == REGENCY_3201
    assert report(hq_with_data, boss, level="village", prefix="35")["rows"] == []


def test_officer_and_supervisor_see_only_their_scopes(hq_with_data: Hq) -> None:
    hq_app = hq_with_data
    officer, supervisor = hq_app.register("ofc"), hq_app.register("sup")
    body = report(hq_app, officer, level="province")
    assert [r["code"] for r in body["rows"]] == ["32"] and design(body["totals"]) == VILLAGE_V1
    body = report(hq_app, supervisor, level="village")
    assert [r["code"] for r in body["rows"]] == [V1, V3] and design(body["totals"]) == REGENCY_3201
    assert hq_app.client.get("/v1/reports", params={"prefix": "33"}, headers=supervisor.headers).status_code == 403
