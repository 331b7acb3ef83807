"""The programme's records (issue 15): their rules across fields, their references, the village
profile's id, and which household members are children of PMI.

Keyed on entity names and field keys only (never on the Python constants that declare them), so
the declarations may move to the questionnaire document without touching this module.

**References.** A record of the programme names other records two ways: its *parent* (the
``parent_key`` of its spec: an attendance's activity), whose village it shares, and *side
references* (``side_references``: the person served, an attendee, a cooperative's member or
business). A side reference must name a live record of the record's own village when it is set
or when the record changes village; it is not checked again afterwards, so a household that
moves to another village keeps its attendance, services and cooperative memberships where they
happened (the record stays with its activity, its village's record; the link still names the
person). The HQ applies that rule (``desmig_server.sync.apply``); a laptop that no longer holds
the moved member keeps the link as it is (pulled data is written without foreign-key checks, and
an edit that leaves the link alone does not touch it).

**Village profile.** One per village: its id is derived from the village code
(``village_profile_id``), so two officers who create the same village's profile offline make one
record whose fields merge, and a profile under any other id is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from desmig_desktop.domain.fields import ENTITIES, OPEN_CASE_STATUSES, EntitySpec, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.issues import Lookup, Validation
from desmig_desktop.domain.report_period import adult_cutoff

# Fixed for ever: changing it would give every village a second profile id.
VILLAGE_PROFILE_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-5b7a-9c41-2e7f0b9d6a13")
PMI_ACTIVE = "pmi_aktif"

# **Children of PMI** (issue 15, pillar 3), the one definition: the Python function below, the
# laptop's report SQL (``services.reports.is_child_of_pmi``) and HQ's (``desmig_server.reports.
# queries.is_child_of_pmi``) all read this table. A member is a child of PMI on a day when:
# * the member is live and is not PMI aktif themself (a child working abroad is not left behind);
# * another live member of the same household is PMI aktif and has a relationship to the head
#   listed for the member's relationship here — the member is that PMI's child as far as the
#   relationships to the head tell: the head's or spouse's child (``anak``), or the grandchild
#   (``cucu``) of the head whose parent, a child or child-in-law of the head, is abroad (a
#   grandparent or sibling abroad is not a parent);
# * the member is under 18 on the day (``report_period.adult_cutoff``) and born by then when the
#   birth date is known; a member without a birth date counts on the relationships alone.
CHILD_OF_PMI: dict[str, tuple[str, ...]] = {
    "anak": ("kepala", "suami_istri"),
    "cucu": ("anak", "menantu"),
}


def village_profile_id(village_code: str) -> str:
    """The one id of village ``village_code``'s Desmigratif profile (a UUIDv5 of the code)."""
    return str(uuid.uuid5(VILLAGE_PROFILE_NAMESPACE, village_code.strip()))


def natural_id(entity_name: str, values: Mapping[str, Any]) -> str | None:
    """The id a record of ``entity_name`` must have when its values decide it (a village profile:
    its village's), else ``None`` (any new id)."""
    if entity_name == "village_profiles":
        code = values.get("village_code")
        return village_profile_id(code) if isinstance(code, str) and code.strip() else None
    return None


@functools.cache
def side_references(entity_name: str) -> tuple[tuple[str, str], ...]:
    """``(field key, referenced entity)`` of each reference of ``entity_name`` other than its parent."""
    spec = ENTITIES[entity_name]
    return tuple((f.key, f.ref_entity) for f in spec.fields
                 if f.kind is Kind.REF and f.ref_entity and f.key != spec.parent_key)


def reference_refusal(found: bool, same_village: bool, deleted: bool) -> str | None:
    """Why a side reference is refused (the same words on the laptop and at HQ), or ``None``.

    ``found``: the record exists and the user may read it (one the user may not read is "not
    found", so a refusal never tells that it exists elsewhere); ``same_village``: it belongs to
    the village of the record naming it; ``deleted``: it was deleted."""
    if not found:
        return _("Data yang dirujuk tidak ditemukan di desa tugas Anda.")
    if not same_village:
        return _("Data yang dirujuk berada di desa lain; pilih data dari desa yang sama.")
    if deleted:
        return _("Data yang dirujuk sudah dihapus.")
    return None


def is_top_level(spec: EntitySpec) -> bool:
    """Whether records of ``spec`` carry their own village (their sync scope) instead of a parent's."""
    return spec.parent_key is None and spec.has("village_code")


def _birth_date(value: Any) -> str | None:
    """An ISO birth date as text (what the report SQL compares), ``None`` when unknown."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return None
    return None


def children_of_pmi(members: Iterable[Mapping[str, Any]], on: dt.date) -> list[str]:
    """The ids of the members who are children of PMI (``CHILD_OF_PMI``) on date ``on``, sorted.

    ``members``: member rows as mappings with ``id``, ``household_id``, ``relationship``,
    ``migration_status``, ``birth_date`` (ISO text, a date, or empty) and optionally ``deleted``;
    other keys are ignored, rows of many households may be mixed (the caller leaves out the
    members of deleted households). An unreadable birth date counts as unknown.
    """
    live = [m for m in members if not m.get("deleted")]
    abroad: dict[Any, set[str]] = {}  # household -> the relationships of its PMI aktif
    for m in live:
        if m.get("migration_status") == PMI_ACTIVE:
            abroad.setdefault(m.get("household_id"), set()).add(str(m.get("relationship")))
    cutoff = adult_cutoff(on)
    out: list[str] = []
    for m in live:
        parents = CHILD_OF_PMI.get(str(m.get("relationship")), ())
        if m.get("migration_status") == PMI_ACTIVE or abroad.get(m.get("household_id"), set()).isdisjoint(parents):
            continue
        birth = _birth_date(m.get("birth_date"))
        if birth is None or cutoff < birth <= on.isoformat():
            out.append(str(m["id"]))
    return sorted(out)


# -- rules across the fields of one record (``record_rules.RECORD_RULES``) ------------------------

_WALK_IN = ("walk_in_name", "walk_in_sex", "walk_in_age_band", "walk_in_nik")


def _no_hard(v: Validation, *keys: str) -> bool:
    return not any(i.hard and i.field in keys for i in v.issues)


def _follow_up_after(v: Validation, start_key: str) -> None:
    start, follow = v.values.get(start_key), v.values.get("follow_up_on")
    if start and follow and follow < start and _no_hard(v, start_key, "follow_up_on"):
        v.hard("follow_up_on", "follow_up_before", _("Tanggal tindak lanjut tidak boleh sebelum tanggal kegiatan."))


def check_service(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                  parent: Mapping[str, Any] | None, today: dt.date) -> None:
    """The person served is a recorded member *or* a walk-in (never both, never neither); a
    follow-up comes after the service; an open case should have a follow-up date."""
    walk_in = [k for k in _WALK_IN if v.values.get(k) is not None]
    if v.values.get("member_id"):
        for key in walk_in:
            v.hard(key, "walk_in_with_member", _(
                "Data pengunjung hanya diisi bila orang yang dilayani bukan anggota rumah tangga terdata."))
    elif not v.values.get("walk_in_name") and _no_hard(v, "member_id", "walk_in_name"):
        v.hard("walk_in_name", "person_required", _(
            "Pilih anggota rumah tangga yang dilayani, atau isi nama pengunjung bila bukan anggota terdata."))
    _follow_up_after(v, "served_on")
    if (v.wants_soft and v.values.get("status") in OPEN_CASE_STATUSES and not v.values.get("follow_up_on")
            and _no_hard(v, "follow_up_on")):
        v.soft("follow_up_on", "open_without_follow_up", _(
            "Layanan masih terbuka tetapi belum ada tanggal tindak lanjut."))


def check_village_profile(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                          parent: Mapping[str, Any] | None, today: dt.date) -> None:
    """One profile per village: its id is the village's (``village_profile_id``); the year
    joined is not in the future."""
    village = v.values.get("village_code")
    if record_id is not None and village and _no_hard(v, "village_code") and record_id != village_profile_id(village):
        v.hard("village_code", "profile_id", _(
            "Profil desa ini harus memakai kode profil desanya sendiri (satu profil per desa); buka profil desa yang "
            "sudah ada."))
    year = v.values.get("joined_year")
    if year is not None and year > today.year and _no_hard(v, "joined_year"):
        v.hard("joined_year", "future", _("Tahun bergabung tidak boleh di masa depan."))


def check_officer_activity(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                           parent: Mapping[str, Any] | None, today: dt.date) -> None:
    _follow_up_after(v, "held_on")


def check_cooperative_member(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                             parent: Mapping[str, Any] | None, today: dt.date) -> None:
    """Soft: joined before the cooperative was founded."""
    if not v.wants_soft:
        return
    joined, founded = v.values.get("joined_on"), (parent or {}).get("founded_on")
    if joined and isinstance(founded, str) and joined < founded and _no_hard(v, "joined_on"):
        v.soft("joined_on", "joined_before_founded", _("Tanggal bergabung sebelum tanggal berdiri koperasi/kelompok."))


def no_rule(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
            parent: Mapping[str, Any] | None, today: dt.date) -> None:
    """Entities whose fields are checked on their own only."""
