"""The period a report counts activities in, and the dates its programme figures are taken at.

Programme figures are of two kinds (``report_spec``): *activities* (services given, parenting
activities held, trainings received, the officer's meetings) count when their date lies in the
period; *stocks* (open cases, children of PMI, cooperatives) are counted as they are now, at the
period's end (a case opened after it does not count, a child is "under 18" on that day). Without
a period, activities count whenever they happened and the end is today.

Dates are ISO strings, so both the desktop (typed columns) and HQ (JSON text) compare them as text
against the bounds computed here: no date arithmetic in SQL, the same answer on SQLite and
PostgreSQL. Stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from desmig_desktop.domain.i18n import _

ADULT_AGE = 18
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class PeriodError(ValueError):
    """A period argument that is not a date, a month, or whose start is after its end (message in
    the officer's language)."""


@dataclass(frozen=True)
class Period:
    start: date | None = None  # first day counted (None: from the first record)
    end: date | None = None  # last day counted (None: up to today)

    def as_of(self, today: date | None = None) -> date:
        """The day stocks are taken at: the period's end, else today."""
        return self.end or today or date.today()

    def bounds(self) -> tuple[str | None, str | None]:
        """``(from, to)`` as ISO text (``None`` where open)."""
        return (self.start.isoformat() if self.start else None, self.end.isoformat() if self.end else None)

    def as_json(self) -> dict[str, str | None]:
        start, end = self.bounds()
        return {"from": start, "to": end}


EVERYTHING = Period()


def _day(text: str, option: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(_("{option}: tanggal harus berbentuk TTTT-BB-HH yang ada, mis. 2026-11-30 (bukan {value}).",
                            option=option, value=text[:40])) from None


def month_period(text: str) -> Period:
    """``"2026-11"`` → 1 to 30 November 2026.

    Raises:
        PeriodError: not ``YYYY-MM`` with a month 01–12 of a year 2000–2999.
    """
    m = _MONTH.fullmatch(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2999:
        raise PeriodError(_("--month: bulan harus berbentuk TTTT-BB, mis. 2026-11 (bukan {value}).",
                            value=text[:40]))
    year, month = int(m.group(1)), int(m.group(2))
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(first, following - timedelta(days=1))


def parse_period(start: str | None = None, end: str | None = None, month: str | None = None) -> Period:
    """The period of ``--from``/``--to`` (either may be left open) or ``--month`` (not both).

    Raises:
        PeriodError: a malformed or impossible date or month, ``--month`` beside ``--from``/``--to``,
            or a start after the end.
    """
    if month is not None:
        if start is not None or end is not None:
            raise PeriodError(_("Pakai --month atau --from/--to, tidak keduanya."))
        return month_period(month)
    first = _day(start, "--from") if start is not None else None
    last = _day(end, "--to") if end is not None else None
    if first and last and first > last:
        raise PeriodError(_("--from ({start}) jatuh setelah --to ({end}).", start=first.isoformat(),
                            end=last.isoformat()))
    return Period(first, last)


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (29 February becomes the 28th); the first day there is when
    that lies before year 1 (a period may end on any real date, e.g. ``--to 0017-06-30``)."""
    if day.year - years < date.min.year:
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def adult_cutoff(as_of: date) -> str:
    """A birth date after this (ISO text) is of someone under 18 on ``as_of``: they turn 18 on
    their 18th birthday, which is on or before ``as_of`` exactly when they were born on or before
    the returned day."""
    return years_before(as_of, ADULT_AGE).isoformat()


def days_before(as_of: date, days: int) -> str:
    """A date after this (ISO text) is less than ``days`` days before ``as_of`` (the first day there
    is, when that lies before it)."""
    if (as_of - date.min).days < days:
        return date.min.isoformat()
    return (as_of - timedelta(days=days)).isoformat()
