"""The report of ``reports.definition`` as GROUP BY queries over ``records``.

Four grouped queries (households, members, businesses, businesses per KBLI category) keyed by
the scope's code prefix at the requested level; the database does the counting, Python only
assembles at most one dict per region.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, case, distinct, false, func, literal_column, select

from desmig_desktop.domain.reference import is_kemendagri_code
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.json_sql import json_text, json_true
from desmig_server.errors import ApiError, forbidden
from desmig_server.reports.definition import LEVELS, MIGRATION_COUNTS, empty_counts


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _aggregate(conn: Connection, dialect: str, group: ColumnElement[Any] | None,
               filters: list[ColumnElement[bool]]) -> dict[str, dict[str, Any]]:
    """Counts per ``group`` value; with ``group=None`` one row keyed "*" (the totals)."""
    r = t.records.c
    out: dict[str, dict[str, Any]] = {}
    # PostgreSQL refuses a constant in GROUP BY, so totals are an ungrouped query instead.
    key = group if group is not None else literal_column("'*'")

    def grouped(stmt: Select[Any], *extra: ColumnElement[Any]) -> Select[Any]:
        keys = ([group] if group is not None else []) + list(extra)
        return stmt.group_by(*keys) if keys else stmt

    def row(code: str) -> dict[str, Any]:
        return out.setdefault(code, empty_counts())

    def live(entity: str) -> list[ColumnElement[bool]]:
        return [r.entity == entity, r.deleted == false(), *filters]

    for code, n in conn.execute(grouped(select(key, func.count()).where(*live("households")))):
        row(code)["households"] = int(n)

    status = json_text(dialect, r.data, "migration_status")
    member_cols = [_count_if(status == value).label(name) for name, value in MIGRATION_COUNTS.items()]
    for m in conn.execute(grouped(select(key.label("k"), func.count().label("n"), *member_cols)
                                  .where(*live("members")))).mappings():
        target = row(m["k"])
        target["members"] = int(m["n"])
        for name in MIGRATION_COUNTS:
            target[name] = int(m[name])

    ready = _count_if(json_true(dialect, r.data, "export_ready"))
    for code, n, households, n_ready in conn.execute(
            grouped(select(key, func.count(), func.count(distinct(r.parent_id)), ready)
                    .where(*live("businesses")))):
        target = row(code)
        target.update(businesses=int(n), households_with_business=int(households), export_ready=int(n_ready))

    category = json_text(dialect, r.data, "kbli_category")
    for code, cat, n in conn.execute(grouped(select(key, category, func.count())
                                             .where(*live("businesses")), category)):
        by_kbli = row(code)["businesses_by_kbli"]
        if cat in by_kbli:
            by_kbli[cat] = int(n)
    return out


def check_level(level: str, prefix: str) -> None:
    if level not in LEVELS:
        raise ApiError(422, "invalid_request", {"level": f"one of {', '.join(LEVELS)}"})
    if prefix and (not is_kemendagri_code(prefix) or len(prefix) > LEVELS[level]):
        raise ApiError(422, "invalid_request", {"prefix": "a Kemendagri code at or above the report level"})


def build_report(db: Database, *, level: str = "province", prefix: str = "",
                 actor: Principal | None = None) -> dict[str, Any]:
    """The report JSON of DESIGN §6, restricted to ``prefix`` and to ``actor``'s scopes (if any).

    Raises:
        ApiError: 422 for a bad level/prefix, 403 when ``prefix`` lies outside the actor's scopes.
    """
    check_level(level, prefix)
    if actor is not None and not actor.overlaps_prefix(prefix):
        raise forbidden({"prefix": prefix})
    scope = t.records.c.scope
    filters: list[ColumnElement[bool]] = []
    if prefix:
        filters.append((scope == prefix) | scope.startswith(prefix + ".", autoescape=True))
    if actor is not None and (condition := actor.scope_condition(scope)) is not None:
        filters.append(condition)
    with db.read() as conn:
        # The length is inlined: as a bind parameter PostgreSQL would see the SELECT and GROUP BY
        # expressions as different ($1 vs $2) and refuse the query.
        by_code = _aggregate(conn, db.dialect, func.substr(scope, 1, literal_column(str(LEVELS[level]))), filters)
        totals = _aggregate(conn, db.dialect, None, filters).get("*", empty_counts())
        names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
            t.regions.c.code.in_(sorted(by_code)))).all()) if by_code else {}
    rows = [{"code": code, "name": names.get(code, ""), **by_code[code]} for code in sorted(by_code)]
    return {"level": level, "prefix": prefix or None, "rows": rows, "totals": totals}
