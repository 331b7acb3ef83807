"""Data quality per village, and the read-only household view.

What HQ can see and a laptop cannot: households without a head, members whose stored values
carry soft warnings (the laptop saves a record with warnings only once its officer confirmed
them — nothing stores the confirmation itself, so a warning on a stored record *is* a confirmed
one), ops the server rejected whose record no later op fixed, and when each village's officers
last synced. Every query is restricted to the caller's scopes (``Principal.scope_condition``).

Overview figures are GROUP BY queries over a region (at most a regency for supervisors);
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
    """``applied_ops`` rejections not followed by an accepted op on the same record."""
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


def overview(db: Database, actor: Principal, prefix: str = "") -> list[dict[str, Any]]:
    """One row per village in ``actor``'s scopes under ``prefix`` that holds households or has an
    officer: households, without head, open rejections, officers and the last sync (newest first
    by trouble: never synced and oldest sync come first)."""
    r, s = t.records.c, t.user_scopes.c
    now = dt.datetime.now(dt.UTC)
    with db.read() as conn:
        dialect = conn.dialect.name
        counts: dict[str, int] = dict(conn.execute(select(r.scope, func.count()).where(
            r.entity == "households", r.deleted == false(), *_scoped(actor, r.scope, prefix)).group_by(r.scope)).all())
        h, headless = _headless(dialect)
        no_head: dict[str, int] = dict(conn.execute(select(h.c.scope, func.count()).where(
            headless, *_scoped(actor, h.c.scope, prefix)).group_by(h.c.scope)).all())
        a, open_rejections = _rejected_open()
        rec = t.records.alias("rec")
        rejected: dict[str, int] = dict(conn.execute(select(rec.c.scope, func.count()).select_from(a).join(
            rec, and_(rec.c.entity == a.c.entity, rec.c.id == a.c.record_id)).where(
            open_rejections, *_scoped(actor, rec.c.scope, prefix)).group_by(rec.c.scope)).all())
        officers = _officer_sync(conn, _scoped(actor, s.village_code, prefix))
        villages = sorted(set(counts) | set(officers))
        names: dict[str, str] = {}
        for i in range(0, len(villages), 1000):  # bounded IN lists (PostgreSQL caps bind parameters)
            names.update(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
                t.regions.c.code.in_(villages[i:i + 1000]))).all())
    rows = []
    for v in villages:
        people = sorted(officers.get(v, []), key=lambda o: o["username"])
        last = max((o["last_sync"] for o in people if o["last_sync"]), default=None)
        rows.append({"code": v, "name": names.get(v, v), "households": int(counts.get(v, 0)),
                     "without_head": int(no_head.get(v, 0)), "rejected": int(rejected.get(v, 0)),
                     "officers": people, "last_sync": last, "days_since_sync": _days_since(last, now)})
    return rows


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
                                .join(rec, and_(rec.c.entity == a.c.entity, rec.c.id == a.c.record_id))
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
