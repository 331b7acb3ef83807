"""Issue 14 §4: impossible identity numbers and households are caught (tables over whole domains).

Every DDMMYY of both sexes, every two-digit province code, No. KK structure, heads per
household, education for age, and a placement "abroad" in Indonesia.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.household_checks import EDUCATION_MIN_AGE, household_issues
from desmig_desktop.domain.nik import parse_nik
from desmig_desktop.domain.reference import iter_regions
from desmig_desktop.domain.validation import validate

TODAY = dt.date(2026, 6, 15)
VILLAGE = "32.01.05.2003"
ISSUED_PROVINCES = frozenset(r.code for r in iter_regions() if r.level == 1)


class FakeLookup:
    def village_exists(self, code: str) -> bool:
        return code == VILLAGE

    def district_exists(self, code: str) -> bool:
        return code in ("32.01.05", "32.04.01")

    def village_assigned(self, code: str) -> bool:
        return True

    def nik_holder(self, nik: str, exclude_member_id: str | None) -> tuple[str, str] | None:
        return None


def _real(day: int, month: int, yy: int) -> bool:
    """Ground truth, independent of the code under test: a real date in 19YY or in 20YY."""
    return any(1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1] for year in (1900 + yy, 2000 + yy))


def _nik(day_part: int, month: int, yy: int, province: str = "32", serial: str = "0001") -> str:
    return f"{province}0105{day_part:02d}{month:02d}{yy:02d}{serial}"


# -- NIK: every calendar date, both sexes ---------------------------------------------------------
def test_every_ddmmyy_of_both_sexes_is_accepted_exactly_when_it_is_a_real_date() -> None:
    wrong = []
    for day, month, yy in itertools.product(range(1, 32), range(1, 13), range(100)):
        for sex, offset in (("L", 0), ("P", 40)):
            parts, error = parse_nik(_nik(day + offset, month, yy))
            if (error is None) != _real(day, month, yy):
                wrong.append((day, month, yy, sex, error))
            elif parts is not None:
                assert (parts.day, parts.month, parts.year2, parts.sex) == (day, month, yy, sex)
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("day, month, yy", [(30, 2, 90), (31, 4, 85), (29, 2, 1), (31, 6, 0), (31, 9, 99),
                                            (31, 11, 50), (29, 2, 99)])
def test_impossible_birth_dates_are_hard_errors_naming_the_date_part(day: int, month: int, yy: int) -> None:
    for offset in (0, 40):
        result = validate("members", {"household_id": "h1", "name": "Siti", "sex": "L" if offset == 0 else "P",
                                      "relationship": "kepala", "migration_status": "bukan",
                                      "nik": _nik(day + offset, month, yy)}, today=TODAY)
        [error] = result.errors
        assert error.field == "nik" and "digit 7–12" in error.message
        assert _nik(day + offset, month, yy) not in error.message  # never the NIK value itself


@pytest.mark.parametrize("yy", [0, 4, 96, 20, 24])
def test_29_february_is_valid_in_a_year_leap_in_either_century(yy: int) -> None:
    assert parse_nik(_nik(29, 2, yy))[1] is None and parse_nik(_nik(69, 2, yy))[1] is None


# -- NIK: every province code ---------------------------------------------------------------------
def test_the_issued_provinces_are_the_38_of_the_region_table() -> None:
    assert len(ISSUED_PROVINCES) == 38 and {"11", "32", "96"} <= ISSUED_PROVINCES
    assert not {"00", "10", "20", "54", "99"} & ISSUED_PROVINCES


@pytest.mark.parametrize("province", [f"{n:02d}" for n in range(100)])
def test_every_two_digit_province_code(province: str) -> None:
    parts, error = parse_nik(_nik(5, 12, 90, province=province))
    if province in ISSUED_PROVINCES:
        assert error is None and parts is not None and parts.district.startswith(province + ".")
    else:
        assert parts is None and error is not None and "provinsi" in error


def test_unknown_district_in_a_real_province_is_soft_and_mentions_a_regional_split() -> None:
    result = validate("members", {"household_id": "h1", "name": "Siti", "sex": "P", "relationship": "kepala",
                                  "migration_status": "bukan", "nik": "3299054512900001", "birth_date": "1990-12-05"},
                      lookup=FakeLookup(), today=TODAY)
    assert result.ok
    [warning] = result.warnings
    assert warning.code == "nik_district" and "pemekaran" in warning.message


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_any_16_digits_are_accepted_only_if_every_part_is_possible(nik: str) -> None:
    parts, error = parse_nik(nik)
    raw_day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    day = raw_day - 40 if raw_day > 40 else raw_day
    possible = (nik[:2] in ISSUED_PROVINCES and (1 <= raw_day <= 31 or 41 <= raw_day <= 71)
                and _real(day, month, yy) and nik[12:] != "0000")
    assert (error is None) == possible and (parts is not None) == possible


# -- No. KK ----------------------------------------------------------------------------------------
def household(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"village_code": VILLAGE, "head_name": "Budi", "visited_on": "2026-01-02",
                               "consent": True, "kk_number": "3201050101200001"}
    base.update(over)
    return base


@pytest.mark.parametrize("kk, expected", [
    ("3201050101200001", set()),  # 1 January 2020, serial 0001, district 32.01.05 in the village's regency
    ("9901050101200001", {"kk_province"}),  # province 99 never issued (district and regency not repeated)
    ("1001050101200001", {"kk_province"}),
    ("3201053002200001", {"kk_date"}),  # 30 February
    ("3201053104200001", {"kk_date"}),  # 31 April
    ("3201052902210001", {"kk_date"}),  # 29 February 2021
    ("3201052902240001", set()),  # 29 February 2024
    ("3201054101200001", {"kk_date"}),  # day 41: a No. KK has no "+40" for women
    ("3201050101300001", {"kk_date_future"}),  # 1 January 2030, after TODAY
    ("3201051506260001", set()),  # issued TODAY
    ("3201051606260001", {"kk_date_future"}),  # the day after TODAY
    ("3201050101200000", {"kk_serial"}),
    ("3201990101200001", {"kk_district"}),  # unknown district of the village's own regency
    ("3299050101200001", {"kk_district", "kk_regency"}),  # unknown regency of a real province
    ("3204010101200001", {"kk_regency"}),  # a real district of another regency
    ("3504010101200001", {"kk_district", "kk_regency"}),
    ("3201053002200000", {"kk_date", "kk_serial"}),
])
def test_kk_structure_is_checked_with_soft_warnings(kk: str, expected: set[str]) -> None:
    result = validate("households", household(kk_number=kk), lookup=FakeLookup(), today=TODAY)
    assert result.ok  # never refused: the card in the officer's hand decides
    assert {i.code for i in result.warnings} == expected
    assert all(i.field == "kk_number" and kk not in i.message for i in result.warnings)


@pytest.mark.parametrize("kk", ["320105010120000", "32010501012000012", "320105010120000X"])
def test_kk_of_the_wrong_length_is_still_hard_and_skips_structure_checks(kk: str) -> None:
    result = validate("households", household(kk_number=kk), lookup=FakeLookup(), today=TODAY)
    assert [i.code for i in result.issues] == ["kk"]


# -- placements --------------------------------------------------------------------------------------
@pytest.mark.parametrize("country, ok", [("ID", False), ("id", False), (" ID ", False), ("MY", True), ("HK", True)])
def test_a_placement_abroad_cannot_be_in_indonesia(country: str, ok: bool) -> None:
    result = validate("placements", {"member_id": "m1", "country": country, "job": "prt"}, today=TODAY)
    assert result.ok is ok
    if not ok:
        assert [(i.field, i.code) for i in result.errors] == [("country", "country_home")]


# -- heads of household ------------------------------------------------------------------------------
@pytest.mark.parametrize("relationships, expected", [
    ([], [("households", "h1", "head_name", "no_members")]),  # a household of nobody (issue 20 §6)
    (["anak"], [("households", "h1", "head_name", "no_head")]),
    (["suami_istri", "anak", "cucu"], [("households", "h1", "head_name", "no_head")]),
    (["kepala"], []),
    (["kepala", "suami_istri", "anak"], []),
    (["kepala", "kepala"], [("members", "m0", "relationship", "several_heads"),
                            ("members", "m1", "relationship", "several_heads")]),
    (["anak", "kepala", "kepala", "kepala"], [("members", f"m{i}", "relationship", "several_heads")
                                              for i in (1, 2, 3)]),
])
def test_exactly_one_head_per_household(relationships: list[str], expected: list[tuple[str, ...]]) -> None:
    members = [{"id": f"m{i}", "relationship": r} for i, r in enumerate(relationships)]
    found = household_issues("h1", members)
    assert [(g.entity, g.record_id, g.field, g.code) for g in found] == expected


# -- education for age --------------------------------------------------------------------------------
def _member(education: str, birth: dt.date) -> dict[str, object]:
    return {"household_id": "h1", "name": "Ani", "sex": "P", "relationship": "anak", "migration_status": "bukan",
            "education": education, "birth_date": birth.isoformat()}


def _born_years_ago(years: int) -> dt.date:
    return TODAY.replace(year=TODAY.year - years)


@pytest.mark.parametrize("education, minimum", sorted(EDUCATION_MIN_AGE.items()))
def test_education_table_every_level_at_every_age(education: str, minimum: int) -> None:
    for age in range(40):
        for birth in (_born_years_ago(age), _born_years_ago(age + 1) + dt.timedelta(days=1)):  # both ends of an age
            result = validate("members", _member(education, birth), today=TODAY)
            assert result.ok
            warned = [i for i in result.warnings if i.code == "education_age"]
            assert bool(warned) == (age < minimum), (education, age, birth)
            if warned:
                assert warned[0].field == "education" and f"{age} tahun" in warned[0].message


def test_education_table_is_plausible() -> None:
    order = ["tidak_sekolah", "sd", "smp", "sma", "diploma", "s1", "s2_s3"]
    ages = [EDUCATION_MIN_AGE[level] for level in order]
    assert ages == sorted(ages) and EDUCATION_MIN_AGE["tidak_sekolah"] == 0
    assert EDUCATION_MIN_AGE["sd"] == 5  # a 1-year-old with SD is warned (issue 14 §4)


def test_a_one_year_old_with_primary_school_is_warned() -> None:
    result = validate("members", _member("sd", dt.date(2025, 3, 1)), today=TODAY)
    assert result.ok and [i.code for i in result.warnings] == ["education_age"]


def test_no_education_warning_without_a_birth_date() -> None:
    member = _member("s2_s3", TODAY)
    del member["birth_date"]
    assert validate("members", member, today=TODAY).issues == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_any_16_digit_kk_is_saved_with_exactly_the_warnings_its_parts_deserve(kk: str) -> None:
    result = validate("households", household(kk_number=kk), lookup=FakeLookup(), today=TODAY)
    assert result.ok  # a No. KK is never refused for its structure
    day, month, yy = int(kk[6:8]), int(kk[8:10]), int(kk[10:12])
    real = 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2000 + yy, month)[1]
    expected = set()
    if kk[:2] not in ISSUED_PROVINCES:
        expected.add("kk_province")
    if not real:
        expected.add("kk_date")
    elif dt.date(2000 + yy, month, day) > TODAY:
        expected.add("kk_date_future")
    if kk[12:] == "0000":
        expected.add("kk_serial")
    if kk[:2] in ISSUED_PROVINCES:
        if f"{kk[0:2]}.{kk[2:4]}.{kk[4:6]}" not in ("32.01.05", "32.04.01"):
            expected.add("kk_district")
        if kk[:4] != "3201":
            expected.add("kk_regency")
    assert {i.code for i in result.warnings} == expected
