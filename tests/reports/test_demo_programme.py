"""``desmig demo``'s programme records (issue 15): valid by the questionnaire, one profile and one
cooperative per village, references inside the record's own village, parenting attended by the
village's children of PMI (as the report defines them), a few open cases, the officer's log every
month, and the same records again for the same seed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from desmig_desktop.domain.fields import OPEN_CASE_STATUSES, PROGRAMME_ENTITIES
from desmig_desktop.domain.validation import validate
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.reports import build_report
from desmig_desktop.store.db import connect
from desmig_desktop.store.queries import StoreLookup, rows

VILLAGES = ["32.01.05.2001", "33.01.01.2001"]
TODAY = dt.date.today()


def live(db: Any, entity: str) -> list[dict[str, Any]]:
    return rows(db, f"SELECT * FROM {entity} WHERE deleted = 0")


def village_of_member(db: Any) -> dict[str, str]:
    return dict(db.execute("SELECT m.id, h.village_code FROM members m JOIN households h ON h.id = m.household_id"
                           " WHERE m.deleted = 0 AND h.deleted = 0").fetchall())


@pytest.fixture
def demo(db: Any) -> Any:
    generate_demo(db, 120, villages=VILLAGES, seed=5)
    return db


def test_every_programme_record_is_valid(demo: Any) -> None:
    lookup = StoreLookup(demo)
    for spec in PROGRAMME_ENTITIES:
        for record in live(demo, spec.name):
            raw = {k: record[k] for k in spec.keys if record.get(k) is not None}
            found = validate(spec.name, raw, record_id=record["id"], lookup=lookup)
            assert not [i for i in found.issues if i.hard], (spec.name, found.issues)


def test_each_village_has_its_pillars_and_references_stay_in_it(demo: Any) -> None:
    member_village = village_of_member(demo)
    business_village = dict(demo.execute("SELECT b.id, h.village_code FROM businesses b JOIN households h"
                                         " ON h.id = b.household_id").fetchall())
    for entity in ("village_profiles", "cooperatives"):
        assert Counter(r["village_code"] for r in live(demo, entity)) == dict.fromkeys(VILLAGES, 1), entity
    coop_village = {r["id"]: r["village_code"] for r in live(demo, "cooperatives")}
    members = live(demo, "cooperative_members")
    assert len(members) >= 2 * 3 and len({(r["cooperative_id"], r["member_id"]) for r in members}) == len(members)
    assert all(member_village[r["member_id"]] == coop_village[r["cooperative_id"]] for r in members)
    assert all(business_village[r["business_id"]] == coop_village[r["cooperative_id"]]
               for r in live(demo, "cooperative_businesses"))
    services = live(demo, "services")
    assert all(member_village[r["member_id"]] == r["village_code"] for r in services if r["member_id"])
    assert all(r["walk_in_nik"] is None for r in services)
    assert 0 < sum(r["status"] in OPEN_CASE_STATUSES for r in services) < len(services) // 5
    activity_village = {r["id"]: r["village_code"] for r in live(demo, "parenting_activities")}
    attendance = live(demo, "parenting_attendance")
    assert all(member_village[r["member_id"]] == activity_village[r["activity_id"]] for r in attendance)
    assert len({(r["activity_id"], r["member_id"]) for r in attendance}) == len(attendance)
    months = {(r["village_code"], r["held_on"][:7]) for r in live(demo, "officer_activities")}
    assert len(months) >= 2 * 12


def test_the_attending_children_are_children_of_pmi(demo: Any) -> None:
    """Every member attending as a child is one the report counts as a child of PMI."""
    totals = build_report(demo, "village")["totals"]
    children = {r["member_id"] for r in live(demo, "parenting_attendance") if r["role"] == "anak"}
    assert totals["children_in_parenting"] == len(children) > 0
    assert totals["children_of_pmi"] >= len(children)
    assert totals["cooperatives"] == 2 and totals["open_cases"] > 0 and totals["households_trained"] > 0


def test_the_same_seed_gives_the_same_records(demo: Any, data_dir: Any, tmp_path: Any) -> None:
    import shutil

    other_path = tmp_path / "again.db"
    shutil.copy(data_dir / "desmig.db", other_path)
    other = connect(other_path)
    for spec in PROGRAMME_ENTITIES:
        other.execute(f"DELETE FROM {spec.name}")
    other.execute("DELETE FROM members"), other.execute("DELETE FROM households")
    other.execute("DELETE FROM placements"), other.execute("DELETE FROM businesses")
    other.conn.commit()
    generate_demo(other, 120, villages=VILLAGES, seed=5)

    def content(db: Any, entity: str) -> Counter[tuple[Any, ...]]:
        spec = next(s for s in PROGRAMME_ENTITIES if s.name == entity)
        plain = [f.key for f in spec.fields if f.kind.value != "ref"]
        return Counter(tuple(r[k] for k in plain) for r in live(db, entity))

    for spec in PROGRAMME_ENTITIES:
        assert content(demo, spec.name) == content(other, spec.name), spec.name
    other.conn.close()
