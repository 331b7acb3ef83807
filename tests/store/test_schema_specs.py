"""The entity tables' foreign keys come from the specs (``ref_entity``, region codes) and a parent
is declared once, by its ``parent_key`` field: a fresh database keeps exactly the keys it had."""

from __future__ import annotations

from typing import Any

import pytest

from desmig_desktop.domain.fields import ENTITIES, EntitySpec, FieldSpec, Kind

# Pinned from a database created before the keys were derived from the specs (m001 writes these
# tables out; test_schema_drift checks every entity's keys against the specs).
FRESH_FOREIGN_KEYS = {
    "households": {("village_code", "regions", "code")},
    "members": {("household_id", "households", "id")},
    "placements": {("member_id", "members", "id")},
    "businesses": {("household_id", "households", "id"), ("owner_member_id", "members", "id")},
}


def test_a_fresh_database_has_the_foreign_keys_it_always_had(db: Any) -> None:
    found = {table: {(row[3], row[2], row[4]) for row in db.execute(f"PRAGMA foreign_key_list({table})").fetchall()}
             for table in FRESH_FOREIGN_KEYS}
    assert found == FRESH_FOREIGN_KEYS
    deferred = db.execute("SELECT group_concat(sql, ' ') FROM sqlite_master WHERE name IN"
                          " ('households', 'members', 'placements', 'businesses')").fetchone()[0]
    assert deferred.count("DEFERRABLE INITIALLY DEFERRED") == 5


def test_each_parent_is_named_once_by_its_parent_key_field() -> None:
    parents = {name: (spec.parent_key, spec.parent_entity) for name, spec in ENTITIES.items()}
    assert parents == {"households": (None, None), "members": ("household_id", "households"),
                       "placements": ("member_id", "members"), "businesses": ("household_id", "households"),
                       # the programme's records (issue 15): a top-level one is scoped by its village
                       "village_profiles": (None, None), "services": (None, None),
                       "business_supports": ("business_id", "businesses"), "parenting_activities": (None, None),
                       "parenting_attendance": ("activity_id", "parenting_activities"), "cooperatives": (None, None),
                       "cooperative_members": ("cooperative_id", "cooperatives"),
                       "cooperative_businesses": ("cooperative_id", "cooperatives"),
                       "officer_activities": (None, None)}


@pytest.mark.parametrize("parent", [
    FieldSpec("owner", "Induk", "Parent", Kind.TEXT),  # not a reference
    FieldSpec("owner", "Induk", "Parent", Kind.REF),  # a reference to nothing named
])
def test_a_parent_key_must_be_a_reference_naming_its_entity(parent: FieldSpec) -> None:
    with pytest.raises(ValueError, match="parent_key"):
        EntitySpec("things", "Barang", "Things", (parent,), parent_key="owner")


def test_a_parent_key_must_be_one_of_the_fields() -> None:
    with pytest.raises(ValueError, match="parent_key"):
        EntitySpec("things", "Barang", "Things", (), parent_key="missing")
