"""Read-side queries of the local store: lookups for validation, search, counts."""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.store import settings, sync_store
from desmig_desktop.store.records import from_db


def assigned_villages(db: Database) -> frozenset[str] | None:
    """The villages this laptop may record households in; ``None``: no restriction known.

    Once the device is registered, the server's assignment (the scopes of the last ``hello``,
    kept in ``sync_state``); an HQ account is not restricted (its scopes are only where data
    lies). Before registration, the villages chosen in the setup wizard. With neither (nothing
    set up yet) nothing is refused here; the HQ still rejects an op outside the scopes per op.
    """
    if sync_store.state(db, sync_store.K_DEVICE_ID):
        if sync_store.state(db, sync_store.K_ROLE) == "hq":
            return None
        scopes = sync_store.state(db, sync_store.K_SCOPES) or []
        if scopes:
            return frozenset(scopes)
    villages = settings.get(db, "villages") or []
    return frozenset(villages) if villages else None


class StoreLookup:
    """The validation ``Lookup`` backed by the local database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def village_exists(self, code: str) -> bool:
        return self.db.execute("SELECT 1 FROM regions WHERE code = ? AND level = 4", [code]).fetchone() is not None

    @functools.cached_property
    def _assigned(self) -> frozenset[str] | None:
        return assigned_villages(self.db)

    def village_assigned(self, code: str) -> bool:
        return self._assigned is None or code in self._assigned

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
    """Every word of ``text`` as a prefix, all required. Words are runs of letters and digits,
    which the index's tokenizer never splits: each quoted prefix is one token, as an index
    without positions (``detail=none``) requires (``a_b`` would be a two-token phrase)."""
    tokens = re.findall(r"[^\W_]+", text)
    return " ".join(f'"{t}"*' for t in tokens)


def _where(flt: HouseholdFilter, *, scan_villages: bool = False, walk_names: bool = False) -> tuple[str, list[Any]]:
    """The WHERE clause of a filter. ``scan_villages`` keeps the village condition off the
    village index (unary ``+``): for an officer's own villages — nearly the whole table — walking
    that index costs one table lookup per row, several times a plain scan or an ordered walk of
    the name index. ``walk_names`` keeps the text match off any index too: a page in name order
    walks the name index and tests each household's search key against the matching rowids
    (see ``_MANY_MATCHES``)."""
    clauses: list[str] = ["h.deleted = 0"]
    params: list[Any] = []
    if flt.villages:
        column = "+h.village_code" if scan_villages else "h.village_code"
        clauses.append(f"{column} IN ({', '.join('?' * len(flt.villages))})")
        params.extend(flt.villages)
    if flt.text.strip():
        query = _fts_query(flt.text)
        if query and walk_names:
            # Tested per household walked: its key against the matching full-text rowids, a list
            # of integers built without a join (22,745 matches: the whole page 29 → 14 ms).
            clauses.append("(SELECT k.key FROM search_keys k WHERE k.household_id = h.id) IN"
                           " (SELECT rowid FROM household_search WHERE household_search MATCH ?)")
            params.append(query)
        elif query:
            clauses.append("h.id IN (SELECT k.household_id FROM household_search s"
                           " JOIN search_keys k ON k.key = s.rowid WHERE household_search MATCH ?)")
            params.append(query)
    if flt.migration_status:
        clauses.append("EXISTS (SELECT 1 FROM members m WHERE m.household_id = h.id AND m.deleted = 0"
                       " AND m.migration_status = ?)")
        params.append(flt.migration_status)
    if flt.has_business is not None:
        clauses.append(("" if flt.has_business else "NOT ") + "EXISTS (SELECT 1 FROM businesses b"
                       " WHERE b.household_id = h.id AND b.deleted = 0)")
    return " AND ".join(clauses), params


# Above this many text matches, a name-ordered page is found faster by walking the name index
# (testing each household against the matches) than by sorting every match (measured at 100k
# households: 2,238 matches sort in 10 ms vs a 21 ms walk; 5,584 take 20 ms vs 9 ms).
_MANY_MATCHES = 3_000
# The same for a text-only search, whose matches are sorted by the head name kept with the search
# keys (no households row read): measured at 100k households (whole page), 4,131 matches 6.8 ms
# sorted vs 16.5 ms walked, 9,312 matches 11.1 vs 11.5 ms, 14,966 matches 14.5 vs 12.0 ms.
_MANY_TEXT_MATCHES = 10_000


def _text_matches(db: Database, flt: HouseholdFilter) -> int | None:
    """How many live households the text matches (``None`` without text). The full-text index
    holds exactly one row per live household (``SEARCH_ROWS_SQL`` inserts only ``deleted = 0``
    ones and every refresh deletes the old row first), so this needs no join."""
    query = _fts_query(flt.text)
    if not query:
        return None
    # The list asks twice per keystroke (the page, to choose its plan, and the count shown):
    # the last answer is reused while the database is unchanged (same state token).
    token = _state_token(db)
    last = _LAST_MATCHES.get(db)
    if last is not None and last[0] == query and last[1] == token:
        return last[2]
    count = int(db.execute("SELECT count(*) FROM household_search WHERE household_search MATCH ?",
                           [query]).fetchone()[0])
    _LAST_MATCHES[db] = (query, token, count)
    return count


# database handle -> (FTS query, state token, live households it matched) of the last count
_LAST_MATCHES: weakref.WeakKeyDictionary[Database, tuple[str, tuple[int, int], int]] = weakref.WeakKeyDictionary()


def _text_only(flt: HouseholdFilter) -> bool:
    """Whether the filter is a text search alone (no village, status or business condition)."""
    return not (flt.villages or flt.migration_status or flt.has_business is not None)


def count_households(db: Database, flt: HouseholdFilter) -> int:
    if _text_only(flt) and (matches := _text_matches(db, flt)) is not None:
        return matches
    where, params = _where(flt, scan_villages=not _fts_query(flt.text))
    return int(db.execute(f"SELECT count(*) FROM households h WHERE {where}", params).fetchone()[0])


_PAGE_COLUMNS = (
    "h.id, h.head_name, h.village_code, r.name AS village, h.kk_number, h.visited_on,"
    " (SELECT count(*) FROM members m WHERE m.household_id = h.id AND m.deleted = 0) AS members,"
    " (SELECT count(*) FROM businesses b WHERE b.household_id = h.id AND b.deleted = 0) AS businesses"
)
_COUNT_ORDERS = ("members", "businesses")  # sort keys computed per row: the page query needs them


@dataclass(frozen=True)
class _Continuation:
    """Where the last page of a listing ended, and the database state it was read in."""

    offset: int
    head_name: str
    id: str
    token: tuple[int, int]


# database handle -> {(filter, descending): continuation of the last head-name-ordered page read}
_CONTINUATIONS: weakref.WeakKeyDictionary[Database, dict[tuple[HouseholdFilter, bool], _Continuation]] = (
    weakref.WeakKeyDictionary())
_MAX_CONTINUATIONS = 16  # per database handle (one per filter the list was scrolled with)


def _state_token(db: Database) -> tuple[int, int]:
    """Changes when any connection commits (``data_version`` for the others, ``total_changes``
    for this one): an unchanged token means the rows seen by the last page are still there."""
    return int(db.execute("PRAGMA data_version").fetchone()[0]), int(db.conn.total_changes)


def search_households(db: Database, flt: HouseholdFilter, *, offset: int = 0, limit: int = 100,
                      order_by: str = "head_name", descending: bool = False) -> list[dict[str, Any]]:
    """One page of the household list: id, head name, village, KK, visit date, member/business counts.

    The page is chosen first (ids only) and decorated after, so the member and business counts
    are computed for the rows shown, not for every row sorted. When the list is read page after
    page in head-name order (the household list scrolling) and nothing was written in between,
    the next page continues from the last row's (name, id) on the name index instead of skipping
    ``offset`` rows — the same rows, without a cost growing with the offset.
    """
    order_key = order_by if order_by in _SORTABLE else "head_name"
    direction = " DESC" if descending else ""
    order = _SORTABLE[order_key] + direction
    matches = _text_matches(db, flt) if order_key == "head_name" else None
    text_only = _text_only(flt)
    if matches is not None and matches <= _MANY_TEXT_MATCHES and text_only:
        # A few thousand matches of a text-only search: sorted by the head name kept beside each
        # household's search key, reading no households row until the page is chosen.
        chosen = ("SELECT k.household_id FROM household_search s JOIN search_keys k ON k.key = s.rowid"
                  f" WHERE household_search MATCH ? ORDER BY k.head COLLATE NOCASE{direction}, k.household_id"
                  " LIMIT ? OFFSET ?")
        return rows(db, f"SELECT {_PAGE_COLUMNS} FROM households h LEFT JOIN regions r ON r.code = h.village_code"
                        f" WHERE h.id IN ({chosen}) ORDER BY {order}, h.id", [_fts_query(flt.text), limit, offset])
    where, params = _where(flt, scan_villages=matches is None, walk_names=matches is not None and matches > (
        _MANY_TEXT_MATCHES if text_only else _MANY_MATCHES))
    continuations = _CONTINUATIONS.setdefault(db, {})
    cache_key = (flt, descending)
    keyset = None
    if order_key == "head_name" and offset > 0:
        found = continuations.get(cache_key)
        if found is not None and found.offset == offset and found.token == _state_token(db):
            keyset = found
    if keyset is not None:
        # (name, id) after the last row's, written so the name index can seek to it
        bound, after = ("<=", "<") if descending else (">=", ">")
        where += (f" AND h.head_name COLLATE NOCASE {bound} ? AND (h.head_name COLLATE NOCASE {after} ?"
                  " OR h.id > ?)")
        params += [keyset.head_name, keyset.head_name, keyset.id]
        skip = 0
    else:
        skip = offset
    if order_key in _COUNT_ORDERS:
        page_sql = (f"SELECT {_PAGE_COLUMNS} FROM households h LEFT JOIN regions r ON r.code = h.village_code"
                    f" WHERE {where} ORDER BY {order}, h.id LIMIT ? OFFSET ?")
    else:
        join = " LEFT JOIN regions r ON r.code = h.village_code" if order_key == "village" else ""
        page_sql = (f"SELECT {_PAGE_COLUMNS} FROM households h LEFT JOIN regions r ON r.code = h.village_code"
                    f" WHERE h.id IN (SELECT h.id FROM households h{join} WHERE {where} ORDER BY {order}, h.id"
                    f" LIMIT ? OFFSET ?) ORDER BY {order}, h.id")
    found_rows = rows(db, page_sql, [*params, limit, skip])
    if order_key == "head_name":
        last = found_rows[-1] if found_rows else None
        if last is not None and last["head_name"] is not None:
            if len(continuations) >= _MAX_CONTINUATIONS:
                continuations.clear()
            continuations[cache_key] = _Continuation(offset + len(found_rows), str(last["head_name"]),
                                                     str(last["id"]), _state_token(db))
        else:
            continuations.pop(cache_key, None)
    return found_rows


HOUSEHOLD_GRAPH = ("households", "members", "placements", "businesses")


def entity_counts(db: Database, names: Sequence[str] = HOUSEHOLD_GRAPH) -> dict[str, int]:
    """Live (not deleted) record counts per entity: of ``names`` (entities of the questionnaire),
    by default a household and what hangs from it."""
    for name in names:
        ENTITIES[name]  # only known table names reach SQL
    return {name: int(db.execute(f"SELECT count(*) FROM {name} WHERE deleted = 0").fetchone()[0])
            for name in names}


def _in_villages(column: str, villages: list[str] | None) -> tuple[str, list[Any]]:
    if villages is None:
        return "1", []
    return f"{column} IN ({', '.join('?' * len(villages)) or 'NULL'})", list(villages)


def officer_activities(db: Database, villages: list[str] | None, start: str, end: str) -> list[dict[str, Any]]:
    """The live activity log of ``villages`` (``None``: all) held from ``start`` to ``end`` (ISO, both
    counted), oldest first."""
    where, params = _in_villages("village_code", villages)
    found = rows(db, f"SELECT * FROM officer_activities WHERE deleted = 0 AND held_on BETWEEN ? AND ? AND {where}"
                     " ORDER BY held_on, created_at, id", [start, end, *params])
    return [from_db("officer_activities", r) for r in found]


def open_cases(db: Database, villages: list[str] | None, statuses: tuple[str, ...], as_of: str) -> list[dict[str, Any]]:
    """The live services of ``villages`` (``None``: all) whose status is one of ``statuses`` and that
    were served by ``as_of`` (ISO), oldest first: the open cases of ``report_spec``'s ``open_cases``."""
    where, params = _in_villages("village_code", villages)
    marks = ", ".join("?" * len(statuses))
    found = rows(db, f"SELECT * FROM services WHERE deleted = 0 AND status IN ({marks}) AND served_on <= ?"
                     f" AND {where} ORDER BY served_on, created_at, id", [*statuses, as_of, *params])
    return [from_db("services", r) for r in found]
