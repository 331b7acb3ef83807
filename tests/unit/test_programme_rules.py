"""The programme records' own rules (issue 15): who a service is for, follow-up dates, one profile
per village, and which members are children of PMI — tables of hostile inputs and properties."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.fields import ENTITIES, MIGRATION_STATUS, RELATIONSHIP
from desmig_desktop.domain.programme import children_of_pmi, side_references, village_profile_id
from desmig_desktop.domain.validation import validate

TODAY = dt.date(2024, 6, 1)
V1 = "32.01.01.1001"


def _service(**over: Any) -> dict[str, Any]:
    return {"village_code": V1, "served_on": "2024-05-02", "service_type": "pengaduan", "case_kind": "gaji",
            "status": "selesai", **over}


def _codes(entity: str, raw: dict[str, Any], **kw: Any) -> set[tuple[str, str, bool]]:
    result = validate(entity, raw, today=TODAY, **kw)
    return {(i.field, i.code, i.hard) for i in result.issues}


@pytest.mark.parametrize("over, expected", [
    # neither a member nor a walk-in: refused, whatever else is given
    ({}, {("walk_in_name", "person_required", True)}),
    ({"walk_in_sex": "P", "walk_in_age_band": "25_34"}, {("walk_in_name", "person_required", True)}),
    ({"walk_in_name": "   "}, {("walk_in_name", "person_required", True)}),  # blank is empty
    ({"member_id": ""}, {("walk_in_name", "person_required", True)}),
    # one of them: fine
    ({"walk_in_name": "Rina"}, set()),
    ({"member_id": "m1"}, set()),
    # both: each walk-in field given is refused
    ({"member_id": "m1", "walk_in_name": "Rina"}, {("walk_in_name", "walk_in_with_member", True)}),
    ({"member_id": "m1", "walk_in_sex": "L", "walk_in_age_band": "lt18"},
     {("walk_in_sex", "walk_in_with_member", True), ("walk_in_age_band", "walk_in_with_member", True)}),
    ({"member_id": "m1", "walk_in_nik": "3201014101900001"}, {("walk_in_nik", "walk_in_with_member", True)}),
    # follow-up: not before the service (planned dates may lie ahead, within two years)
    ({"walk_in_name": "Rina", "follow_up_on": "2024-05-01"}, {("follow_up_on", "follow_up_before", True)}),
    ({"walk_in_name": "Rina", "follow_up_on": "2024-05-02"}, set()),
    ({"walk_in_name": "Rina", "follow_up_on": "2025-01-10"}, set()),
    ({"walk_in_name": "Rina", "follow_up_on": "2027-01-10"}, {("follow_up_on", "too_far", True)}),
    ({"walk_in_name": "Rina", "served_on": "2024-07-01"}, {("served_on", "future", True)}),
    ({"walk_in_name": "Rina", "follow_up_on": "1899-12-31"}, {("follow_up_on", "too_old", True)}),
    # a wrong service date is told once, not again as a follow-up before it
    ({"walk_in_name": "Rina", "served_on": "2024-13-01", "follow_up_on": "2024-05-01"},
     {("served_on", "format", True)}),
    # open cases without a follow-up date: a warning, not a refusal
    ({"walk_in_name": "Rina", "status": "terbuka"}, {("follow_up_on", "open_without_follow_up", False)}),
    ({"walk_in_name": "Rina", "status": "ditindaklanjuti"}, {("follow_up_on", "open_without_follow_up", False)}),
    ({"walk_in_name": "Rina", "status": "terbuka", "follow_up_on": "2024-06-10"}, set()),
    ({"walk_in_name": "Rina", "status": "tutup"}, {("status", "choice", True)}),
])
def test_service_rules(over: dict[str, Any], expected: set[tuple[str, str, bool]]) -> None:
    assert _codes("services", _service(**over)) == expected


def test_the_messages_are_in_bahasa_indonesia_and_name_no_value() -> None:
    result = validate("services", _service(member_id="m1", walk_in_name="Rina Wati"), today=TODAY)
    [issue] = result.errors
    assert "anggota" in issue.message and "Rina" not in issue.message


@pytest.mark.parametrize("held_on, follow_up_on, refused", [
    ("2024-05-05", "2024-05-04", True), ("2024-05-05", "2024-05-05", False), ("2024-05-05", "2026-01-01", False),
    ("2024-05-05", None, False),
])
def test_an_activity_follow_up_is_not_before_it(held_on: str, follow_up_on: str | None, refused: bool) -> None:
    raw = {"village_code": V1, "held_on": held_on, "activity_kind": "sosialisasi", "partners": "pemdes",
           "topic": "Migrasi aman", "follow_up_on": follow_up_on}
    assert (("follow_up_on", "follow_up_before", True) in _codes("officer_activities", raw)) is refused


@given(st.text(min_size=1, max_size=20))
def test_a_profile_id_is_one_per_village_and_stable(code: str) -> None:
    assert village_profile_id(code) == village_profile_id(code) == village_profile_id(f" {code} ".strip())
    assert uuid.UUID(village_profile_id(code)).version == 5


def test_two_villages_never_share_a_profile_id() -> None:
    codes = [f"32.01.{d:02d}.{v:04d}" for d in range(1, 30) for v in range(1000, 1040)]
    assert len({village_profile_id(c) for c in codes}) == len(codes)


@pytest.mark.parametrize("record_id, refused", [
    (village_profile_id(V1), False),
    (village_profile_id("32.01.01.1002"), True),  # another village's
    ("0190f5a0-0000-7000-8000-000000000000", True),  # a random (v7) id: a second profile
    (village_profile_id(V1).upper(), True),
    (None, False),  # not asked (a form before the id is made)
])
def test_a_profile_has_its_villages_id(record_id: str | None, refused: bool) -> None:
    raw = {"village_code": V1, "joined_year": 2018, "status": "aktif"}
    assert (("village_code", "profile_id", True) in _codes("village_profiles", raw, record_id=record_id)) is refused


@pytest.mark.parametrize("year, refused", [(2015, True), (2016, False), (2024, False), (2025, True)])
def test_the_year_joined(year: int, refused: bool) -> None:
    raw = {"village_code": V1, "joined_year": year, "status": "aktif"}
    assert bool(validate("village_profiles", raw, today=TODAY).errors) is refused


def test_side_references_are_read_from_the_specs() -> None:
    assert {e: side_references(e) for e in ENTITIES if side_references(e)} == {
        "businesses": (("owner_member_id", "members"),),
        "services": (("member_id", "members"),),
        "parenting_attendance": (("member_id", "members"),),
        "cooperative_members": (("member_id", "members"),),
        "cooperative_businesses": (("business_id", "businesses"),),
    }


# -- children of PMI --------------------------------------------------------------------------

def _m(mid: str, rel: str, status: str = "bukan", birth: Any = None, hh: str = "h1", **over: Any) -> dict[str, Any]:
    return {"id": mid, "household_id": hh, "relationship": rel, "migration_status": status, "birth_date": birth,
            **over}


@pytest.mark.parametrize("members, expected", [
    # the head abroad: the head's children
    ([_m("a", "kepala", "pmi_aktif"), _m("b", "anak", birth="2015-01-01"), _m("c", "suami_istri")], ["b"]),
    # the spouse abroad: the same
    ([_m("a", "kepala"), _m("b", "suami_istri", "pmi_aktif"), _m("c", "anak"), _m("d", "cucu")], ["c"]),
    # a child of the head abroad: the grandchildren, not the siblings
    ([_m("a", "kepala"), _m("b", "anak", "pmi_aktif"), _m("c", "anak", birth="2012-02-02"),
      _m("d", "cucu", birth="2019-01-01")], ["d"]),
    ([_m("a", "kepala"), _m("b", "menantu", "pmi_aktif"), _m("d", "cucu")], ["d"]),
    # returned, prospective or no PMI: nobody
    ([_m("a", "kepala", "pmi_purna"), _m("b", "anak")], []),
    ([_m("a", "kepala", "calon_pmi"), _m("b", "anak")], []),
    ([_m("a", "kepala"), _m("b", "anak")], []),
    # a PMI whose children the relationships cannot name
    ([_m("a", "orang_tua", "pmi_aktif"), _m("b", "anak"), _m("c", "cucu")], []),
    ([_m("a", "famili_lain", "pmi_aktif"), _m("b", "anak")], []),
    # age on the date: 18 and over, or not born yet, is not a child; unknown age counts
    ([_m("a", "kepala", "pmi_aktif"), _m("b", "anak", birth="2006-06-01"), _m("c", "anak", birth="2006-06-02"),
      _m("d", "anak", birth="2024-06-02"), _m("e", "anak"), _m("f", "anak", birth="bukan tanggal")],
     ["c", "e", "f"]),
    # a child who is abroad themself is not left behind
    ([_m("a", "kepala", "pmi_aktif"), _m("b", "anak", "pmi_aktif", birth="2008-01-01")], []),
    # deleted members count neither as PMI nor as children
    ([_m("a", "kepala", "pmi_aktif", deleted=1), _m("b", "anak")], []),
    ([_m("a", "kepala", "pmi_aktif"), _m("b", "anak", deleted=True)], []),
    # another household's PMI is not this child's parent
    ([_m("a", "kepala", "pmi_aktif", hh="h1"), _m("b", "anak", hh="h2")], []),
    # odd rows: missing keys, a date object, unknown relationship
    ([{"id": "a", "household_id": "h1", "relationship": "kepala", "migration_status": "pmi_aktif"},
      {"id": "b", "household_id": "h1", "relationship": "anak", "birth_date": dt.date(2010, 1, 1)},
      {"id": "c", "household_id": "h1", "relationship": None}, {"id": "d", "household_id": "h1"}], ["b"]),
    ([], []),
])
def test_children_of_pmi(members: list[dict[str, Any]], expected: list[str]) -> None:
    assert children_of_pmi(members, TODAY) == expected


_ROW = st.fixed_dictionaries({
    "id": st.uuids().map(str),
    "household_id": st.sampled_from(["h1", "h2", "h3"]),
    "relationship": st.sampled_from([c.value for c in RELATIONSHIP] + [None]),
    "migration_status": st.sampled_from([c.value for c in MIGRATION_STATUS]),
    "birth_date": st.one_of(st.none(), st.dates(dt.date(1950, 1, 1), dt.date(2030, 1, 1)).map(str)),
    "deleted": st.sampled_from([0, 1]),
})


@settings(max_examples=200, deadline=None)
@given(st.lists(_ROW, max_size=12), st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)))
def test_children_of_pmi_properties(members: list[dict[str, Any]], on: dt.date) -> None:
    found = children_of_pmi(members, on)
    by_id = {m["id"]: m for m in members}
    assert found == sorted(set(found))
    for mid in found:
        m = by_id[mid]
        assert not m["deleted"] and m["migration_status"] != "pmi_aktif" and m["relationship"] in ("anak", "cucu")
        assert any(p["household_id"] == m["household_id"] and p["migration_status"] == "pmi_aktif"
                   and not p["deleted"] for p in members)
        if m["birth_date"]:
            birth = dt.date.fromisoformat(m["birth_date"])
            assert birth <= on and (on.year - birth.year) <= 18
    # a household's answer does not depend on the other households, nor on the rows' order
    for hh in ("h1", "h2", "h3"):
        own = [m for m in members if m["household_id"] == hh]
        assert children_of_pmi(own, on) == [mid for mid in found if by_id[mid]["household_id"] == hh]
    assert children_of_pmi(list(reversed(members)), on) == found
