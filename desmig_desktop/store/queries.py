"""Read-side queries of the local store: lookups for validation, search, counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.store.records import from_db


class StoreLookup:
    """The validation ``Lookup`` backed by the local database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def village_exists(self, code: str) -> bool:
        return self.db.execute("SELECT 1 FROM regions WHERE code = ? AND level = 4", [code]).fetchone() is not None

    def district_exists(self, code: str) -> bool:
        return self.db.execute("SELECT 1 FROM regions WHERE code = ? AND level = 3", [code]).fetchone() is not None

    def nik_holder(self, nik: str, exclude_member_id: str | None) -> tuple[str, str] | None:
        row = self.db.execute(
            "SELECT id, household_id FROM members WHERE nik = ? AND deleted = 0 AND id IS NOT ? LIMIT 1",
            [nik, exclude_member_id],
        ).fetchone()
        return (row[0], row[1]) if row else None


def rows(db: Database, sql: str, params: list[Any] | dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = db.execute(sql, params if isinstance(params, dict) else list(params))
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def children(db: Database, entity_name: str, parent_key: str, parent_ids: list[str]) -> list[dict[str, Any]]:
    """Live child records of the given parents, in creation order."""
    if not parent_ids:
        return []
    marks = ", ".join("?" * len(parent_ids))
    found = rows(db, f"SELECT * FROM {entity_name} WHERE {parent_key} IN ({marks}) AND deleted = 0"
                     " ORDER BY created_at, id", parent_ids)
    return [from_db(entity_name, r) for r in found]


@dataclass(frozen=True)
class HouseholdFilter:
    text: str = ""
    villages: tuple[str, ...] = ()
    migration_status: str | None = None  # households with >= 1 member of this status
    has_business: bool | None = None


_SORTABLE = {"head_name": "h.head_name COLLATE NOCASE", "village": "r.name COLLATE NOCASE",
             "visited_on": "h.visited_on", "kk_number": "h.kk_number", "members": "members",
             "businesses": "businesses"}


def _fts_query(text: str) -> str:
    tokens = re.findall(r"\w+", text, flags=re.UNICODE)
    return " ".join(f'"{t}"*' for t in tokens)


def _where(flt: HouseholdFilter) -> tuple[str, list[Any]]:
    clauses, params = ["h.deleted = 0"], []
    if flt.villages:
        clauses.append(f"h.village_code IN ({', '.join('?' * len(flt.villages))})")
        params.extend(flt.villages)
    if flt.text.strip():
        query = _fts_query(flt.text)
        if query:
            clauses.append("h.id IN (SELECT k.household_id FROM household_search s JOIN search_keys k"
                           " ON k.key = s.rowid WHERE household_search MATCH ?)")
            params.append(query)
    if flt.migration_status:
        clauses.append("EXISTS (SELECT 1 FROM members m WHERE m.household_id = h.id AND m.deleted = 0"
                       " AND m.migration_status = ?)")
        params.append(flt.migration_status)
    if flt.has_business is not None:
        clauses.append(("" if flt.has_business else "NOT ") + "EXISTS (SELECT 1 FROM businesses b"
                       " WHERE b.household_id = h.id AND b.deleted = 0)")
    return " AND ".join(clauses), params


def count_households(db: Database, flt: HouseholdFilter) -> int:
    where, params = _where(flt)
    return int(db.execute(f"SELECT count(*) FROM households h WHERE {where}", params).fetchone()[0])


def search_households(db: Database, flt: HouseholdFilter, *, offset: int = 0, limit: int = 100,
                      order_by: str = "head_name", descending: bool = False) -> list[dict[str, Any]]:
    """One page of the household list: id, head name, village, KK, visit date, member/business counts."""
    where, params = _where(flt)
    order = _SORTABLE.get(order_by, _SORTABLE["head_name"]) + (" DESC" if descending else "")
    return rows(
        db,
        "SELECT h.id, h.head_name, h.village_code, r.name AS village, h.kk_number, h.visited_on,"
        " (SELECT count(*) FROM members m WHERE m.household_id = h.id AND m.deleted = 0) AS members,"
        " (SELECT count(*) FROM businesses b WHERE b.household_id = h.id AND b.deleted = 0) AS businesses"
        f" FROM households h LEFT JOIN regions r ON r.code = h.village_code WHERE {where}"
        f" ORDER BY {order}, h.id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )


def entity_counts(db: Database) -> dict[str, int]:
    """Live (not deleted) record counts per entity."""
    return {name: int(db.execute(f"SELECT count(*) FROM {name} WHERE deleted = 0").fetchone()[0])
            for name in ("households", "members", "placements", "businesses")}
