"""After two officers sync, HQ's figures equal the sum of theirs at every level — every key.

Two laptops (real desktop stores and sync client) against a real ``desmig-hq serve`` process:
ana and budi record in two villages of one district (35.01.01), so every level above the village
sums both laptops' figures. Additive figures must add up; a median must be the median of both
laptops' values together; the areas holding data must count each area once, whichever laptop
holds it; top countries must rank the summed per-country counts. After the sync, ana (whose
scope covers both villages) must show exactly HQ's report.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from desmig_desktop.domain import report_spec as spec
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.households import delete_household
from desmig_desktop.services.reports import build_report
from tests.sync.fixtures import hq_module, hq_server, hq_template, make_device  # noqa: F401
from tests.sync.harness import VILLAGE_1, VILLAGE_2, Device, HqServer

pytestmark = pytest.mark.e2e


def remittances(device: Device, length: int) -> dict[str, list[int]]:
    """Every current remittance on a laptop (open placement of a member abroad now), by region
    code prefix (the test's own oracle)."""
    out: dict[str, list[int]] = defaultdict(list)
    for code, value in device.db.execute(
            "SELECT h.village_code, p.monthly_remittance FROM placements p"
            " JOIN members m ON m.id = p.member_id AND m.deleted = 0 AND m.migration_status = 'pmi_aktif'"
            " JOIN households h ON h.id = m.household_id AND h.deleted = 0"
            " WHERE p.deleted = 0 AND p.monthly_remittance IS NOT NULL AND p.returned_on IS NULL"):
        out[code[:length]].append(value)
    return out


def villages(device: Device) -> set[str]:
    """The villages holding a live household on a laptop."""
    return {code for (code,) in device.db.execute("SELECT village_code FROM households WHERE deleted = 0")}


def combined(rows: list[dict[str, Any]], values: list[int], held: set[str]) -> dict[str, Any]:
    """The figures of one region held by several laptops, from their rows, raw remittances and
    the villages (of this region) holding data."""
    out = spec.empty_row()
    for row in rows:
        for metric in spec.METRICS:
            if metric.is_map:
                for key, n in row[metric.key].items():
                    out[metric.key][key] = out[metric.key].get(key, 0) + n
            elif metric.additive:
                out[metric.key] += row[metric.key]
    out["remittance_median"] = spec.median(values)
    for key in spec.AREA_KEYS:
        out[key] = len({code[:spec.LEVELS[spec.METRIC[key].level or ""]] for code in held})
    return spec.finish_row(out)


def test_hq_equals_the_sum_of_two_officers_at_every_level(hq_server: HqServer, make_device: Any) -> None:
    # Same district (35.01.01), different villages: every level above the village really adds up.
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana")
    budi.login(hq_server, "budi")
    generate_demo(ana.db, 30, villages=[VILLAGE_2], seed=61)
    generate_demo(budi.db, 20, villages=[VILLAGE_1], seed=62)
    gone = ana.db.execute("SELECT id FROM households WHERE deleted = 0 ORDER BY id LIMIT 1").fetchone()[0]
    delete_household(ana.db, gone)
    laptops = (ana, budi)
    # Each officer's own figures, before a sync brings them anyone else's records.
    theirs = {level: [build_report(device.db, level) for device in laptops] for level in spec.LEVELS}
    values = {level: [remittances(device, length) for device in laptops] for level, length in spec.LEVELS.items()}
    held = set.union(*(villages(device) for device in laptops))
    for device in (*laptops, ana):  # ana again: pulls what budi pushed after her first sync
        report = device.sync()
        assert report.pending_ops == 0 and report.rejected == 0, report
    provinces: list[str] = []
    for level in spec.LEVELS:
        done = hq_server.hq("report", "--level", level, "--json")
        assert done.returncode == 0, done.stderr
        at_hq = json.loads(done.stdout)
        codes = sorted({r["code"] for report in theirs[level] for r in report["rows"]})
        assert [r["code"] for r in at_hq["rows"]] == codes
        for row in at_hq["rows"]:
            parts = [r for report in theirs[level] for r in report["rows"] if r["code"] == row["code"]]
            expected = combined(parts, [v for per_code in values[level] for v in per_code.get(row["code"], [])],
                                {v for v in held if v.startswith(row["code"])})
            assert {k: row[k] for k in spec.REPORT_KEYS} == expected, (level, row["code"])
        everything = [v for per_code in values[level] for vs in per_code.values() for v in vs]
        assert at_hq["totals"] == combined([report["totals"] for report in theirs[level]], everything, held)
        # ana's scope covers both villages: after the sync her laptop shows exactly HQ's report.
        assert build_report(ana.db, level) == at_hq
        provinces += [r["code"] for r in at_hq["rows"]] if level == "province" else []
    assert provinces == ["35"]  # one province holding both laptops' villages: a real sum at every level
    assert at_hq["totals"]["households"] == 49 and at_hq["totals"]["remittance_placements"] > 0
    # Both laptops hold one village each of the same district: summing them would say 2 districts.
    assert [at_hq["totals"][k] for k in spec.AREA_KEYS] == [1, 1, 1, 2]
