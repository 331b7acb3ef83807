"""Children of PMI: the laptop's report SQL (``services.reports.is_child_of_pmi``) picks the same
members as the one definition, ``domain.programme.children_of_pmi``, on generated households."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.fields import MIGRATION_STATUS, RELATIONSHIP
from desmig_desktop.domain.programme import children_of_pmi
from desmig_desktop.domain.report_period import adult_cutoff
from desmig_desktop.services.reports import is_child_of_pmi

_ROW = st.fixed_dictionaries({
    "household_id": st.sampled_from(["h1", "h2", "h3"]),
    "relationship": st.sampled_from([c.value for c in RELATIONSHIP]),
    "migration_status": st.one_of(st.none(), st.sampled_from([c.value for c in MIGRATION_STATUS])),
    "birth_date": st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)).map(str)),
    "deleted": st.sampled_from([0, 0, 1]),
})


_PMI = {"household_id": "h1", "relationship": "kepala", "migration_status": "pmi_aktif", "birth_date": None,
        "deleted": 0}


@settings(max_examples=300, deadline=None)
# the edges the SQL once missed: a child abroad themself, a child born after the day
@example([_PMI, {**_PMI, "relationship": "anak"}], dt.date(2026, 1, 1))
@example([_PMI, {**_PMI, "relationship": "anak", "migration_status": "bukan", "birth_date": "2027-01-01"}],
         dt.date(2026, 1, 1))
@given(st.lists(_ROW, max_size=14), st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)))
def test_the_report_sql_agrees_with_the_definition(rows: list[dict[str, Any]], on: dt.date) -> None:
    members = [{**r, "id": f"m{i}"} for i, r in enumerate(rows)]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE members (id TEXT, household_id TEXT, relationship TEXT, migration_status TEXT,"
               " birth_date TEXT, deleted INTEGER)")
    db.executemany("INSERT INTO members VALUES (:id, :household_id, :relationship, :migration_status,"
                   " :birth_date, :deleted)", members)
    found = [r[0] for r in db.execute(
        f"SELECT id FROM members c WHERE c.deleted = 0 AND {is_child_of_pmi('c')} ORDER BY id",
        {"adult_cutoff": adult_cutoff(on), "as_of": on.isoformat()})]
    assert sorted(found) == children_of_pmi(members, on)
