"""``validate(..., soft=False)``: the HQ's push keeps only the hard errors and the values, so the
rules skip the work whose only product is a soft warning. It must give exactly what the full
validation gives there (same values, same hard errors in the same order) and no soft warning:
a property over hostile records of every entity, with and without HQ's published soft rules, a
table with one record per soft finding, and negative controls (a hard check or a derived value
put behind the soft guard, a soft warning left unguarded) that the comparison catches."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from desmig_desktop.domain import record_rules
from desmig_desktop.domain.fields import ENTITIES, FieldSpec, Kind
from desmig_desktop.domain.issues import Lookup, Validation
from desmig_desktop.domain.nik import make_nik
from desmig_desktop.domain.programme import village_profile_id
from desmig_desktop.domain.questionnaire import (
    DocumentError,
    Questionnaire,
    SoftRule,
    bundled,
    bundled_document,
    from_document,
    to_document,
)
from desmig_desktop.domain.questionnaire_check import EQUALITY_RULE_KINDS, ORDERED_RULE_KINDS
from desmig_desktop.domain.validation import validate
from tests.unit.test_validation import FakeLookup

TODAY = dt.date(2026, 6, 15)
VILLAGE = "32.01.05.2003"  # FakeLookup's one village (Jawa Barat)


def mismatch(entity: str, raw: Mapping[str, Any], **kw: Any) -> str | None:
    """Why ``validate(..., soft=False)`` is not the hard part of ``validate(...)``, or ``None``."""
    full = validate(entity, raw, **kw)
    hard = validate(entity, raw, soft=False, **kw)
    if hard.values != full.values:
        return f"values differ: {full.values!r} != {hard.values!r}"
    if hard.errors != full.errors:
        return f"hard errors differ: {full.errors!r} != {hard.errors!r}"
    if hard.warnings:
        return f"soft issues with soft=False: {hard.warnings!r}"
    return None


# -- a version 2 with soft rules on every entity, as HQ would publish it --------------------------

def _rule_value(f: FieldSpec) -> Any:
    if f.kind is Kind.DATE:
        return "2024-06-01"
    if f.kind in (Kind.INT, Kind.MONEY, Kind.FLOAT):
        return 10
    if f.kind is Kind.BOOL:
        return True
    if f.kind is Kind.CHOICE:
        return f.choices[0].value
    if f.kind is Kind.COUNTRY:
        return "MY"
    return "12" if f.kind is Kind.DIGITS else "Krajan"


def _soft_rules() -> tuple[SoftRule, ...]:
    """Per comparable field two rules, one of which fails on any answer; per entity, every pair of
    ordered fields of one kind compared."""
    rules: list[SoftRule] = []
    for spec in bundled().entity_specs:
        comparable = [f for f in spec.input_fields if f.kind in ORDERED_RULE_KINDS | EQUALITY_RULE_KINDS]
        for f in comparable:
            ops = ("<", ">=") if f.kind in ORDERED_RULE_KINDS else ("==", "!=")
            rules += [SoftRule(f"{spec.name}.{f.key}.{i}", spec.name, f.key, op, "Periksa.", "Check.",
                               value=_rule_value(f)) for i, op in enumerate(ops)]
        rules += [SoftRule(f"{spec.name}.{a.key}.{b.key}", spec.name, a.key, "<=", "Periksa.", "Check.", other=b.key)
                  for a in comparable for b in comparable
                  if a.key < b.key and a.kind is b.kind and a.kind in ORDERED_RULE_KINDS]
    return tuple(rules)


V2 = from_document(to_document(Questionnaire(2, bundled().entity_specs, _soft_rules())))  # a legal document


def test_the_v2_has_rules_on_every_entity() -> None:
    assert {r.entity for r in V2.rules} == set(ENTITIES)


@pytest.mark.parametrize("key, value", [("hard", True), ("severity", "hard"), ("refuse", True)])
def test_a_published_rule_cannot_be_made_hard(key: str, value: object) -> None:
    """``check_rules`` is skipped whole with soft=False: right only while the document format has
    no way to make a rule refuse (a rule's keys are closed)."""
    rule = {"id": "r1", "entity": "households", "field": "latitude", "op": "<", "value": 0,
            "message": {"id": "x", "en": "x"}, key: value}
    with pytest.raises(DocumentError):
        from_document({**bundled_document(), "version": 2, "rules": [rule]})


# -- hostile records of every entity ----------------------------------------------------------------

_DIGITS = "0123456789"
_JUNK = st.one_of(
    st.none(), st.sampled_from(["", "   ", "\x00", "x" * 5000, "１２３", "NaN", "-0", "1e400", "\ud800", "a\tb"]),
    st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=12),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_DAYS = st.one_of(st.dates(dt.date(1850, 1, 1), dt.date(2040, 12, 31)),
                  st.dates(TODAY - dt.timedelta(days=20 * 366), TODAY + dt.timedelta(days=40)))  # children
_PHONES = st.sampled_from([
    "081234567890", "+62 812-3456-7890", "6281234567", "+60 12 345 6789", "+852 9123 4567",
    "+852 1234 5678",  # the right length but no Hong Kong range: soft
    "+852 1234", "+999 1234567", "+62 1", "0812", "+60 1234 5678 9012 345", "(021) 555-1234"])


def _kk(province: str, middle: str, day: int, month: int, yy: int, serial: str) -> str:
    return f"{province}{middle}{day:02d}{month:02d}{yy:02d}{serial}"


# 16 digits (the field's hard check) with an unknown province, district or regency, an impossible
# or future issue date, a serial 0000: the soft structure findings
_KKS = st.builds(_kk, st.sampled_from(["32", "99", "00", "11"]), st.sampled_from(["0105", "0199", "7101"]),
                 st.integers(0, 45), st.integers(0, 13), st.integers(0, 99),
                 st.sampled_from(["0000", "0001"]) | st.text(_DIGITS, min_size=4, max_size=4))
# 16 digits agreeing or not with the sex and birth date, of a known district or not
_NIKS = st.builds(make_nik, st.sampled_from(["32.01.05", "32.99.99", "99.01.05", "11.01.01"]), st.sampled_from("LP"),
                  st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 9999))


def _plausible(f: FieldSpec) -> st.SearchStrategy[Any]:
    """Answers to ``f`` that pass its own checks (mostly): what a form sends, so the rules across
    fields get to run."""
    k = f.kind
    choices = [c.value for c in f.choices]
    if k in (Kind.CHOICE, Kind.DERIVED):  # a derived one is sent in too: never taken from the client
        return st.sampled_from(choices)
    if k is Kind.MULTI:
        return st.lists(st.sampled_from(choices), max_size=3).map(",".join)
    if k is Kind.NIK:
        return _NIKS
    if k is Kind.KK:
        return _KKS
    if k is Kind.REGION:
        return st.sampled_from([VILLAGE, "11.01.01.2001"])
    if k is Kind.COUNTRY:
        return st.sampled_from(["ID", "MY", "HK", "SA", "TW"])
    if k is Kind.PHONE:
        return _PHONES
    if k is Kind.DIGITS:
        return st.text(_DIGITS, min_size=f.length or 1, max_size=f.length or f.max_length or 10)
    if k is Kind.DATE:
        return _DAYS.filter(lambda d: d.year >= 1900).map(dt.date.isoformat)
    if k is Kind.DATETIME:
        return st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1)).map(lambda m: m.isoformat() + "Z")
    if k is Kind.BOOL:
        return st.booleans()
    if k in (Kind.INT, Kind.MONEY, Kind.FLOAT):  # a point in the village's province or far from it
        low = f.minimum if f.minimum is not None else 0
        high = f.maximum if f.maximum is not None else low + 150 if low >= 1900 else 10**13  # a year, or an amount
        return st.floats(low, high) if k is Kind.FLOAT else st.integers(int(low), int(high))
    if k is Kind.REF:
        return st.uuids().map(str)
    return st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=min(f.max_length or 30, 30))


def _edge(f: FieldSpec) -> st.SearchStrategy[Any]:
    """Answers to ``f`` at or past the edge of its kind: a spreadsheet's or a hostile client's."""
    k = f.kind
    choices = [c.value for c in f.choices]
    if k in (Kind.CHOICE, Kind.DERIVED):
        return st.sampled_from(["tidak_ada", "L ", choices[0].upper(), f" {choices[0]} "])
    if k is Kind.MULTI:
        return st.lists(st.sampled_from([*choices, "zzz"]), max_size=3).flatmap(
            lambda parts: st.sampled_from([parts, " , ".join(parts), ",".join([*parts, "zzz"])]))
    if k is Kind.NIK:
        return st.text(_DIGITS, min_size=14, max_size=17) | st.sampled_from(["3201054012900001", "3201053212900001"])
    if k is Kind.KK:
        return st.text(_DIGITS, min_size=15, max_size=17) | st.text(_DIGITS + "X", min_size=16, max_size=16)
    if k is Kind.REGION:
        return st.sampled_from(["32.01.05.2004", "99.01.01.2001", "3201052003", "32.01.05", " 32.01.05.2003 "])
    if k is Kind.COUNTRY:
        return st.sampled_from(["id", " ID ", "XX", "Malaysia", "my"])
    if k is Kind.PHONE:
        return st.from_regex(r"\A\+?[0-9][0-9 \-]{4,17}\Z")
    if k is Kind.DIGITS:
        return st.text(_DIGITS, max_size=(f.length or 18) + 2) | st.text(_DIGITS + "AB-", max_size=6)
    if k is Kind.DATE:
        return st.sampled_from(["2026-02-30", "31/12/2020", "2026-13-01", "1899-12-31", "15/06/2026", "2040-01-01"]) | _DAYS
    if k is Kind.DATETIME:
        return st.sampled_from(["2026-06-15T10:00:00+07:00", "2026-06-15", "kemarin", "2026-06-15T25:00:00Z"])
    if k is Kind.BOOL:
        return st.sampled_from(["ya", "tidak", "true", "0", "1", 1, 0, 2, "mungkin"])
    if k in (Kind.INT, Kind.MONEY):
        return st.integers(-10**6, 10**17) | st.sampled_from(["1.000.000", "1,5", "Rp 5.000", "2025", 2031, 1.5, 1944])
    if k is Kind.FLOAT:
        return st.floats() | st.sampled_from(["-6,9", "1e400", "NaN", 6.6, -11.6])
    if k is Kind.REF:
        return st.text(max_size=40)
    return st.text(max_size=(f.max_length or 30) + 2) | st.sampled_from(["x" * 5000, "a\x00b", "\ud800"])


def _lookup(villages: frozenset[str], districts: frozenset[str], holder: tuple[str, str] | None,
            assigned: set[str] | None) -> Lookup:
    lookup = FakeLookup(holder)
    lookup.villages, lookup.districts, lookup.assigned = villages, districts, assigned
    return lookup


_LOOKUPS = st.none() | st.builds(
    _lookup, st.sampled_from([frozenset({VILLAGE}), frozenset({VILLAGE, "11.01.01.2001"}), frozenset()]),
    st.sampled_from([frozenset({"32.01.05"}), frozenset({"32.01.05", "11.01.01"}), frozenset()]),
    st.none() | st.just(("m1", "h9")), st.none() | st.just({VILLAGE}))


@st.composite
def cases(draw: st.DrawFn, entity: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(raw record, the other arguments of validate)`` for a record of ``entity``: a form's
    record, one with a few edge answers, or a hostile one (any answer of any type, fields left
    out, unknown keys); a lookup, a parent, an id."""
    spec = ENTITIES[entity]
    mode = draw(st.sampled_from(["form", "edges", "hostile"]))
    raw: dict[str, Any] = {}
    for f in spec.fields:
        if mode == "form" and f.kind is Kind.DERIVED:
            continue
        if (f.required and mode != "hostile") or draw(st.integers(0, 3)) > 0:
            pick = draw(st.integers(0, 9)) if mode == "edges" else 0 if mode == "form" else draw(st.integers(7, 9))
            raw[f.key] = draw(_plausible(f) if pick < 8 else _edge(f) if pick == 8 else _JUNK)
    if entity == "members" and draw(st.booleans()):  # a NIK agreeing with the sex and birth date given
        sex, birth = raw.get("sex"), raw.get("birth_date")
        if sex in ("L", "P") and isinstance(birth, str) and len(birth) == 10 and birth[4] == "-":
            with contextlib.suppress(ValueError):  # an impossible date (2026-02-30) keeps its NIK
                raw["nik"] = make_nik("32.01.05", sex, dt.date.fromisoformat(birth), draw(st.integers(1, 9999)))
    if mode == "hostile" and draw(st.booleans()):
        raw[draw(st.sampled_from(["id", "server_version", "extra", "nama"]) | st.text(max_size=5))] = draw(_JUNK)
    kw: dict[str, Any] = {"lookup": draw(_LOOKUPS), "today": draw(st.just(TODAY) | st.dates(
        dt.date(2020, 1, 1), dt.date(2030, 12, 31)))}
    if spec.parent_key is not None:  # a stored parent: a member with a birth date, a cooperative
        kw["parent"] = draw(st.none() | st.fixed_dictionaries({
            "birth_date": st.none() | _DAYS.map(dt.date.isoformat), "founded_on": st.none() | _DAYS.map(dt.date.isoformat)}))
    ids = [str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))]
    if entity == "village_profiles":
        ids.append(village_profile_id(VILLAGE))
    kw["record_id"] = draw(st.none() | st.sampled_from(ids))
    return raw, kw


@pytest.mark.parametrize("questionnaire", [None, V2], ids=["v1", "v2-soft-rules"])
@pytest.mark.parametrize("entity", sorted(ENTITIES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hard_only_gives_the_values_and_hard_errors_of_the_full_validation(
        entity: str, questionnaire: Questionnaire | None, data: st.DataObject) -> None:
    raw, kw = data.draw(cases(entity))
    assert mismatch(entity, raw, questionnaire=questionnaire, **kw) is None


# -- one record per soft finding, with hard errors beside it -----------------------------------------

_HH = {"village_code": VILLAGE, "head_name": "Budi", "visited_on": "2026-01-02", "consent": True}
_MEMBER = {"household_id": "h1", "name": "Siti", "sex": "P", "relationship": "kepala", "migration_status": "bukan",
           "nik": make_nik("32.01.05", "P", dt.date(1990, 12, 5), 1), "birth_date": "1990-12-05"}
_PLACEMENT = {"member_id": "m1", "country": "MY", "job": "prt"}
_BUSINESS = {"household_id": "h1", "name": "Warung", "kbli_category": "G", "kbli_code": "47111", "status": "aktif"}
_SERVICE = {"village_code": VILLAGE, "served_on": "2026-06-01", "service_type": "informasi", "status": "terbuka"}
_HOLDER = FakeLookup(("m9", "h9"))

TABLE: list[tuple[str, dict[str, Any], dict[str, Any], str, list[str]]] = [
    # entity, record, other arguments, the soft finding, the hard errors that must stay
    ("members", {**_MEMBER, "sex": "L"}, {}, "nik_sex", []),
    ("members", {**_MEMBER, "birth_date": "1991-12-05", "name": ""}, {}, "nik_birth", ["required"]),
    ("members", {**_MEMBER, "nik": make_nik("32.99.99", "P", dt.date(1990, 12, 5), 1)}, {"lookup": FakeLookup()},
     "nik_district", []),
    ("members", _MEMBER, {"lookup": _HOLDER, "record_id": "m1"}, "nik_duplicate", []),
    ("members", {**_MEMBER, "birth_date": "2025-01-01", "nik": None, "education": "s1", "sex": "X"}, {},
     "education_age", ["choice"]),
    ("members", {**_MEMBER, "birth_date": "2015-01-01", "nik": None, "marital_status": "kawin"}, {}, "marital_age", []),
    ("members", {**_MEMBER, "phone": "+852 1234 5678", "birth_date": "2027-01-01"}, {}, "phone_unusual", ["future"]),
    ("households", {**_HH, "kk_number": "9901050101200001", "consent": False}, {}, "kk_province", ["consent"]),
    ("households", {**_HH, "kk_number": "3201053102200001"}, {}, "kk_date", []),
    ("households", {**_HH, "kk_number": "3201050101300001"}, {}, "kk_date_future", []),
    ("households", {**_HH, "kk_number": "3201050101200000", "rt": "1a"}, {}, "kk_serial", ["digits"]),
    ("households", {**_HH, "kk_number": "3299990101200001"}, {"lookup": FakeLookup()}, "kk_district", []),
    ("households", {**_HH, "kk_number": "1101010101200001"}, {}, "kk_regency", []),
    ("households", {**_HH, "latitude": -2.5, "longitude": 140.7, "umkm_class": "mikro"}, {}, "location_far",
     ["unknown_field"]),
    ("placements", {**_PLACEMENT, "country": "ID", "departed_on": "2026-01-10", "returned_on": "2025-01-01"},
     {"parent": {"birth_date": "2010-01-01"}}, "minor_departure", ["country_home", "return_before_departure"]),
    ("businesses", {**_BUSINESS, "kbli_code": "10750", "exporting": True, "export_ready": False, "capital": 5_000_000},
     {}, "exporting_not_ready", ["kbli_mismatch"]),
    ("services", {**_SERVICE, "member_id": "m1", "walk_in_name": "Ani"}, {}, "open_without_follow_up",
     ["walk_in_with_member"]),
    ("cooperative_members", {"cooperative_id": "c1", "member_id": "m1", "role": "anggota", "joined_on": "2019-01-01"},
     {"parent": {"founded_on": "2020-01-01"}}, "joined_before_founded", []),
    ("households", {**_HH, "latitude": 1.5, "longitude": 999}, {"questionnaire": V2}, "rule:households.latitude.1",
     ["max"]),
]


@pytest.mark.parametrize("entity, raw, kw, soft_code, hard_codes", TABLE, ids=[row[3] for row in TABLE])
def test_each_soft_finding_is_skipped_and_the_hard_errors_beside_it_kept(
        entity: str, raw: dict[str, Any], kw: dict[str, Any], soft_code: str, hard_codes: list[str]) -> None:
    full = validate(entity, raw, today=TODAY, **kw)
    assert soft_code in [i.code for i in full.warnings]  # the row reaches the soft rule it is about
    assert [i.code for i in full.errors] == hard_codes
    assert mismatch(entity, raw, today=TODAY, **kw) is None


# -- negative controls: the comparison catches a hard-only mode that is wrong -------------------------

def _placement_hard_part_guarded(v: Validation, *args: Any) -> None:
    if v.wants_soft:  # wrong: the placement's hard checks behind the soft guard
        _ORIGINAL["placements"](v, *args)


def _business_value_guarded(v: Validation, *args: Any) -> None:
    _ORIGINAL["businesses"](v, *args)
    if not v.wants_soft:  # wrong: the derived UMKM class computed only with soft warnings
        v.values["umkm_class"] = v.values["umkm_basis"] = None


def _member_soft_unguarded(v: Validation, *args: Any) -> None:
    _ORIGINAL["members"](v, *args)
    v.soft("nik", "always", "x")  # wrong: a soft warning whatever the caller wants


_ORIGINAL = dict(record_rules.RECORD_RULES)
_PLACEMENT_HOME = {**_PLACEMENT, "country": "ID"}
_BUSINESS_SMALL = {**_BUSINESS, "capital": 5_000_000}


@pytest.mark.parametrize("entity, broken, raw, found", [
    ("placements", _placement_hard_part_guarded, _PLACEMENT_HOME, "hard errors differ"),
    ("businesses", _business_value_guarded, _BUSINESS_SMALL, "values differ"),
    ("members", _member_soft_unguarded, _MEMBER, "soft issues"),
])
def test_the_comparison_catches_a_wrong_hard_only_mode(monkeypatch: pytest.MonkeyPatch, entity: str, broken: Any,
                                                        raw: dict[str, Any], found: str) -> None:
    assert mismatch(entity, raw, today=TODAY) is None
    monkeypatch.setitem(record_rules.RECORD_RULES, entity, broken)
    reason = mismatch(entity, raw, today=TODAY)  # the explicit example
    assert reason is not None and reason.startswith(found)
    # and the property's own generator finds such a record (deterministically)
    example = find(cases(entity), lambda c: mismatch(entity, c[0], **c[1]) is not None,
                   settings=settings(derandomize=True, database=None, max_examples=2000, deadline=None,
                                     suppress_health_check=list(HealthCheck)))
    assert mismatch(entity, example[0], **example[1]) is not None
