"""Data quality per village, and the read-only household view.

What HQ can see and a laptop cannot: households without a head, members whose stored values
carry soft warnings (the laptop saves a record with warnings only once its officer confirmed
them — nothing stores the confirmation itself, so a warning on a stored record *is* a confirmed
one), ops the server rejected on a live record that no later op fixed, and when each village's officers
last synced. Every query is restricted to the caller's scopes (``Principal.scope_condition``).

The overview lists every village of a region (a nation: ~50,000) a page at a time, the village
list and household total from the report aggregates, the other counts for the page's villages;
soft warnings need the questionnaire's Python checks, so they are computed on the village page
only (one village's members), never for a whole region.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
)

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.household_checks import HEAD, household_issues
from desmig_desktop.domain.validation import validate
from desmig_server.aggregates.maintain import VILLAGE_LEN, catch_up
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.json_sql import json_text
from desmig_server.errors import ApiError

ACCEPTED = ("ok", "merged", "conflict")  # an op the server took (a later one fixes a rejection)


def _in_region(column: Any, prefix: str) -> Any:
    return literal_column("1") == literal_column("1") if not prefix else or_(
        column == prefix, column.startswith(prefix + ".", autoescape=True))


def _scoped(actor: Principal, column: Any, prefix: str) -> list[Any]:
    where = [_in_region(column, prefix)]
    if (condition := actor.scope_condition(column)) is not None:
        where.append(condition)
    return where


def _headless(dialect: str) -> Any:
    """Live households with no live member whose relationship is the head."""
    h, m = t.records.alias("h"), t.records.alias("m")
    has_head = exists().where(m.c.entity == "members", m.c.deleted == false(), m.c.parent_id == h.c.id,
                              json_text(dialect, m.c.data, "relationship") == HEAD)
    return h, and_(h.c.entity == "households", h.c.deleted == false(), not_(has_head))


def _rejected_open() -> tuple[Any, Any]:
    """``applied_ops`` rejections not followed by an accepted op on the same record (the callers
    join the record and keep live ones only: a deleted record, or one deleted with its household,
    needs no fixing)."""
    a = t.applied_ops.alias("a")
    later = t.applied_ops.alias("later")
    fixed = exists().where(later.c.entity == a.c.entity, later.c.record_id == a.c.record_id,
                           later.c.result.in_(ACCEPTED), later.c.applied_at > a.c.applied_at)
    return a, and_(a.c.result == "rejected", not_(fixed))


def _officer_sync(conn: Connection, where: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Per village (of ``user_scopes.village_code`` matching ``where``): its officers and the newest
    contact of any of their unrevoked devices."""
    s, u, d = t.user_scopes.c, t.users.c, t.devices.c
    rows = conn.execute(
        select(s.village_code, s.username, u.disabled, func.max(d.last_seen).label("last_sync"))
        .join(t.users, u.username == s.username)
        .outerjoin(t.devices, and_(d.username == s.username, d.revoked == false()))
        .where(*where).group_by(s.village_code, s.username, u.disabled)).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r.village_code, []).append({"username": r.username, "disabled": bool(r.disabled),
                                                   "last_sync": r.last_sync})
    return out


def _days_since(iso: str | None, now: dt.datetime) -> int | None:
    if not iso:
        return None
    at = dt.datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    return max(0, (now - at).days)


PAGE_SIZE = 100  # villages per page of the overview: a nation holds ~50,000 with data


@dataclass(frozen=True)
class Overview:
    """One page of the per-village overview; the counts are about every village listed, not only the page."""

    rows: list[dict[str, Any]]
    villages: int
    stale: int
    households: int
    rejected: int


def _age(days: int | None) -> int:
    return 10**6 if days is None else days


def _stale(days: int | None, stale_days: int) -> bool:
    return days is None or days >= stale_days


def overview(db: Database, actor: Principal, prefix: str = "", *, stale_days: int = 14, offset: int = 0,
             limit: int = PAGE_SIZE) -> Overview:
    """The villages in ``actor``'s scopes under ``prefix`` that hold data or have an officer, most
    troubled first (never synced or not for ``stale_days``, then the oldest sync, then by code);
    ``limit`` of them from ``offset`` with households, without head, open rejections, officers and
    the last sync.

    Which villages hold data, and the households of all of them, come from the report aggregates
    (one index-only read of the village codes, the area's own row for the total): a nation is
    ~50,000 villages and a million households, which a GROUP BY over the records (and the
    households-without-head anti-join over the members) cannot serve in a page's time. The
    per-village figures are then counted from the records for the page's villages only.
    """
    r, s, a = t.records.c, t.user_scopes.c, t.area_figures
    now = dt.datetime.now(dt.UTC)
    catch_up(db)  # the village list and the total are as fresh as the records
    with db.read() as conn:
        dialect = conn.dialect.name
        held = [str(c) for c in conn.execute(select(a.c.code).where(
            a.c.level_len == VILLAGE_LEN, *_scoped(actor, a.c.code, prefix))).scalars()]
        officers = _officer_sync(conn, _scoped(actor, s.village_code, prefix))
        last = {v: max((o["last_sync"] for o in officers.get(v, []) if o["last_sync"]), default=None)
                for v in set(held) | set(officers)}
        days = {v: _days_since(at, now) for v, at in last.items()}
        # Never synced before the oldest sync (``or`` would also rank a sync today, 0 days, as never).
        order = sorted(last, key=lambda v: (not _stale(days[v], stale_days), -_age(days[v]), v))
        page = order[offset:offset + limit]
        a_ops, open_rejections = _rejected_open()
        rec = t.records.alias("rec")
        rejected: dict[str, int] = dict(conn.execute(select(rec.c.scope, func.count()).select_from(a_ops).join(
            rec, and_(rec.c.entity == a_ops.c.entity, rec.c.id == a_ops.c.record_id, rec.c.deleted == false())).where(
            open_rejections, *_scoped(actor, rec.c.scope, prefix)).group_by(rec.c.scope)).all())
        counts: dict[str, int] = {}
        no_head: dict[str, int] = {}
        names: dict[str, str] = {}
        if page:
            counts = dict(conn.execute(select(r.scope, func.count()).where(
                r.entity == "households", r.deleted == false(), r.scope.in_(page)).group_by(r.scope)).all())
            h, headless = _headless(dialect)
            no_head = dict(conn.execute(select(h.c.scope, func.count()).where(
                headless, h.c.scope.in_(page)).group_by(h.c.scope)).all())
            names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
                t.regions.c.code.in_(page))).all())
        households = _households(conn, actor, prefix, held)
    rows = []
    for v in page:
        people = sorted(officers.get(v, []), key=lambda o: o["username"])
        rows.append({"code": v, "name": names.get(v, v), "households": int(counts.get(v, 0)),
                     "without_head": int(no_head.get(v, 0)), "rejected": int(rejected.get(v, 0)),
                     "officers": people, "last_sync": last[v], "days_since_sync": days[v],
                     "stale": _stale(days[v], stale_days)})
    return Overview(rows, len(order), sum(1 for v in order if _stale(days[v], stale_days)), households,
                    sum(rejected.get(v, 0) for v in order))


def _households(conn: Connection, actor: Principal, prefix: str, held: list[str]) -> int:
    """Live households of the villages ``held`` (all of the caller's under ``prefix``): the area's
    stored row for HQ, the sum of the villages' rows for a caller with scopes (a regency at most)."""
    a = t.area_figures
    if actor.scope_condition(a.c.code) is None:
        own = conn.execute(select(a.c.figures).where(a.c.code == prefix)).scalar()
        return int(json.loads(own)["households"]) if own is not None else 0
    total = 0
    for i in range(0, len(held), 1000):  # bounded IN lists (PostgreSQL caps bind parameters)
        total += sum(int(json.loads(f)["households"]) for f in conn.execute(select(a.c.figures).where(
            a.c.code.in_(held[i:i + 1000]))).scalars())
    return total


@dataclass(frozen=True)
class Warning:
    entity: str
    record_id: str
    household_id: str
    name: str
    field: str
    message: str


def _live(conn: Connection, entity: str, where: Any) -> list[dict[str, Any]]:
    r = t.records.c
    rows = conn.execute(select(r.id, r.parent_id, r.data, r.updated_at, r.updated_by).where(
        r.entity == entity, r.deleted == false(), where).order_by(r.id)).all()
    return [{**json.loads(x.data), "id": x.id, "_parent": x.parent_id, "_updated_at": x.updated_at,
             "_updated_by": x.updated_by} for x in rows]


def village(db: Database, actor: Principal, code: str) -> dict[str, Any]:
    """One village's households (with head and warning counts), the members' confirmed warnings,
    the open rejections of its records and its officers. 404 outside the caller's scopes."""
    if not actor.can_access(code):
        raise ApiError(404, "not_found", "no such village")
    r = t.records.c
    with db.read() as conn:
        households = _live(conn, "households", r.scope == code)
        members = _live(conn, "members", r.scope == code)
        a, open_rejections = _rejected_open()
        rec = t.records.alias("rec")
        rejected = conn.execute(select(a.c.entity, a.c.record_id, a.c.reason, a.c.applied_at, t.devices.c.username)
                                .join(rec, and_(rec.c.entity == a.c.entity, rec.c.id == a.c.record_id,
                                                rec.c.deleted == false()))
                                .join(t.devices, t.devices.c.device_id == a.c.device_id)
                                .where(open_rejections, rec.c.scope == code).order_by(a.c.applied_at)).all()
        officers = _officer_sync(conn, [t.user_scopes.c.village_code == code]).get(code, [])
    by_household: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        by_household.setdefault(m["_parent"], []).append(m)
    warnings: list[Warning] = []
    for m in members:
        clean = {k: v for k, v in m.items() if not k.startswith("_") and k != "id" and ENTITIES["members"].has(k)}
        for issue in validate("members", clean, record_id=m["id"]).warnings:
            warnings.append(Warning("members", m["id"], m["_parent"], m.get("name") or "", issue.field, issue.message))
    names = {m["id"]: m.get("name") or "" for m in members}
    for hh in households:
        for gi in household_issues(hh["id"], by_household.get(hh["id"], [])):
            who = names.get(gi.record_id, hh.get("head_name") or "")
            warnings.append(Warning(gi.entity, gi.record_id, hh["id"], who, gi.field, gi.message))
    rows = []
    for hh in sorted(households, key=lambda x: (x.get("head_name") or "", x["id"])):
        people = by_household.get(hh["id"], [])
        rows.append({"id": hh["id"], "head_name": hh.get("head_name") or "", "members": len(people),
                     "has_head": any(p.get("relationship") == HEAD for p in people),
                     "warnings": sum(1 for w in warnings if w.household_id == hh["id"]),
                     "updated_at": hh["_updated_at"], "updated_by": hh["_updated_by"]})
    return {"households": rows, "warnings": warnings, "officers": officers,
            "rejected": [dict(x._mapping) for x in rejected]}


def household(db: Database, actor: Principal, household_id: str) -> dict[str, Any]:
    """A live household with its live members, placements and businesses; 404 when unknown,
    deleted or outside the caller's scopes (one answer for all three)."""
    r = t.records.c
    with db.read() as conn:
        row = conn.execute(select(r.scope, r.data, r.version, r.updated_at, r.updated_by).where(
            r.entity == "households", r.id == household_id, r.deleted == false())).first()
        if row is None or not actor.can_access(row.scope):
            raise ApiError(404, "not_found", "no such household")
        members = _live(conn, "members", and_(r.parent_id == household_id, r.scope == row.scope))
        ids = [m["id"] for m in members]
        placements = _live(conn, "placements", r.parent_id.in_(ids)) if ids else []
        businesses = _live(conn, "businesses", and_(r.parent_id == household_id, r.scope == row.scope))
        name = conn.execute(select(t.regions.c.name).where(t.regions.c.code == row.scope)).scalar()
    return {"id": household_id, "scope": row.scope, "village_name": name or row.scope,
            "data": json.loads(row.data), "version": int(row.version), "updated_at": row.updated_at,
            "updated_by": row.updated_by, "members": members, "placements": placements, "businesses": businesses}
