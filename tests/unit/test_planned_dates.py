"""Planned dates (``FieldSpec.planned``): a follow-up may lie ahead, up to a horizon; every other
date of the questionnaire still may not lie after today. Tested over every date field of every
entity (the class), and as a property of the date and the field."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desmig_desktop.domain.field_rules import PLANNING_HORIZON_DAYS, check_field
from desmig_desktop.domain.fields import ENTITIES, FieldSpec, Kind
from desmig_desktop.domain.issues import Validation
from desmig_desktop.domain.validation import validate

TODAY = dt.date(2026, 12, 5)
DATE_FIELDS = [(e.name, f) for e in ENTITIES.values() for f in e.fields if f.kind is Kind.DATE]
PLANNED = [(name, f) for name, f in DATE_FIELDS if f.planned]
ORDINARY = [(name, f) for name, f in DATE_FIELDS if not f.planned]


def _codes(spec: FieldSpec, day: dt.date, today: dt.date = TODAY) -> list[str]:
    v = Validation(values={})
    check_field(v, spec, day.isoformat(), today, None)
    assert all(i.hard for i in v.issues)
    return [i.code for i in v.issues]


def test_the_follow_up_dates_are_the_planned_ones() -> None:
    assert sorted((name, f.key) for name, f in PLANNED) == [
        ("officer_activities", "follow_up_on"), ("services", "follow_up_on")]
    assert len(ORDINARY) >= 10  # visit, birth, departure, service, training, activity dates …


@pytest.mark.parametrize("entity, spec", PLANNED, ids=[f"{n}.{f.key}" for n, f in PLANNED])
@pytest.mark.parametrize("days_ahead, codes", [
    (-400, []), (0, []), (1, []), (7, []), (365, []), (PLANNING_HORIZON_DAYS, []),
    (PLANNING_HORIZON_DAYS + 1, ["too_far"]), (10 * 365, ["too_far"]),
])
def test_a_planned_date_may_lie_ahead_up_to_the_horizon(entity: str, spec: FieldSpec, days_ahead: int,
                                                        codes: list[str]) -> None:
    assert _codes(spec, TODAY + dt.timedelta(days=days_ahead)) == codes


@pytest.mark.parametrize("entity, spec", DATE_FIELDS, ids=[f"{n}.{f.key}" for n, f in DATE_FIELDS])
def test_every_date_refuses_an_absurd_past(entity: str, spec: FieldSpec) -> None:
    assert _codes(spec, dt.date(1899, 12, 31)) == ["too_old"]
    assert _codes(spec, dt.date(1, 1, 1)) == ["too_old"]
    assert _codes(spec, dt.date(1900, 1, 1)) == []


@pytest.mark.parametrize("entity, spec", ORDINARY, ids=[f"{n}.{f.key}" for n, f in ORDINARY])
@pytest.mark.parametrize("days_ahead", [1, 7, 365, PLANNING_HORIZON_DAYS])
def test_every_other_date_still_refuses_the_future(entity: str, spec: FieldSpec, days_ahead: int) -> None:
    assert _codes(spec, TODAY + dt.timedelta(days=days_ahead)) == ["future"]
    assert _codes(spec, TODAY) == []


@given(day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9000, 12, 31)),
       today=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
       index=st.integers(0, len(DATE_FIELDS) - 1))
def test_the_date_rule_as_a_property(day: dt.date, today: dt.date, index: int) -> None:
    _entity, spec = DATE_FIELDS[index]
    latest = today + dt.timedelta(days=PLANNING_HORIZON_DAYS) if spec.planned else today
    expected = ["too_old"] if day.year < 1900 else ["too_far" if spec.planned else "future"] if day > latest else []
    assert _codes(spec, day, today) == expected


def test_a_follow_up_next_week_validates_as_a_whole_record() -> None:
    next_week = (TODAY + dt.timedelta(days=7)).isoformat()
    service = {"village_code": "32.01.01.1001", "served_on": TODAY.isoformat(), "service_type": "informasi",
               "walk_in_name": "Contoh", "status": "terbuka", "follow_up_on": next_week}
    assert [i.code for i in validate("services", service, today=TODAY).errors] == []
    assert [i.code for i in validate("services", {**service, "served_on": next_week}, today=TODAY).errors] == [
        "future"]
    activity = {"village_code": "32.01.01.1001", "held_on": TODAY.isoformat(), "activity_kind": "sosialisasi",
                "partners": "pemdes", "topic": "Migrasi aman", "follow_up_on": next_week}
    assert [i.code for i in validate("officer_activities", activity, today=TODAY).errors] == []
