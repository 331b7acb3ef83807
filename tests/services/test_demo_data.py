"""Demo data is plausible (issue 14 §5): the form's checks stay quiet on it, and each household
passes the identity and household rules one by one, over several seeds and island regencies."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

import pytest

from desmig_desktop.domain.nik import parse_nik
from desmig_desktop.services.demo import DemoFactory, generate_demo, pick_villages
from desmig_desktop.services.demo_places import PROVINCE_BOXES, REGENCY_BOXES, box_of
from desmig_desktop.services.households import HouseholdGraph, validate_graph

SEEDS = [1, 7, 2026]
# Regencies on another island than their province's main one, and far-away provinces.
ISLAND_REGENCIES = ["35.26", "35.29", "52.04", "52.06", "53.08", "53.11", "53.13", "12.04", "21.71", "81.71",
                    "74.04", "91.06", "19.02"]
OTHER_PROVINCES = ["11", "14", "61", "64", "73", "75", "82", "93", "96"]
# The youngest age at which a member can have reached a level (started it, at the earliest):
# a plausibility bound, looser than any real school career.
EDUCATION_MIN_AGE = {"tidak_sekolah": 0, "sd": 6, "smp": 12, "sma": 15, "diploma": 18, "s1": 18, "s2_s3": 22}
TODAY = dt.date.today()


def first_village(db: Any, prefix: str) -> str:
    row = db.execute("SELECT code FROM regions WHERE level = 4 AND code LIKE ? ORDER BY code LIMIT 1",
                     [prefix + ".%"]).fetchone()
    return str(row[0])


def age(birth: dt.date) -> int:
    return TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))


def real_date(day: int, month: int, year2: int) -> dt.date | None:
    """The date of DDMMYY parts (the most recent century not in the future), None if impossible."""
    for century in (2000, 1900):
        try:
            date = dt.date(century + year2, month, day)
        except ValueError:
            return None
        if date <= TODAY:
            return date
    return None


@pytest.fixture
def graphs(db: Any, request: pytest.FixtureRequest) -> list[tuple[str, HouseholdGraph]]:
    """Households of one seed: the default spread of villages, then island regencies and the rest."""
    seed: int = request.param
    factory = DemoFactory(seed)
    villages = pick_villages(db, factory.rng)
    villages += [first_village(db, code) for code in (*ISLAND_REGENCIES, *OTHER_PROVINCES)]
    return [(village, factory.household(village)) for village in villages for _n in range(4)]


@pytest.mark.parametrize("graphs", SEEDS, indirect=True)
def test_the_forms_checks_stay_quiet_on_demo_households(db: Any, graphs: list[tuple[str, HouseholdGraph]]) -> None:
    for _village, graph in graphs:
        _values, issues = validate_graph(db, graph)
        assert [(i.entity, i.issue.field, i.issue.code) for i in issues] == []


@pytest.mark.parametrize("graphs", SEEDS, indirect=True)
def test_one_head_and_ages_that_fit(graphs: list[tuple[str, HouseholdGraph]]) -> None:
    for _village, graph in graphs:
        heads = [m for m in graph.members if m["relationship"] == "kepala"]
        assert len(heads) == 1 and heads[0]["name"] == graph.household["head_name"]
        parents = [age(dt.date.fromisoformat(m["birth_date"])) for m in graph.members
                   if m["relationship"] in ("kepala", "suami_istri")]
        for member in graph.members:
            years = age(dt.date.fromisoformat(member["birth_date"]))
            assert years >= EDUCATION_MIN_AGE[member["education"]], (member["education"], years)
            if member["relationship"] == "anak":
                assert min(parents) - years >= 15, (parents, years)  # a parent old enough


@pytest.mark.parametrize("graphs", SEEDS, indirect=True)
def test_nik_and_kk_numbers_are_well_formed(db: Any, graphs: list[tuple[str, HouseholdGraph]]) -> None:
    provinces = {code for (code,) in db.execute("SELECT code FROM regions WHERE level = 1")}
    districts = {code for (code,) in db.execute("SELECT code FROM regions WHERE level = 3")}
    for village, graph in graphs:
        for member in graph.members:
            parts, error = parse_nik(member["nik"])
            assert error is None and parts is not None
            assert parts.district[:2] in provinces and parts.district in districts
            assert real_date(parts.day, parts.month, parts.year2) == dt.date.fromisoformat(member["birth_date"])
        kk = graph.household["kk_number"]
        assert len(kk) == 16 and kk.isdigit()
        assert kk[:4] == village[:5].replace(".", "")  # region prefix: the household's regency
        issued = real_date(int(kk[6:8]), int(kk[8:10]), int(kk[10:12]))
        assert issued is not None and issued <= TODAY and kk[12:] != "0000"


@pytest.mark.parametrize("graphs", SEEDS, indirect=True)
def test_coordinates_lie_on_the_villages_island(graphs: list[tuple[str, HouseholdGraph]]) -> None:
    for village, graph in graphs:
        south, north, west, east = box_of(village)
        assert south <= graph.household["latitude"] <= north and west <= graph.household["longitude"] <= east
    regencies = Counter(village[:5] for village, _graph in graphs if village[:5] in REGENCY_BOXES)
    assert set(regencies) >= set(ISLAND_REGENCIES)


def test_every_province_and_island_regency_has_a_box_that_is_small_and_in_indonesia(db: Any) -> None:
    provinces = {code for (code,) in db.execute("SELECT code FROM regions WHERE level = 1")}
    regencies = {code for (code,) in db.execute("SELECT code FROM regions WHERE level = 2")}
    assert set(PROVINCE_BOXES) == provinces and set(REGENCY_BOXES) <= regencies
    for south, north, west, east in [*PROVINCE_BOXES.values(), *REGENCY_BOXES.values()]:
        assert -11.5 <= south < north <= 6.5 and 94.5 <= west < east <= 141.5  # the form's bounds
        assert north - south <= 1.5 and east - west <= 2.0  # a box on land, not a province's sea
    boxes = list(PROVINCE_BOXES.items())
    for n, (code, (s1, n1, w1, e1)) in enumerate(boxes):
        for other, (s2, n2, w2, e2) in boxes[n + 1:]:
            assert n1 < s2 or n2 < s1 or e1 < w2 or e2 < w1, (code, other)  # provinces never share a box


@pytest.mark.parametrize("seed", SEEDS)
def test_placements_follow_each_other_and_only_a_pmi_aktif_has_an_open_one(db: Any, seed: int) -> None:
    generate_demo(db, 60, seed=seed)
    members = {m["id"]: m for m in db["members"].rows}
    by_member: dict[str, list[dict[str, Any]]] = {}
    for p in db["placements"].rows:
        by_member.setdefault(p["member_id"], []).append(p)
    assert by_member
    for member_id, placements in by_member.items():
        status = members[member_id]["migration_status"]
        placements.sort(key=lambda p: p["departed_on"])
        open_ones = [p for p in placements if p["returned_on"] is None]
        assert open_ones == ([placements[-1]] if status == "pmi_aktif" else []), status
        for before, after in itertools.pairwise(placements):
            assert before["returned_on"] < after["departed_on"]
        for p in placements:
            assert p["departed_on"] <= (p["returned_on"] or TODAY.isoformat()) <= TODAY.isoformat()
