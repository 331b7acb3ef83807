"""Read-only queries the programme pages show: lists of records (filtered, counted, paged) and the
options of the pickers (members, businesses, children of PMI of a village).

A list is always bounded: one village's or the officer's villages' records, a page at a time.
The pickers list one village's members or businesses (a village holds a few hundred
households), named by name and household head; a NIK is never part of an option.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, OPEN_CASE_STATUSES, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.programme import children_of_pmi as children_of_pmi_ids
from desmig_desktop.services.programme import TOP_LEVEL
from desmig_desktop.store.queries import rows
from desmig_desktop.store.records import from_db


@dataclass(frozen=True)
class ProgrammeFilter:
    """Which records a page lists. ``villages`` empty: every village; dates are ISO and inclusive;
    ``open_only`` (migration services): open cases only, oldest first."""

    villages: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    open_only: bool = False


@dataclass(frozen=True)
class Option:
    """One entry of a picker: the record's id and how it is named (never with a NIK)."""

    id: str
    label: str
    child_of_pmi: bool = False


def date_field(entity_name: str) -> str | None:
    """The date a list of ``entity_name`` is ordered and filtered by (its first date field)."""
    return next((f.key for f in ENTITIES[entity_name].fields if f.kind is Kind.DATE), None)


def _source(entity_name: str) -> tuple[str, str, list[str]]:
    """``FROM`` clause, the SQL of the record's village, and extra select columns."""
    if entity_name not in TOP_LEVEL:
        raise KeyError(f"not a programme page entity: {entity_name}")
    if entity_name == "business_supports":
        source = "business_supports r JOIN businesses b ON b.id = r.business_id JOIN households h ON h.id = b.household_id"
        return source, "h.village_code", ["b.name AS business_name"]
    extra: list[str] = []
    if entity_name == "services":
        extra.append("(SELECT m.name FROM members m WHERE m.id = r.member_id) AS member_name")
    if entity_name == "parenting_activities":
        extra.append("(SELECT count(*) FROM parenting_attendance a WHERE a.activity_id = r.id AND a.deleted = 0)"
                     " AS attendees")
    if entity_name == "cooperatives":
        extra.append("(SELECT count(*) FROM cooperative_members c WHERE c.cooperative_id = r.id AND c.deleted = 0)"
                     " AS members_count")
    return f"{entity_name} r", "r.village_code", extra


def _where(entity_name: str, flt: ProgrammeFilter, village_sql: str) -> tuple[str, list[Any]]:
    clauses, params = ["r.deleted = 0"], []
    if flt.villages:
        clauses.append(f"{village_sql} IN ({', '.join('?' * len(flt.villages))})")
        params += list(flt.villages)
    when = date_field(entity_name)
    if when and flt.date_from:
        clauses.append(f"r.{when} >= ?")
        params.append(flt.date_from)
    if when and flt.date_to:
        clauses.append(f"r.{when} <= ?")
        params.append(flt.date_to)
    if flt.open_only and entity_name == "services":
        clauses.append(f"r.status IN ({', '.join('?' * len(OPEN_CASE_STATUSES))})")
        params += list(OPEN_CASE_STATUSES)
    return " AND ".join(clauses), params


def count_records(db: Database, entity_name: str, flt: ProgrammeFilter) -> int:
    source, village_sql, _extra = _source(entity_name)
    where, params = _where(entity_name, flt, village_sql)
    return int(db.execute(f"SELECT count(*) FROM {source} WHERE {where}", params).fetchone()[0])


def list_records(db: Database, entity_name: str, flt: ProgrammeFilter, *, offset: int = 0, limit: int = 200,
                 today: dt.date | None = None) -> list[dict[str, Any]]:
    """One page of records: their fields plus ``village`` (its name) and what the list shows of
    them: ``person`` (a service's member or walk-in), ``age_days`` (a service's age),
    ``business_name``, ``attendees``, ``members_count``. Newest first; open cases oldest first."""
    source, village_sql, extra = _source(entity_name)
    where, params = _where(entity_name, flt, village_sql)
    when = date_field(entity_name)
    if flt.open_only and entity_name == "services":
        order = "r.served_on, r.created_at, r.id"
    elif when:
        order = f"r.{when} DESC, r.created_at DESC, r.id"
    else:
        order = "village, r.id"
    village_name = f"(SELECT name FROM regions WHERE code = {village_sql}) AS village"
    columns = ", ".join(["r.*", f"{village_sql} AS village_of", village_name, *extra])
    found = rows(db, f"SELECT {columns} FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                 [*params, limit, offset])
    today = today or dt.date.today()
    out = []
    for row in found:
        record = from_db(entity_name, row)
        if entity_name == "services":
            record["person"] = row.get("member_name") or row.get("walk_in_name") or ""
            record["age_days"] = (today - dt.date.fromisoformat(row["served_on"])).days if row["served_on"] else None
        out.append(record)
    return out


# --- pickers ----------------------------------------------------------------------------------

def _village_members(db: Database, village: str) -> list[dict[str, Any]]:
    return rows(db, "SELECT m.id, m.household_id, m.name, m.relationship, m.birth_date, m.migration_status,"
                    " h.head_name FROM members m JOIN households h ON h.id = m.household_id"
                    " WHERE h.village_code = ? AND h.deleted = 0 AND m.deleted = 0"
                    " ORDER BY h.head_name COLLATE NOCASE, h.id, m.name COLLATE NOCASE, m.id", [village])


def _member_label(member: Mapping[str, Any]) -> str:
    return _("{name} — keluarga {head}", name=member.get("name") or "?", head=member.get("head_name") or "?")


def member_options(db: Database, village: str | None, *, today: dt.date | None = None) -> list[Option]:
    """The members of ``village``'s live households: children of PMI first (marked), then the others."""
    if not village:
        return []
    members = _village_members(db, village)
    children = set(children_of_pmi_ids(members, today or dt.date.today()))
    options = [Option(m["id"], _member_label(m), m["id"] in children) for m in members]
    return ([Option(o.id, _("{label} (anak PMI)", label=o.label), True) for o in options if o.child_of_pmi]
            + [o for o in options if not o.child_of_pmi])


def children_of_pmi(db: Database, village: str, *, today: dt.date | None = None) -> list[Option]:
    """The children of PMI aktif among ``village``'s recorded members."""
    return [o for o in member_options(db, village, today=today) if o.child_of_pmi]


def business_options(db: Database, villages: Iterable[str]) -> list[Option]:
    """The live businesses of live households in ``villages``, by name and household head."""
    wanted = list(villages)
    if not wanted:
        return []
    found = rows(db, "SELECT b.id, b.name, h.head_name FROM businesses b JOIN households h ON h.id = b.household_id"
                     f" WHERE h.village_code IN ({', '.join('?' * len(wanted))}) AND h.deleted = 0 AND b.deleted = 0"
                     " ORDER BY b.name COLLATE NOCASE, b.id", wanted)
    return [Option(r["id"], _("{name} — keluarga {head}", name=r["name"] or "?", head=r["head_name"] or "?"))
            for r in found]
