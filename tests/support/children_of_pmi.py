"""Generated households for the children-of-PMI checks (``domain.programme.children_of_pmi`` is
the definition): the laptop's report SQL (tests/unit/test_children_of_pmi_sql.py) and HQ's, from
the records and from the aggregates (tests/reports/test_children_of_pmi_hq.py), on the same cases.

``households`` aims at the edges: households with a PMI aktif head, spouse or child (a
grandchild's parent), children abroad themselves, births after the day and on it, 18th birthdays
on the day and the day after, deleted members (a deleted PMI too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from desmig_desktop.domain.fields import MIGRATION_STATUS, RELATIONSHIP
from desmig_desktop.domain.programme import CHILD_OF_PMI, PMI_ACTIVE
from desmig_desktop.domain.report_period import years_before

PARENTS = sorted({p for parents in CHILD_OF_PMI.values() for p in parents})
CHILDREN = sorted(CHILD_OF_PMI)
# The dates ``households`` draws lie in these bounds (HQ refuses a birth date in the future
# unless its tolerance covers them).
FIRST_DAY, LAST_DAY = dt.date(1980, 1, 1), dt.date(2035, 1, 1)
ANY = "any"
# Drawn with ``sampled_from``, as likely each (a ``one_of`` draws its first branches far more
# often): a child's relationship (half the time) or a parent's, besides any relationship.
RELATIONSHIPS = [*CHILDREN * 5, *PARENTS * 2, *(c.value for c in RELATIONSHIP)]
STATUSES: list[str | None] = [PMI_ACTIVE, None, *(c.value for c in MIGRATION_STATUS)]


def _birth(on: dt.date) -> st.SearchStrategy[str | None]:
    """A birth date near an edge of ``on``: unknown, on the day, after it, the 18th birthday on the
    day, the day after or the day before, or anywhere; each as likely (a ``one_of`` draws its first
    branches far more often)."""
    eighteenth = years_before(on, 18)
    edges: list[str | None] = [None, *(str(d) for d in (on, on + dt.timedelta(days=1), eighteenth,
                                                       eighteenth + dt.timedelta(days=1),
                                                       eighteenth - dt.timedelta(days=1)))]
    return st.sampled_from([*edges, ANY]).flatmap(
        lambda b: st.dates(FIRST_DAY, LAST_DAY).map(str) if b == ANY else st.just(b))


@st.composite
def households(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dt.date]:
    """Members of up to three households (``h0``, ``h1``, ``h2``) and the day of the report. A
    household mostly starts with a PMI aktif parent of a child or grandchild (deleted
    now and then like any member), so that a child's other edges (its age, its own status) matter."""
    on = draw(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)))
    members: list[dict[str, Any]] = []

    def add(household: str, relationship: str, status: str | None) -> None:
        members.append({"id": f"m{len(members)}", "household_id": household, "relationship": relationship,
                        "migration_status": status, "birth_date": draw(_birth(on)),
                        "deleted": draw(st.sampled_from([0, 0, 0, 1]))})

    for h in range(draw(st.integers(1, 3))):
        if draw(st.sampled_from([True, True, True, False])):
            add(f"h{h}", draw(st.sampled_from(PARENTS)), PMI_ACTIVE)
        for _i in range(draw(st.integers(1, 6))):
            add(f"h{h}", draw(st.sampled_from(RELATIONSHIPS)), draw(st.sampled_from(STATUSES)))
    return members, on
