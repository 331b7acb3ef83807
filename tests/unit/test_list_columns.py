"""The columns of record lists come from the specs' ``list_column`` places (issue 19 §5)."""

from __future__ import annotations

import pytest

from desmig_desktop.domain.fields import ENTITIES, EntitySpec, FieldSpec, Kind, list_columns


@pytest.mark.parametrize("spec", ENTITIES.values(), ids=list(ENTITIES))
def test_places_are_one_to_n_without_gaps_or_ties(spec: EntitySpec) -> None:
    places = sorted(f.list_column for f in spec.fields if f.list_column is not None)
    assert places == list(range(1, len(places) + 1))
    assert not any(spec.field(key).hidden for key in list_columns(spec))


@pytest.mark.parametrize("places, expected", [
    ((None, None, None), ()),
    ((1, None, None), ("a",)),
    ((2, None, 1), ("c", "a")),  # the list's order, not the form's
    ((3, 1, 2), ("b", "c", "a")),
])
def test_columns_follow_the_places(places: tuple[int | None, ...], expected: tuple[str, ...]) -> None:
    spec = EntitySpec("things", "Benda", "Things", tuple(
        FieldSpec(key, key, key, Kind.TEXT, list_column=place) for key, place in zip("abc", places)))
    assert list_columns(spec) == expected


def test_the_lists_show_what_they_showed_before_the_flags_drove_them() -> None:
    assert {name: list_columns(spec) for name, spec in ENTITIES.items()} == {
        "households": ("head_name", "village_code", "kk_number", "visited_on"),
        "members": ("name", "nik", "relationship", "migration_status"),
        "placements": ("country", "job", "departed_on", "returned_on"),
        "businesses": ("name", "kbli_category", "umkm_class", "export_ready"),
        # the programme's records (issue 15), as declared with them
        "village_profiles": ("village_code", "joined_year", "status"),
        "services": ("served_on", "walk_in_name", "service_type", "status"),
        "business_supports": ("support_type", "received_on", "provider", "amount"),
        "parenting_activities": ("held_on", "activity_type", "topic"),
        "parenting_attendance": ("member_id", "role"),
        "cooperatives": ("name", "group_kind", "status"),
        "cooperative_members": ("member_id", "role", "joined_on"),
        "cooperative_businesses": ("business_id", "support"),
        "officer_activities": ("held_on", "activity_kind", "topic", "attendance"),
    }
