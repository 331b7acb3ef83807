"""The same NIK held by members of different households: the cross-officer check only HQ can make.

A laptop warns when a NIK is already used in *its* database (its officer's villages); HQ holds
every village, so it lists every NIK held by live members of two or more different households —
whatever the villages or officers (the flags say which differ). A NIK identifies one person, and
one person belongs to one household (one No. KK), so each entry is a record to correct; the laptop
warning may have been confirmed by an officer who could not see the other household.

**Scope.** HQ sees every entry. A supervisor sees an entry when at least one of its households is
in their regency; households outside it are shown only as "outside your area" — no village,
regency, name, officer or id — since naming where else a person is registered would disclose
records of another regency. HQ, who sees both sides, resolves such cases.

**Privacy.** NIKs are masked (``3201********0001``) unless the caller asks for full values; the web
page never does (``FULL_NIK_ROLES`` is empty: SECURITY.md "HQ analysts get counts through
reports"), the CLI does only with ``--full-nik`` (its user already holds the database). The
officer of a holder is the user whose device last set the member's NIK (``fmeta``), i.e. who
entered it.

**Cost.** HQ's list is about every member: it reads ``member_niks`` (migration 15), the NIK of
every live member kept by the aggregates' catch-up (``aggregates.niks``), in the order of its
(nik, household_id) index, so no member's JSON is parsed; the page catches up first, like the
reports, so the list is never behind a committed push. A supervisor's list reads the NIKs of its
regency's members, then looks them up in the partial index ``ix_records_member_nik``
(migration 8): ~0.2 s for a regency on a shared 2-core machine. The holders of the page shown are
one more index lookup in ``records``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from desmig_desktop.domain.privacy import mask_identifiers
from desmig_server.aggregates.maintain import catch_up
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.json_sql import json_text, live_members, member_nik
from desmig_server.sync.state import STATE_KEY, decode_fmeta

FULL_NIK_ROLES: frozenset[str] = frozenset()  # dashboard roles that may see whole NIKs on the web page
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class DuplicatePage:
    """One page of the list: ``entries`` in NIK order, ``total`` entries in the caller's scope."""

    entries: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    def as_json(self) -> dict[str, Any]:
        return {"duplicates": self.entries, "total": self.total, "limit": self.limit, "offset": self.offset,
                "more": self.offset + len(self.entries) < self.total}


def find_duplicates(db: Database, actor: Principal, *, limit: int = DEFAULT_LIMIT, offset: int = 0,
                    full_nik: bool = False) -> DuplicatePage:
    """NIKs held in two or more live households that ``actor`` may see (see the module docstring)."""
    if actor.scope_condition(t.records.c.scope) is None:
        catch_up(db)  # HQ's list reads member_niks
    with db.read() as conn:
        niks = _duplicated_niks(conn, actor)
        page = niks[offset:offset + limit]
        holders = _holders(conn, page)
        officers = _officers(conn, {_nik_device(row.fmeta) for rows in holders.values() for row in rows})
        entries = [_entry(nik, holders.get(nik, []), actor, full_nik, officers) for nik in page]
        _name_places(conn, entries)
    return DuplicatePage(entries, len(niks), limit, offset)


_CHUNK = 500


def duplicated_niks_query(dialect: str, actor: Principal, niks: list[str] | None = None) -> Select[Any]:
    """The NIKs held by live members of two or more households, in NIK order.

    HQ (``niks`` None) asks about every member: ``member_niks`` in the order of its (nik,
    household_id) index, households compared with ``min <> max`` (as ``count(DISTINCT) > 1``, but
    without a sort per group). A supervisor asks about ``niks`` — the NIKs its members hold — and
    each is looked up in the NIK index of ``records``.
    """
    if niks is None:
        m = t.member_niks
        return (select(m.c.nik).group_by(m.c.nik)
                .having(func.min(m.c.household_id) != func.max(m.c.household_id)).order_by(m.c.nik))
    r = t.records
    nik = member_nik(dialect, r)
    query = select(nik).where(live_members(r, by_nik_on=dialect), nik.in_(niks))
    return (query.group_by(nik).having(and_(nik.is_not(None), func.min(r.c.parent_id) != func.max(r.c.parent_id)))
            .order_by(nik))


def scope_niks_query(dialect: str, actor: Principal) -> Select[Any]:
    """The distinct NIKs of the live members in ``actor``'s scope (not for HQ)."""
    r = t.records
    mine = actor.scope_condition(r.c.scope)
    assert mine is not None, "HQ has no scope to start from"
    nik = member_nik(dialect, r)
    return select(nik).where(live_members(r), mine, nik.is_not(None)).distinct()


def holders_query(dialect: str, niks: list[str]) -> Select[Any]:
    """The live members holding any of ``niks``."""
    r = t.records
    nik = member_nik(dialect, r)
    return (select(nik.label("nik"), r.c.id, r.c.parent_id, r.c.scope, r.c.data, r.c.fmeta, r.c.updated_at)
            .where(live_members(r, by_nik_on=dialect), nik.in_(niks)).order_by(r.c.scope, r.c.parent_id, r.c.id))


def _duplicated_niks(conn: Connection, actor: Principal) -> list[str]:
    dialect = conn.dialect.name
    if actor.scope_condition(t.records.c.scope) is None:
        return [row[0] for row in conn.execute(duplicated_niks_query(dialect, actor))]
    # Two steps rather than one join: with one, PostgreSQL's estimate of how many members share a
    # NIK makes it hash every member's NIK instead of looking the regency's few up in the index.
    mine = sorted(conn.execute(scope_niks_query(dialect, actor)).scalars())
    found: list[str] = []
    for start in range(0, len(mine), _CHUNK):
        found.extend(conn.execute(duplicated_niks_query(dialect, actor, mine[start:start + _CHUNK])).scalars())
    return sorted(found)


def _holders(conn: Connection, niks: list[str]) -> dict[str, list[Any]]:
    if not niks:
        return {}
    found: dict[str, list[Any]] = {}
    for row in conn.execute(holders_query(conn.dialect.name, niks)):
        found.setdefault(row.nik, []).append(row)
    return found


def _nik_device(fmeta: str) -> str | None:
    """The device that last set the member's NIK (or created the record)."""
    meta = decode_fmeta(fmeta)
    entry = meta.get("nik") or meta.get(STATE_KEY)
    return str(entry[1]) if entry else None


def _officers(conn: Connection, devices: set[str | None]) -> dict[str, str]:
    wanted = sorted(d for d in devices if d)
    if not wanted:
        return {}
    return dict(conn.execute(select(t.devices.c.device_id, t.devices.c.username)
                             .where(t.devices.c.device_id.in_(wanted))).all())


def _entry(nik: str, rows: list[Any], actor: Principal, full_nik: bool, officers: dict[str, str]) -> dict[str, Any]:
    holders: list[dict[str, Any]] = []
    who = {row.id: officers.get(_nik_device(row.fmeta) or "") for row in rows}
    for row in rows:
        if not actor.can_access(row.scope):
            holders.append({"outside_scope": True})
            continue
        data = json.loads(row.data)
        holders.append({"outside_scope": False, "member_id": row.id, "household_id": row.parent_id,
                        "village_code": row.scope, "name": data.get("name"), "relationship": data.get("relationship"),
                        "officer": who[row.id], "updated_at": row.updated_at})
    return {"nik": nik if full_nik else mask_identifiers(nik), "households": len({row.parent_id for row in rows}),
            "villages_differ": len({row.scope for row in rows}) > 1, "officers_differ": len(set(who.values())) > 1,
            "holders": holders}


def _name_places(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Village names and head-of-household names of the holders shown."""
    shown = [h for e in entries for h in e["holders"] if not h["outside_scope"]]
    if not shown:
        return
    villages = sorted({h["village_code"] for h in shown})
    names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(villages))).all())
    r = t.records
    households = sorted({h["household_id"] for h in shown})
    heads = dict(conn.execute(select(r.c.id, json_text(conn.dialect.name, r.c.data, "head_name"))
                              .where(r.c.entity == "households", r.c.id.in_(households))).all())
    for h in shown:
        h["village_name"] = names.get(h["village_code"])
        h["head_name"] = heads.get(h["household_id"])
