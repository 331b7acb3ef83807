"""Validation tables for the questionnaire rules of DESIGN §3."""

from __future__ import annotations

import datetime as dt

import pytest

from desmig_desktop.domain import umkm
from desmig_desktop.domain.coercion import coerce, parse_money
from desmig_desktop.domain.fields import ENTITIES, Kind
from desmig_desktop.domain.i18n import _, set_language
from desmig_desktop.domain.nik import make_nik, parse_nik
from desmig_desktop.domain.validation import validate

TODAY = dt.date(2026, 6, 15)


class FakeLookup:
    villages = frozenset({"32.01.05.2003"})
    districts = frozenset({"32.01.05"})
    assigned: set[str] | None = None

    def __init__(self, holder: tuple[str, str] | None = None) -> None:
        self.holder = holder

    def village_exists(self, code: str) -> bool:
        return code in self.villages

    def district_exists(self, code: str) -> bool:
        return code in self.districts

    def village_assigned(self, code: str) -> bool:
        return self.assigned is None or code in self.assigned

    def nik_holder(self, nik: str, exclude_member_id: str | None) -> tuple[str, str] | None:
        return self.holder


def member(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"household_id": "h1", "name": "Siti Aminah", "sex": "P", "relationship": "kepala",
                               "migration_status": "pmi_purna", "nik": "3201054512900001", "birth_date": "1990-12-05"}
    base.update(over)
    return base


def codes(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {i.code for i in result.issues}


@pytest.mark.parametrize("nik", [
    "3201050512900001",  # man, day 05
    "3201054512900001",  # woman, day 05 + 40
    "3201057112900001",  # woman, day 31 + 40
    "3201053112909999",  # day 31, serial 9999
])
def test_valid_niks(nik: str) -> None:
    parts, error = parse_nik(nik)
    assert error is None and parts is not None
    assert parts.district == "32.01.05"


@pytest.mark.parametrize("nik, fragment", [
    ("320105051290000", "16 digit"),  # 15 digits
    ("32010505129000011", "16 digit"),  # 17 digits
    ("32010505129A0001", "16 digit"),  # a letter
    ("３２０１０５０５１２９００００１", "16 digit"),  # full-width digits are not ASCII
    ("3201050512900000", "0000"),  # serial 0000
    ("3201053212900001", "01–31"),  # day 32
    ("3201054012900001", "01–31"),  # day 40 (neither man nor woman)
    ("3201057212900001", "01–31"),  # day 72
    ("3201050500900001", "Bulan"),  # month 00
    ("3201050513900001", "Bulan"),  # month 13
])
def test_invalid_niks(nik: str, fragment: str) -> None:
    parts, error = parse_nik(nik)
    assert parts is None and error is not None and fragment in error


def test_nik_sex_and_birth_mismatch_are_soft() -> None:
    result = validate("members", member(sex="L", birth_date="1990-12-06"), lookup=FakeLookup(), today=TODAY)
    assert result.ok
    assert {"nik_sex", "nik_birth"} <= codes(result)


def test_unknown_district_prefix_is_soft() -> None:
    result = validate("members", member(nik="3299054512900001"), lookup=FakeLookup(), today=TODAY)
    assert result.ok and "nik_district" in codes(result)


def test_duplicate_nik_is_soft_and_names_the_household() -> None:
    result = validate("members", member(), lookup=FakeLookup(holder=("m9", "h9")), today=TODAY)
    assert result.ok
    dup = [i for i in result.warnings if i.code == "nik_duplicate"]
    assert dup and dup[0].ref == "h9"


def test_consistent_member_has_no_issues() -> None:
    result = validate("members", member(), lookup=FakeLookup(), today=TODAY)
    assert result.issues == []


@pytest.mark.parametrize("kk, ok", [
    ("3201050101200001", True), ("320105010120000", False), ("32010501012000012", False), ("320105010120000X", False),
])
def test_kk_number(kk: str, ok: bool) -> None:
    result = validate("households", {"village_code": "32.01.05.2003", "head_name": "Budi", "visited_on": "2026-01-02",
                                     "consent": True, "kk_number": kk}, lookup=FakeLookup(), today=TODAY)
    assert result.ok is ok


@pytest.mark.parametrize("code, error", [
    ("32.01.05.2003", None),
    ("3201052003", "region_format"),  # BPS-style undotted 10 digits
    ("3201050003", "region_format"),  # BPS village code shape
    ("32.01.05.003", "region_format"),  # BPS 3-digit village part
    ("32.01.05", "region_format"),  # a district, not a village
    ("32.01.05.2999", "region_unknown"),  # well-formed but not in the table
])
def test_region_codes(code: str, error: str | None) -> None:
    result = validate("households", {"village_code": code, "head_name": "Budi", "visited_on": "2026-01-02",
                                     "consent": True}, lookup=FakeLookup(), today=TODAY)
    assert ({i.code for i in result.errors} == ({error} if error else set()))


@pytest.mark.parametrize("assigned, error", [
    (None, None),  # nothing restricts (HQ, or no villages set up)
    ({"32.01.05.2003"}, None),
    ({"32.01.05.2004", "33.01.01.2001"}, "region_scope"),  # a real village, not the officer's
    (set(), "region_scope"),
])
def test_village_outside_the_officers_villages(assigned: set[str] | None, error: str | None) -> None:
    lookup = FakeLookup()
    lookup.assigned = assigned
    result = validate("households", {"village_code": "32.01.05.2003", "head_name": "Budi",
                                     "visited_on": "2026-01-02", "consent": True}, lookup=lookup, today=TODAY)
    assert [(i.field, i.code) for i in result.errors] == ([("village_code", error)] if error else [])
    if error:
        assert result.errors[0].message == "Di luar desa tugas Anda."  # names the rule, not the code


def test_dates_not_in_future_and_return_after_departure() -> None:
    future = validate("households", {"village_code": "32.01.05.2003", "head_name": "B", "visited_on": "2026-06-16",
                                     "consent": True}, today=TODAY)
    assert "future" in codes(future)
    today_ok = validate("households", {"village_code": "32.01.05.2003", "head_name": "B", "visited_on": "15/06/2026",
                                       "consent": True}, today=TODAY)
    assert today_ok.ok and today_ok.values["visited_on"] == "2026-06-15"
    placement = {"member_id": "m1", "country": "HK", "job": "prt"}
    backwards = validate("placements", {**placement, "departed_on": "2020-05-01", "returned_on": "2020-04-30"},
                         today=TODAY)
    assert [i.code for i in backwards.errors] == ["return_before_departure"]
    same_day = validate("placements", {**placement, "departed_on": "2020-05-01", "returned_on": "2020-05-01"},
                        today=TODAY)
    assert same_day.ok


def test_departure_under_18_is_soft() -> None:
    result = validate("placements", {"member_id": "m1", "country": "TW", "job": "pabrik", "departed_on": "2007-12-04"},
                      parent={"birth_date": "1990-12-05"}, today=TODAY)
    assert result.ok and [i.code for i in result.warnings] == ["minor_departure"]
    adult = validate("placements", {"member_id": "m1", "country": "TW", "job": "pabrik", "departed_on": "2008-12-05"},
                     parent={"birth_date": "1990-12-05"}, today=TODAY)
    assert adult.issues == []


@pytest.mark.parametrize("raw, value", [
    ("1500000", 1_500_000), ("Rp 1.500.000", 1_500_000), ("1.500.000", 1_500_000), (0, 0), (2_000_000, 2_000_000),
])
def test_money_parsing(raw: object, value: int) -> None:
    assert parse_money(raw) == value


@pytest.mark.parametrize("raw", ["-5", "1,5", "satu juta", 1.5, True])
def test_money_refused(raw: object) -> None:
    result = validate("businesses", {"household_id": "h", "name": "W", "kbli_category": "G", "status": "aktif",
                                     "capital": raw}, today=TODAY)
    assert any(i.field == "capital" for i in result.errors)


M = umkm.MILIAR


@pytest.mark.parametrize("capital, sales, expected", [
    (1 * M, None, ("mikro", "modal")),
    (1 * M + 1, None, ("kecil", "modal")),
    (5 * M, None, ("kecil", "modal")),
    (5 * M + 1, None, ("menengah", "modal")),
    (10 * M, None, ("menengah", "modal")),
    (10 * M + 1, None, ("besar", "modal")),
    (None, 2 * M, ("mikro", "omzet")),
    (None, 2 * M + 1, ("kecil", "omzet")),
    (None, 15 * M, ("kecil", "omzet")),
    (None, 15 * M + 1, ("menengah", "omzet")),
    (None, 50 * M, ("menengah", "omzet")),
    (None, 50 * M + 1, ("besar", "omzet")),
    (0, 0, ("mikro", "modal")),
    (1 * M, 2 * M + 1, ("kecil", "omzet")),  # sales decide when they give the higher class
    (5 * M + 1, 2 * M, ("menengah", "modal")),
    (None, None, (None, None)),
])
def test_umkm_thresholds(capital: int | None, sales: int | None, expected: tuple[str | None, str | None]) -> None:
    assert umkm.classify(capital, sales) == expected


def test_business_derives_umkm_and_checks_kbli_code() -> None:
    base = {"household_id": "h", "name": "Keripik", "kbli_category": "C", "status": "aktif",
            "capital": "Rp 50.000.000", "annual_turnover": 3 * M}
    result = validate("businesses", {**base, "kbli_code": "10710"}, today=TODAY)
    assert result.ok and (result.values["umkm_class"], result.values["umkm_basis"]) == ("kecil", "omzet")
    wrong = validate("businesses", {**base, "kbli_code": "47111"}, today=TODAY)
    assert [i.code for i in wrong.errors] == ["kbli_mismatch"]
    short = validate("businesses", {**base, "kbli_code": "1071"}, today=TODAY)
    assert [i.code for i in short.errors] == ["length"]


def test_required_unknown_and_choice_errors() -> None:
    result = validate("members", {"household_id": "h", "sex": "X", "colour": "blue"}, today=TODAY)
    assert {(i.field, i.code) for i in result.errors} >= {
        ("name", "required"), ("relationship", "required"), ("migration_status", "required"),
        ("sex", "choice"), ("colour", "unknown_field")}


def test_irrelevant_answers_are_dropped() -> None:
    result = validate("placements", {"member_id": "m", "country": "hk", "job": "prt", "had_problem": "tidak",
                                     "problem_kind": "gaji", "scheme": "mandiri", "agency_name": "PT X"}, today=TODAY)
    assert result.ok
    assert result.values["problem_kind"] is None and result.values["agency_name"] is None
    assert result.values["country"] == "HK" and result.values["had_problem"] is False


def test_consent_must_be_given() -> None:
    result = validate("households", {"village_code": "32.01.05.2003", "head_name": "B", "visited_on": "2026-01-02",
                                     "consent": False}, today=TODAY)
    assert [i.code for i in result.errors] == ["consent"]


@pytest.mark.parametrize("phone, ok", [("081234567890", True), ("+62 812-3456-7890", True), ("6281234567", True),
                                       ("12345", False), ("0812abc", False)])
def test_phone(phone: str, ok: bool) -> None:
    result = validate("households", {"village_code": "32.01.05.2003", "head_name": "B", "visited_on": "2026-01-02",
                                     "consent": True, "phone": phone}, today=TODAY)
    assert result.ok is ok


def test_make_nik_round_trips() -> None:
    nik = make_nik("32.01.05", "P", dt.date(1990, 12, 5), 7)
    parts, error = parse_nik(nik)
    assert error is None and parts is not None
    assert (parts.sex, parts.day, parts.month, parts.year2, parts.serial) == ("P", 5, 12, 90, "0007")


def test_messages_translate_to_english() -> None:
    try:
        set_language("en")
        assert _("Wajib diisi.") == "Required."
        assert validate("members", {}, today=TODAY).errors[0].message.isascii()
    finally:
        set_language("id")


def test_every_spec_is_well_formed() -> None:
    for spec in ENTITIES.values():
        assert len(set(spec.keys)) == len(spec.keys)
        for f in spec.fields:
            assert f.label_id and f.label_en
            if f.kind in (Kind.CHOICE, Kind.MULTI):
                assert f.choices, f.key
            if f.relevant is not None and not f.relevant.of_parent:
                assert spec.has(f.relevant.field)
        if spec.parent_key:
            assert spec.field(spec.parent_key).kind is Kind.REF


def test_coerce_booleans() -> None:
    spec = ENTITIES["businesses"].field("export_ready")
    assert [coerce(spec, v) for v in ("ya", "Tidak", 1, 0, True, "")] == [True, False, True, False, True, None]


@pytest.mark.parametrize("field, value", [("latitude", float("nan")), ("longitude", "inf"), ("latitude", "-inf"),
                                          ("head_name", "Budi\x00"), ("address", "Jl.\x1bMawar")])
def test_non_finite_numbers_and_control_characters_are_refused(field: str, value: object) -> None:
    result = validate("households", {"village_code": "32.01.05.2003", "head_name": "Budi", "visited_on": "2026-01-02",
                                     "consent": True, field: value}, today=TODAY)
    assert [i.field for i in result.errors] == [field]


def test_long_text_keeps_newlines_and_tabs() -> None:
    result = validate("households", {"village_code": "32.01.05.2003", "head_name": "Budi", "visited_on": "2026-01-02",
                                     "consent": True, "notes": "baris 1\n\tbaris 2"}, today=TODAY)
    assert result.ok and result.values["notes"] == "baris 1\n\tbaris 2"
