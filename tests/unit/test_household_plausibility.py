"""Implausible households (issue 20 §6) and points far from their village (§7), as tables."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.coercion import CoerceError, coerce
from desmig_desktop.domain.fields import HOUSEHOLDS, MARITAL, Kind
from desmig_desktop.domain.geo import FAR_KM, km_outside_province, province_bounds
from desmig_desktop.domain.household_checks import HEAD_MIN_AGE, MARRIED_MIN_AGE, household_issues
from desmig_desktop.domain.reference import iter_regions
from desmig_desktop.domain.validation import validate

TODAY = dt.date(2026, 6, 1)


def born(years: int, days: int = 0) -> str:
    return (TODAY.replace(year=TODAY.year - years) - dt.timedelta(days=days)).isoformat()


def member(**values: object) -> dict[str, object]:
    return {"household_id": "h1", "name": "Ani", "sex": "P", "relationship": "anak", "migration_status": "bukan",
            **values}


# -- marital status for age -------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [c.value for c in MARITAL])
@pytest.mark.parametrize("age", range(30))
def test_marital_status_table_at_every_age(status: str, age: int) -> None:
    for birth in (born(age), born(age + 1, days=-1)):  # both ends of an age
        result = validate("members", member(marital_status=status, birth_date=birth), today=TODAY)
        assert result.ok
        warned = [i for i in result.warnings if i.code == "marital_age"]
        assert bool(warned) == (status != "belum_kawin" and age < MARRIED_MIN_AGE), (status, age, birth)
        if warned:
            assert warned[0].field == "marital_status" and f"usia {age} tahun" in warned[0].message


def test_marital_status_without_a_birth_date_says_nothing() -> None:
    assert validate("members", member(marital_status="kawin"), today=TODAY).issues == []


# -- the household as a whole ----------------------------------------------------------------------------
@pytest.mark.parametrize("head_age, warned", [(0, True), (10, True), (HEAD_MIN_AGE - 1, True), (HEAD_MIN_AGE, False),
                                              (40, False), (None, False)])
def test_a_head_younger_than_15_is_warned(head_age: int | None, warned: bool) -> None:
    head = {"id": "m0", "relationship": "kepala", "birth_date": born(head_age) if head_age is not None else None}
    found = household_issues("h1", [head, {"id": "m1", "relationship": "anak", "birth_date": born(3)}], TODAY)
    assert [(g.record_id, g.field, g.code) for g in found] == ([("m0", "birth_date", "young_head")] if warned else [])


def test_a_head_born_after_today_is_left_to_the_date_check() -> None:
    head = {"id": "m0", "relationship": "kepala", "birth_date": "2030-01-01"}
    assert household_issues("h1", [head], TODAY) == []


def test_zero_members_is_one_warning_on_the_household() -> None:
    [issue] = household_issues("h1", [], TODAY)
    assert (issue.entity, issue.record_id, issue.code) == ("households", "h1", "no_members")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["kepala", "anak", "suami_istri", "cucu"]),
                          st.one_of(st.none(), st.integers(0, 90))), max_size=6))
def test_household_issues_any_roster(roster: list[tuple[str, int | None]]) -> None:
    members = [{"id": f"m{i}", "relationship": r, "birth_date": born(a) if a is not None else None}
               for i, (r, a) in enumerate(roster)]
    codes = [g.code for g in household_issues("h1", members, TODAY)]
    heads = [m for m in members if m["relationship"] == "kepala"]
    if not members:
        assert codes == ["no_members"]
    elif not heads:
        assert codes == ["no_head"]
    elif len(heads) > 1:
        assert codes == ["several_heads"] * len(heads)
    else:
        age = roster[[r for r, _a in roster].index("kepala")][1]
        assert codes == (["young_head"] if age is not None and age < HEAD_MIN_AGE else [])


# -- location far from the village's province ------------------------------------------------------------
def test_every_province_has_a_box_inside_the_coordinate_bounds() -> None:
    provinces = {r.code for r in iter_regions() if r.level == 1}
    boxes = province_bounds()
    assert set(boxes) == provinces
    lat, lon = HOUSEHOLDS.field("latitude"), HOUSEHOLDS.field("longitude")
    for code, (south, north, west, east) in boxes.items():
        assert lat.minimum <= south < north <= lat.maximum and lon.minimum <= west < east <= lon.maximum, code


# Provincial capitals and places on outlying islands (coordinates rounded, general knowledge)
PLACES_IN_THEIR_PROVINCE = [
    ("11", 5.55, 95.32), ("11", 2.45, 96.38), ("12", 3.59, 98.67), ("12", 1.29, 97.61), ("13", -0.95, 100.35),
    ("13", -1.60, 99.20), ("14", 0.51, 101.45), ("15", -1.61, 103.61), ("16", -2.98, 104.76), ("17", -3.80, 102.27),
    ("17", -5.35, 102.25), ("18", -5.43, 105.26), ("19", -2.13, 106.11), ("19", -2.75, 107.65), ("21", 0.92, 104.45),
    ("21", 3.94, 108.39), ("31", -6.20, 106.85), ("31", -5.61, 106.57), ("32", -6.91, 107.61), ("32", -6.60, 106.80),
    ("33", -6.99, 110.42), ("33", -5.85, 110.43), ("34", -7.80, 110.36), ("35", -7.25, 112.75),
    ("35", -5.78, 112.66), ("35", -7.05, 113.85), ("36", -6.12, 106.15), ("51", -8.65, 115.22), ("52", -8.58, 116.12),
    ("52", -8.46, 118.73), ("53", -10.16, 123.60), ("53", -8.84, 121.66), ("53", -9.66, 120.26), ("61", -0.03, 109.33),
    ("62", -2.21, 113.92), ("63", -3.32, 114.59), ("64", -0.50, 117.15), ("64", 2.15, 117.50), ("65", 2.84, 117.37),
    ("65", 3.30, 117.60), ("71", 1.47, 124.84), ("71", 3.60, 125.50), ("72", -0.90, 119.87), ("72", -1.55, 123.50),
    ("73", -5.14, 119.42), ("73", -6.12, 120.46), ("74", -3.97, 122.51), ("74", -5.32, 123.57), ("75", 0.54, 123.06),
    ("76", -2.68, 118.89), ("81", -3.70, 128.18), ("81", -7.98, 131.30), ("81", -5.76, 134.22), ("82", 0.79, 127.38),
    ("82", 2.05, 128.30), ("91", -2.53, 140.72), ("91", -1.18, 136.08), ("92", -0.86, 134.06), ("92", -2.92, 132.30),
    ("93", -8.49, 140.40), ("94", -3.37, 135.50), ("94", -4.55, 136.88), ("95", -4.10, 138.95), ("96", -0.88, 131.25),
    ("96", -1.85, 130.10),
]


@pytest.mark.parametrize("province, lat, lon", PLACES_IN_THEIR_PROVINCE)
def test_known_places_lie_in_their_provinces_box(province: str, lat: float, lon: float) -> None:
    assert km_outside_province(f"{province}.01.01.2001", lat, lon) == 0


@pytest.mark.parametrize("village, lat, lon, far", [
    ("32.01.05.2003", -6.60, 106.80, False),  # Bogor, in Jawa Barat
    ("32.01.05.2003", 3.59, 98.67, True),  # Medan: another province, another island
    ("32.01.05.2003", -7.25, 112.75, True),  # Surabaya: same island, far east
    ("32.01.05.2003", -6.20, 106.85, False),  # Jakarta: just outside Jawa Barat's box, well under FAR_KM
    ("12.71.01.1001", -3.59, 98.67, True),  # Medan with the minus sign where it should not be
    ("53.71.01.1001", -10.16, 123.60, False),  # Kupang
    ("53.71.01.1001", -8.65, 115.22, True),  # Denpasar for a village in NTT
])
def test_a_point_far_outside_the_province_is_a_soft_warning(village: str, lat: float, lon: float, far: bool) -> None:
    raw = {"village_code": village, "head_name": "Budi", "visited_on": "2026-01-02", "consent": True,
           "latitude": lat, "longitude": lon}
    result = validate("households", raw, today=TODAY)
    assert result.ok
    assert [i.code for i in result.warnings if i.field == "latitude"] == (["location_far"] if far else [])
    distance = km_outside_province(village, lat, lon)
    assert distance is not None and (distance > FAR_KM) is far


# -- DATETIME fields ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, stored", [
    ("2026-03-01T08:30:00Z", "2026-03-01T08:30:00Z"),
    ("2026-03-01T15:30:00+07:00", "2026-03-01T08:30:00Z"),  # WIB
    ("2026-03-01T08:30:00.123456Z", "2026-03-01T08:30:00Z"),
    ("2026-03-01T08:30:00", "2026-03-01T08:30:00Z"),  # no offset: the app writes UTC
    (dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC), "2026-03-01T08:30:00Z"),
    (dt.date(2026, 3, 1), "2026-03-01T00:00:00Z"),
])
def test_datetime_fields_are_stored_as_utc(raw: object, stored: str) -> None:
    assert coerce(HOUSEHOLDS.field("interview_started_at"), raw) == stored


@pytest.mark.parametrize("raw", ["kemarin", "2026-13-01T00:00:00Z", "2026-03-01T25:00:00Z", "0001-01-01T00:00:00+01:00",
                                 "2026-03-01T08:30:00Z\x00", 12345])
def test_malformed_times_are_refused(raw: object) -> None:
    spec = HOUSEHOLDS.field("location_at")
    assert spec.kind is Kind.DATETIME
    with pytest.raises(CoerceError):
        coerce(spec, raw)
