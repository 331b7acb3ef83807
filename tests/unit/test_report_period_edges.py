"""A report period may end on any real date: the date arithmetic behind the figures (the adult
cutoff, the age bands of open cases) never fails near the first days there are (the HQ answered
``GET /v1/reports?to=0018-01-01`` with a server error: found by schemathesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from desmig_desktop.domain.report_period import adult_cutoff, days_before, parse_period, years_before


@given(st.dates(min_value=date.min, max_value=date.max), st.integers(min_value=0, max_value=200))
def test_years_before_never_fails_and_never_goes_forward(day: date, years: int) -> None:
    earlier = years_before(day, years)
    assert earlier <= day
    if day.year - years >= 1:
        assert earlier.year == day.year - years


@given(st.dates(min_value=date.min, max_value=date.max), st.integers(min_value=0, max_value=400))
def test_days_before_never_fails(day: date, days: int) -> None:
    earlier = date.fromisoformat(days_before(day, days))
    assert earlier <= day
    assert earlier == max(date.min, day - timedelta(days=min(days, (day - date.min).days)))


@given(st.dates(min_value=date.min, max_value=date.max))
def test_any_real_end_day_gives_a_cutoff(day: date) -> None:
    period = parse_period(None, day.isoformat())
    assert adult_cutoff(period.as_of(day)) <= day.isoformat()
