"""Children of PMI: the laptop's report SQL (``services.reports.is_child_of_pmi``) picks the same
members as the one definition, ``domain.programme.children_of_pmi``, on generated households.

The generator (``households``) aims at the edges: households with a PMI aktif head, spouse or
child (a grandchild's parent), children abroad themselves, births after the day and on it, 18th
birthdays on the day and the day after, deleted members (a deleted PMI too). It needs no explicit
example to catch the SQL's old mistakes: ``test_the_generator_catches_each_mutation`` runs the same
comparison against mutated SQL and requires a counterexample for each mutation.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.fields import MIGRATION_STATUS, RELATIONSHIP
from desmig_desktop.domain.programme import CHILD_OF_PMI, children_of_pmi
from desmig_desktop.domain.report_period import adult_cutoff, years_before
from desmig_desktop.services.reports import is_child_of_pmi

PMI_ACTIVE = "pmi_aktif"
_PARENTS = sorted({p for parents in CHILD_OF_PMI.values() for p in parents})
_CHILDREN = sorted(CHILD_OF_PMI)


def _birth(on: dt.date) -> st.SearchStrategy[str | None]:
    """A birth date near an edge of ``on``: unknown, on the day, after it, the 18th birthday on the
    day or the day after, or anywhere."""
    eighteenth = years_before(on, 18)
    return st.one_of(st.none(), st.sampled_from([
        on, on + dt.timedelta(days=1), eighteenth, eighteenth + dt.timedelta(days=1),
        eighteenth - dt.timedelta(days=1)]).map(str),
        st.dates(dt.date(1980, 1, 1), dt.date(2035, 1, 1)).map(str))


@st.composite
def households(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dt.date]:
    """Members of up to three households and the day of the report."""
    on = draw(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)))
    members: list[dict[str, Any]] = []
    for h in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 6))
        for _i in range(size):
            relationship = draw(st.one_of(st.sampled_from(_PARENTS), st.sampled_from(_CHILDREN),
                                          st.sampled_from([c.value for c in RELATIONSHIP])))
            status = draw(st.one_of(st.just(PMI_ACTIVE), st.none(), st.sampled_from([c.value for c in MIGRATION_STATUS])))
            members.append({"id": f"m{len(members)}", "household_id": f"h{h}", "relationship": relationship,
                            "migration_status": status, "birth_date": draw(_birth(on)),
                            "deleted": draw(st.sampled_from([0, 0, 0, 1]))})
    return members, on


def desktop_sql(members: list[dict[str, Any]], on: dt.date, condition: str) -> list[str]:
    """The ids ``condition`` (the SQL of ``is_child_of_pmi('c')``) picks from ``members``."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE members (id TEXT, household_id TEXT, relationship TEXT, migration_status TEXT,"
               " birth_date TEXT, deleted INTEGER)")
    db.executemany("INSERT INTO members VALUES (:id, :household_id, :relationship, :migration_status,"
                   " :birth_date, :deleted)", members)
    found = [r[0] for r in db.execute(f"SELECT id FROM members c WHERE c.deleted = 0 AND {condition} ORDER BY id",
                                      {"adult_cutoff": adult_cutoff(on), "as_of": on.isoformat()})]
    db.close()
    return sorted(found)


def _agrees(condition: str, *, shrink: bool = True) -> Callable[[], None]:
    phases = tuple(Phase) if shrink else (Phase.generate,)  # a mutation needs a counterexample, not the smallest
    @settings(max_examples=300, deadline=None, database=None, phases=phases,
              suppress_health_check=[HealthCheck.too_slow])
    @given(households())
    def check(case: tuple[list[dict[str, Any]], dt.date]) -> None:
        members, on = case
        assert desktop_sql(members, on, condition) == children_of_pmi(members, on)
    return check


def test_the_report_sql_agrees_with_the_definition() -> None:
    _agrees(is_child_of_pmi("c"))()


SQL = is_child_of_pmi("c")
# Each a mistake the SQL could make (the first two it once made); the generator must find each.
MUTATIONS = {
    "a child abroad themself counted": SQL.replace(f" AND c.migration_status IS NOT '{PMI_ACTIVE}'", ""),
    "a child born after the day counted": SQL.replace(" AND c.birth_date <= :as_of", ""),
    "18 on the day still a child": SQL.replace("c.birth_date > :adult_cutoff", "c.birth_date >= :adult_cutoff"),
    "a deleted PMI still a parent": SQL.replace("p.deleted = 0", "1 = 1"),
    "a grandchild of a PMI grandparent counted": SQL.replace("'anak', 'menantu'", "'anak', 'menantu', 'kepala'"),
    "unknown birth date left out": SQL.replace("c.birth_date IS NULL OR ", ""),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_the_generator_catches_each_mutation(mutation: str) -> None:
    mutated = MUTATIONS[mutation]
    assert mutated != SQL, "the mutation no longer applies to the SQL: update MUTATIONS"
    with pytest.raises(AssertionError):
        _agrees(mutated, shrink=False)()
