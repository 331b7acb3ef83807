"""The report from the maintained aggregates: the same JSON as ``queries.recompute_report``.

HQ (every village) reads the stored rows of the asked level under the prefix and the prefix's own
row as totals: at most one row per area of that level, whatever the number of households.
Officers and supervisors see only their villages, so a larger area's stored row (which holds
other villages too) is not theirs: their rows are summed from their villages' rows (a
supervisor's regency at most), their medians from those villages' value counts.

The programme figures (issue 15) depend on the asked period: they are computed from the records of
the same scope at each request and set on the rows (``_programme``); programme records are few
beside households. Not ``children_of_pmi``, which would walk every member of the scope: the
aggregates keep each area's children of PMI by birth date, and the count under 18 at the period's
end is one sum over them (``queries.aged_count``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from desmig_desktop.domain import report_spec as spec
from desmig_desktop.domain.report_period import EVERYTHING, Period, adult_cutoff
from desmig_server.aggregates.maintain import MEDIANS, VILLAGE_LEN, catch_up, chunks, median_of
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.reports.queries import AGED, aged_count, check_request, programme_by_code, scope_filters


def aggregated_report(db: Database, *, level: str = "province", prefix: str = "",
                      actor: Principal | None = None, period: Period = EVERYTHING,
                      today: date | None = None) -> dict[str, Any]:
    """``build_report``: see ``desmig_server.reports.queries``.

    Raises:
        ApiError: 422 for a bad level/prefix, 403 when ``prefix`` lies outside the actor's scopes.
    """
    check_request(level, prefix, actor)
    catch_up(db)
    length = spec.LEVELS[level]
    as_of = period.as_of(today)
    with db.read() as conn:
        scoped = actor is not None and actor.scope_condition(t.area_figures.c.code) is not None
        if scoped:
            assert actor is not None
            by_code, totals = _summed(conn, length, prefix, actor, as_of)
        else:
            by_code, totals = _stored(conn, length, prefix)
            _aged(conn, by_code, as_of)
        _programme(by_code, totals, programme_by_code(conn, db.dialect, length, scope_filters(prefix, actor), period,
                                                      today, kept_children=True))
        names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
            t.regions.c.code.in_(sorted(by_code)))).all()) if by_code else {}
    rows = [{"code": code, "name": names.get(code, code), **by_code[code]} for code in sorted(by_code)]
    return {"level": level, "prefix": prefix or None, "period": period.as_json(), "rows": rows, "totals": totals}


def _programme(by_code: dict[str, dict[str, Any]], totals: dict[str, Any],
               programme: dict[str, dict[str, Any]]) -> None:
    """Set the programme figures on the rows (a region without programme records: zeros) and on
    the totals, which are the sum of the rows as on the desktop (regions with a live household)."""
    empty = spec.empty_row()
    for code, row in by_code.items():
        row.update({k: programme.get(code, empty)[k] for k in spec.PROGRAMME_KEYS if k not in AGED})
    summed = spec.add_rows([{k: row[k] for k in spec.PROGRAMME_KEYS} for row in by_code.values()])
    totals.update({k: summed[k] for k in spec.PROGRAMME_KEYS})


def _under(code: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    return (code == prefix) | code.startswith(prefix + ".", autoescape=True)


def _empty_totals() -> dict[str, Any]:
    return spec.finish_row(spec.empty_row())


def _stored(conn: Connection, length: int, prefix: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    a = t.area_figures
    where = [a.c.level_len == length, *([_under(a.c.code, prefix)] if prefix else [])]
    by_code = {code: json.loads(figures) for code, figures in conn.execute(select(a.c.code, a.c.figures).where(*where))}
    own = conn.execute(select(a.c.figures).where(a.c.code == prefix)).scalar()
    return by_code, json.loads(own) if own is not None else _empty_totals()


def _aged(conn: Connection, by_code: dict[str, dict[str, Any]], as_of: date) -> None:
    """Set the ``AGED`` figures of stored rows: their children born after the cutoff and by
    ``as_of`` (or on an unknown day; ``queries.aged_count``), summed in the database (one row per area)."""
    v = t.area_values
    cutoff, day = int(adult_cutoff(as_of).replace("-", "")), int(as_of.strftime("%Y%m%d"))
    for key in AGED:
        found: dict[str, int] = {}
        for chunk in chunks(sorted(by_code)):
            aged = or_(v.c.value == 0, and_(v.c.value > cutoff, v.c.value <= day))
            found.update((code, int(n)) for code, n in conn.execute(
                select(v.c.code, func.sum(v.c.n)).where(v.c.metric == key, v.c.code.in_(chunk), aged)
                .group_by(v.c.code)))
        for code, row in by_code.items():
            row[key] = found.get(code, 0)


def _summed(conn: Connection, length: int, prefix: str, actor: Principal,
            as_of: date) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    a, v = t.area_figures, t.area_values
    mine, my_values = actor.scope_condition(a.c.code), actor.scope_condition(v.c.code)
    assert mine is not None and my_values is not None  # HQ reads the stored rows (``_stored``)
    where = [a.c.level_len == VILLAGE_LEN, mine, *([_under(a.c.code, prefix)] if prefix else [])]
    villages = {code: json.loads(figures) for code, figures in conn.execute(select(a.c.code, a.c.figures).where(*where))}
    counts: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    value_where = [func.length(v.c.code) == VILLAGE_LEN, my_values, *([_under(v.c.code, prefix)] if prefix else [])]
    for code, metric, value, n in conn.execute(select(v.c.code, v.c.metric, v.c.value, v.c.n).where(*value_where)):
        counts[code][metric][int(value)] = int(n)
    groups: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for code, row in villages.items():
        groups[code[:length]][code] = row
    by_code = {code: _combine(group, counts, as_of) for code, group in groups.items()}
    return by_code, _combine(villages, counts, as_of) if villages else _empty_totals()


def _combine(villages: dict[str, dict[str, Any]], counts: dict[str, dict[str, dict[int, int]]],
             as_of: date) -> dict[str, Any]:
    """The figures of a union of villages (medians and ``AGED`` counts from their value counts)."""
    row = spec.add_rows(list(villages.values()))
    row.update(spec.count_areas(villages))
    for metric in MEDIANS:
        merged: dict[int, int] = defaultdict(int)
        for code in villages:
            for value, n in counts.get(code, {}).get(metric.key, {}).items():
                merged[value] += n
        row[metric.key] = median_of(merged)
    for key in AGED:
        row[key] = sum(aged_count(counts.get(code, {}).get(key, {}), as_of) for code in villages)
    return spec.finish_row(row)
