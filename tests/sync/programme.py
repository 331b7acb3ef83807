"""Generators of the programme's records (issue 15) on a test laptop, for the sync, fault and
property tests: one record of a chosen entity in a village, made from what the laptop holds there
(a member, a business, an activity, a cooperative), validated like the form validates it and
saved with its outbox op in one transaction; and an edit of one field of such a record."""

from __future__ import annotations

from typing import Any

from desmig_desktop.domain.fields import ENTITIES, PROGRAMME_ENTITIES
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.programme import natural_id
from desmig_desktop.domain.validation import validate
from desmig_desktop.store import records
from desmig_desktop.store.queries import StoreLookup
from desmig_desktop.store.records import Change

PROGRAMME = tuple(e.name for e in PROGRAMME_ENTITIES)
# Per entity, a field the generators edit and the values they draw from.
EDITS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "village_profiles": ("facilitators", ("Ani", "Bayu", None)),
    "services": ("notes", ("Sudah ditelepon", "Datang lagi", None)),
    "business_supports": ("provider", ("Dinaker", "Bank desa", None)),
    "parenting_activities": ("topic", ("Membaca", "Menggambar", None)),
    "parenting_attendance": ("role", ("anak", "pengasuh")),
    "cooperatives": ("notes", ("Rapat anggota", "Laporan", None)),
    "cooperative_members": ("role", ("anggota", "ketua", "bendahara")),
    "cooperative_businesses": ("support", ("Modal bergulir", "Pemasaran", None)),
    "officer_activities": ("attendance", (3, 12, None)),
}
assert set(EDITS) == set(PROGRAMME)


def _ids(db: Any, sql: str, params: list[Any]) -> list[str]:
    return [r[0] for r in db.execute(sql, params)]


def members_in(db: Any, village: str) -> list[str]:
    return _ids(db, "SELECT m.id FROM members m JOIN households h ON h.id = m.household_id"
                    " WHERE h.village_code = ? AND m.deleted = 0 AND h.deleted = 0 ORDER BY m.id", [village])


def businesses_in(db: Any, village: str) -> list[str]:
    return _ids(db, "SELECT b.id FROM businesses b JOIN households h ON h.id = b.household_id"
                    " WHERE h.village_code = ? AND b.deleted = 0 AND h.deleted = 0 ORDER BY b.id", [village])


def top_level_in(db: Any, entity: str, village: str) -> list[str]:
    return _ids(db, f"SELECT id FROM {entity} WHERE village_code = ? AND deleted = 0 ORDER BY id", [village])


def values_for(db: Any, entity: str, village: str, pick: int) -> dict[str, Any] | None:
    """The fields of a new ``entity`` record in ``village``, or ``None`` when the laptop holds
    nothing there it could name (no member for an attendance, no activity yet...)."""
    def one(found: list[str]) -> str | None:
        return found[pick % len(found)] if found else None

    member, business = one(members_in(db, village)), one(businesses_in(db, village))
    activity, coop = one(top_level_in(db, "parenting_activities", village)), one(top_level_in(db, "cooperatives", village))
    made: dict[str, dict[str, Any] | None] = {
        "village_profiles": {"village_code": village, "joined_year": 2017 + pick % 5, "status": "aktif"},
        "services": {"village_code": village, "served_on": "2025-02-01", "service_type": "pengaduan",
                     "case_kind": "gaji", "status": "terbuka", "follow_up_on": "2025-02-15",
                     **({"member_id": member} if member and pick % 2 else {"walk_in_name": f"Tamu {pick}"})},
        "business_supports": business and {"business_id": business, "support_type": "pelatihan",
                                           "received_on": "2025-01-20", "provider": "Dinaker"},
        "parenting_activities": {"village_code": village, "held_on": "2025-02-03",
                                 "activity_type": "kelompok_belajar", "walk_in_children": pick % 4},
        "parenting_attendance": activity and member and {"activity_id": activity, "member_id": member, "role": "anak"},
        "cooperatives": {"village_code": village, "name": f"Koperasi {pick}", "group_kind": "koperasi",
                         "legal_status": "belum", "status": "aktif"},
        "cooperative_members": coop and member and {"cooperative_id": coop, "member_id": member, "role": "anggota"},
        "cooperative_businesses": coop and business and {"cooperative_id": coop, "business_id": business},
        "officer_activities": {"village_code": village, "held_on": "2025-02-04", "activity_kind": "sosialisasi",
                               "partners": "pemdes,tokoh", "topic": "Migrasi aman", "attendance": 20},
    }
    return made[entity] or None


def create(db: Any, entity: str, village: str, pick: int = 0, *, strict: bool = True) -> str | None:
    """Save one new ``entity`` record in ``village`` (validated as the form validates); its id.
    ``None`` when the laptop holds nothing to name there, or — unless ``strict`` — when the form
    would refuse it (a village the laptop does not sync yet)."""
    values = values_for(db, entity, village, pick)
    if values is None:
        return None
    record_id = natural_id(entity, values) or new_id()
    spec = ENTITIES[entity]
    parent = None
    if spec.parent_key and spec.parent_entity:
        parent = records.get(db, spec.parent_entity, values[spec.parent_key])
    result = validate(entity, values, record_id=record_id, lookup=StoreLookup(db), parent=parent)
    if not result.ok and not strict:
        return None
    assert result.ok, (entity, result.errors)
    records.apply_changes(db, [Change(entity, record_id, result.values)])
    return record_id
