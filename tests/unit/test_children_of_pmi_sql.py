"""Children of PMI: the laptop's report SQL (``services.reports.is_child_of_pmi``) picks the same
members as the one definition, ``domain.programme.children_of_pmi``, on generated households.

The generator (``tests.support.children_of_pmi.households``, shared with HQ's check) aims at the
edges: households with a PMI aktif head, spouse or child (a grandchild's parent), children abroad
themselves, births after the day and on it, 18th birthdays on the day and the day after, deleted
members (a deleted PMI too). It needs no explicit example to catch the SQL's old mistakes:
``test_the_generator_catches_each_mutation`` runs the same comparison against mutated SQL and
requires a counterexample for each mutation.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from desmig_desktop.domain.programme import PMI_ACTIVE, children_of_pmi
from desmig_desktop.domain.report_period import adult_cutoff
from desmig_desktop.services.reports import is_child_of_pmi
from tests.support.children_of_pmi import households


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
