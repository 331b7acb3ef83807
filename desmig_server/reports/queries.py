"""The report of ``desmig_desktop.domain.report_spec`` as SQL over ``records`` (SQLite and PostgreSQL).

The same declarations as the desktop's ``services.reports``, over JSON data instead of typed
columns: one grouped query per entity for the plain figures, one per breakdown, one window query
per median (``row_number()``/``count()`` over the region, then the middle one or two values).
``totals`` adds the rows' additive figures (regions never overlap), counts the areas holding
data from the rows (``report_spec.count_areas``) and runs the median queries again grouped by an
empty code prefix: a median of the whole is not a sum of the parts. The database does the
counting; Python only assembles at most one dict per region.

That full recomputation (``recompute_report``) reads every record: it is the definition, and what
the maintained aggregates (``desmig_server.aggregates``) are verified against. ``build_report``,
what the API, the dashboard and the CLI call, reads those aggregates instead (one row per area),
with the programme figures (issue 15) computed from the records for the asked period
(``programme_by_code``): the aggregates hold one value per area, and an activity figure depends on
the period and a stock on its end (a child turns 18 without any record changing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    FromClause,
    and_,
    case,
    cast,
    distinct,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)

from desmig_desktop.domain import report_spec as spec
from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.programme import CHILD_OF_PMI, PMI_ACTIVE
from desmig_desktop.domain.reference import is_kemendagri_code
from desmig_desktop.domain.report_period import EVERYTHING, Period, adult_cutoff, days_before
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.json_sql import json_text, json_true
from desmig_server.errors import ApiError, forbidden

Agg = spec.Aggregate


# How a query reads a field: as text, as a whole number, or as "is the JSON literal true" (0/1).
TEXT, NUMBER, TRUE = "text", "number", "true"


class _Source:
    """One row per live record of an entity (with live ancestors): its household's code prefix, its
    household's village (``scope``, when an area count needs it) and the fields a query needs
    (its own or an ancestor's), each taken out of the JSON once.

    The extraction sits in a subquery behind ``OFFSET 0``, which neither SQLite nor PostgreSQL
    flattens into the aggregate above it, so a field used by three figures is parsed once per row,
    not three times (PostgreSQL re-parses the text into JSONB at every use: 3x on members).
    """

    def __init__(self, dialect: str, entity_name: str, length: int, filters: list[Any],
                 fields: set[tuple[str, str, str]], *, with_scope: bool = False, period: Period = EVERYTHING,
                 today: date | None = None, kept_children: bool = False) -> None:
        self.entity = entity_name
        self.kept_children = kept_children
        self.dialect = dialect
        self.period = period
        self.as_of = period.as_of(today)
        e = t.records.alias("e")
        joined: FromClause = e
        child = e
        data = {entity_name: e.c.data}
        for depth, (_key, parent) in enumerate(spec.ancestors(entity_name)):
            alias = t.records.alias(f"a{depth}")
            joined = joined.join(alias, and_(alias.c.entity == parent, alias.c.id == child.c.parent_id,
                                             alias.c.deleted == false()))
            child = alias
            data[parent] = alias.c.data
        scope = child.c.scope
        cols: list[ColumnElement[Any]] = [func.substr(scope, 1, length).label("code")]
        if with_scope:
            cols.append(scope.label("scope"))
        for owner, key, how in sorted(fields):
            if owner == entity_name and key in ("id", "parent_id"):
                cols.append(e.c[key].label(_label(entity_name, owner, key, how)))
                continue
            if owner not in data or not ENTITIES[owner].has(key):  # keys come from the spec, never from input
                raise ValueError(f"{entity_name} reads no field {key!r} of {owner}")
            value: ColumnElement[Any] = json_text(dialect, data[owner], key)
            if how == NUMBER:
                value = cast(value, BigInteger)
            elif how == TRUE:
                value = case((json_true(dialect, data[owner], key), 1), else_=0)
            cols.append(value.label(_label(entity_name, owner, key, how)))
        self.rows = (select(*cols).select_from(joined)
                     .where(e.c.entity == entity_name, e.c.deleted == false(), *(f(scope) for f in filters))
                     .offset(0).subquery("s"))
        self.code = self.rows.c.code

    def col(self, key: str, how: str = TEXT, of: str | None = None) -> ColumnElement[Any]:
        return self.rows.c[_label(self.entity, of or self.entity, key, how)]

    def condition(self, metric: spec.Metric) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if metric.dated:
            day = self.col(metric.dated, of=metric.dated_of)
            start, end = self.period.bounds()
            if start is not None and not metric.stock:
                parts.append(day >= start)
            if end is not None:
                parts.append(day <= end)
        if metric.child_of_pmi == "id" and metric.entity == "members":  # the member itself, household live
            parts.append(is_child_of_pmi(self.dialect, self.col("relationship"), self.col("birth_date"),
                                         self.col("migration_status"), self.col("parent_id"),
                                         self.as_of))
        elif metric.child_of_pmi:
            parts.append(kept_child_of_pmi(self.col(metric.child_of_pmi), self.as_of) if self.kept_children
                         else child_of_pmi(self.dialect, self.col(metric.child_of_pmi), self.as_of))
        for where in metric.where:
            if where.one_of:
                parts.append(self.col(where.field, of=where.of).in_(where.one_of))
            elif where.absent:
                parts.append(self.col(where.field, of=where.of).is_(None))
            elif where.value is None:
                parts.append(self.col(where.field, of=where.of).is_not(None))
            elif where.value is True:
                parts.append(self.col(where.field, TRUE, where.of) == 1)
            else:
                parts.append(self.col(where.field, of=where.of) == where.value)
        return and_(true(), *parts)


def child_of_pmi(dialect: str, member: ColumnElement[Any], as_of: date) -> ColumnElement[bool]:
    """Whether the member whose id is ``member`` is a child of PMI (``domain.programme.CHILD_OF_PMI``):
    found by its primary key, in a live household, and ``is_child_of_pmi`` of it."""
    r = t.records
    c, h = r.alias("c"), r.alias("ch")
    joined = c.join(h, and_(h.c.entity == "households", h.c.id == c.c.parent_id, h.c.deleted == false()))
    return exists(select(literal_column("1")).select_from(joined).where(
        c.c.entity == "members", c.c.id == member, c.c.deleted == false(),
        is_child_of_pmi(dialect, json_text(dialect, c.c.data, "relationship"),
                        json_text(dialect, c.c.data, "birth_date"), json_text(dialect, c.c.data, "migration_status"),
                        c.c.parent_id, as_of)))


def kept_child_of_pmi(member: ColumnElement[Any], as_of: date) -> ColumnElement[bool]:
    """``child_of_pmi`` read from ``pmi_children`` (kept by the aggregates' catch-up, which the
    caller ran first): the member is there, and under 18 on ``as_of`` and born by then when its
    birth date is known. One primary-key probe per row instead of the households of the nation."""
    k = t.pmi_children
    born = k.c.birth_date
    return exists(select(literal_column("1")).where(
        k.c.member_id == member,
        or_(born.is_(None), and_(born > adult_cutoff(as_of), born <= as_of.isoformat()))))


def is_child_of_pmi(dialect: str, relationship: ColumnElement[Any], born: ColumnElement[Any],
                    status: ColumnElement[Any], household: ColumnElement[Any],
                    as_of: date | None, within: Sequence[str] | None = None) -> ColumnElement[bool]:
    """A member with these columns is a child of PMI (``domain.programme.children_of_pmi``, from its
    table ``CHILD_OF_PMI``), under 18 on ``as_of`` and born by then when the birth date is known
    (``None``: whatever the age), not PMI
    aktif itself: the desktop's ``is_child_of_pmi``. Its household is looked for in an uncorrelated ``IN`` list of
    the households holding a PMI aktif of the right relationship, which SQLite and PostgreSQL
    build once per query (a PMI looked up per member made SQLite walk every member each time:
    15 s for 8,000 members). The PMI is never the member itself: no relationship is on both sides.
    ``within``: village codes that hold every member asked about — the list is then built from
    those villages only (a member's PMI parent is of its household, so of its village).
    """
    r = t.records

    def households_with_pmi(relationships: tuple[str, ...]) -> Any:
        p = r.alias("p")
        found = select(p.c.parent_id).where(
            p.c.entity == "members", p.c.deleted == false(),
            json_text(dialect, p.c.data, "migration_status") == PMI_ACTIVE,
            json_text(dialect, p.c.data, "relationship").in_(relationships))
        return found if within is None else found.where(p.c.scope.in_(list(within)))

    return and_(true() if as_of is None else or_(born.is_(None), and_(born > adult_cutoff(as_of),
                                                                        born <= as_of.isoformat())),
                or_(status.is_(None), status != PMI_ACTIVE),
                or_(*(and_(relationship == child, household.in_(households_with_pmi(parents)))
                      for child, parents in CHILD_OF_PMI.items())))


def _label(entity_name: str, owner: str, key: str, how: str) -> str:
    return f"{how}_{key}" if owner == entity_name else f"{how}_{owner}__{key}"


def _fields(metrics: tuple[spec.Metric, ...]) -> set[tuple[str, str, str]]:
    """The (entity, field, how) triples some of ``metrics`` read."""
    out: set[tuple[str, str, str]] = set()
    for m in metrics:
        spec.condition_entities(m)  # only ancestors, which ``_Source`` joins
        for where in m.where:
            if isinstance(where.value, bool) and where.value is not True:
                raise ValueError("a report condition on a yes/no field must be True")
            out.add((where.of or m.entity, where.field, TRUE if where.value is True else TEXT))
        if m.dated:
            out.add((m.dated_of or m.entity, m.dated, TEXT))
        if m.child_of_pmi == "id" and m.entity == "members":
            out.update((m.entity, key, TEXT) for key in ("relationship", "birth_date", "migration_status", "parent_id"))
        elif m.child_of_pmi:
            out.add((m.entity, m.child_of_pmi, TEXT))
        if m.distinct:
            out.add((m.distinct_of or m.entity, m.distinct, TEXT))
        if m.field:
            out.add((m.entity, m.field, NUMBER if m.aggregate in (Agg.SUM, Agg.MEDIAN) else TEXT))
    return out


def _source(dialect: str, length: int, filters: list[Any], *metrics: spec.Metric, period: Period = EVERYTHING,
            today: date | None = None, kept_children: bool = False) -> _Source:
    return _Source(dialect, metrics[0].entity, length, filters, _fields(metrics),
                   with_scope=any(m.aggregate is Agg.AREAS for m in metrics), period=period, today=today,
                   kept_children=kept_children)


def _plain(conn: Connection, src: _Source, metrics: tuple[spec.Metric, ...], length: int,
           out: dict[str, dict[str, Any]]) -> None:
    cols: list[ColumnElement[Any]] = []
    for m in metrics:
        cond = src.condition(m)
        if m.aggregate is Agg.AREAS and spec.LEVELS[m.level or ""] <= length:
            cols.append(literal_column("1").label(m.key))  # the row's own area, or one above it
        elif m.aggregate is Agg.AREAS:
            area = func.substr(src.rows.c.scope, 1, spec.LEVELS[m.level or ""])
            cols.append(func.count(distinct(case((cond, area)))).label(m.key))
        elif m.aggregate is Agg.COUNT:
            cols.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(m.key))
        elif m.aggregate is Agg.COUNT_DISTINCT:
            cols.append(func.count(distinct(case((cond, src.col(m.distinct or "", of=m.distinct_of))))).label(m.key))
        else:
            cols.append(func.coalesce(func.sum(case((cond, src.col(m.field or "", NUMBER)))), 0).label(m.key))
    for r in conn.execute(select(src.code, *cols).group_by(src.code)).mappings():
        row = out.setdefault(r["code"], spec.empty_row())
        row.update({m.key: int(r[m.key]) for m in metrics})  # PostgreSQL sums are Decimal


def _breakdowns(conn: Connection, src: _Source, metric: spec.Metric, out: dict[str, dict[str, Any]]) -> None:
    value = src.col(metric.field or "")
    if metric.aggregate is Agg.AGE_BY:  # the band of the days from ``field`` to the period's end
        value = case(*((value > days_before(src.as_of, days), key) for days, key in zip(metric.bands, metric.keys)),
                     else_=metric.keys[-1])
    counted = (func.count() if metric.aggregate in (Agg.COUNT_BY, Agg.AGE_BY)
               else func.count(distinct(src.col(metric.distinct or ""))))
    stmt = select(src.code, value, counted).where(src.condition(metric)).group_by(src.code, value)
    for code, key, n in conn.execute(stmt):
        spec.add_count_by(out.setdefault(code, spec.empty_row()), metric, key, n)


def _median(conn: Connection, src: _Source, metric: spec.Metric, out: dict[str, dict[str, Any]]) -> None:
    x = src.col(metric.field or "", NUMBER)
    ranked = (select(src.code, x.label("x"),
                     func.row_number().over(partition_by=src.code, order_by=x).label("rn"),
                     func.count().over(partition_by=src.code).label("cnt"))
              .where(x.is_not(None), src.condition(metric)).subquery("r"))
    n = func.count()
    middle = select(ranked.c.code, (cast(func.sum(ranked.c.x), BigInteger) + n // 2) // n).where(
        2 * ranked.c.rn >= ranked.c.cnt, 2 * ranked.c.rn <= ranked.c.cnt + 2).group_by(ranked.c.code)
    for code, value in conn.execute(middle):
        out.setdefault(code, spec.empty_row())[metric.key] = int(value)


def value_counts(conn: Connection, dialect: str, length: int, filters: list[Any],
                 metric: spec.Metric) -> dict[str, dict[int, int]]:
    """The multiset a MEDIAN ``metric`` is taken over, per scope prefix of ``length``:
    ``{code: {value: records}}`` (the aggregates keep it so a median of a union stays exact).

    For ``children_of_pmi`` (``AGED``): the children of PMI of any age by birth date as the number
    ``YYYYMMDD`` (0: not known), from which the count under 18 on any day is one sum (``aged_count``).
    """
    src = _source(dialect, length, filters, metric)
    if metric.key in AGED:
        born = src.col("birth_date")
        digits = func.replace(born, literal_column("'-'"), literal_column("''"))  # literals: one GROUP BY text
        x: ColumnElement[Any] = func.coalesce(cast(digits, BigInteger), literal_column("0"))
        condition = is_child_of_pmi(dialect, src.col("relationship"), born, src.col("migration_status"),
                                    src.col("parent_id"), None)
    else:
        x = src.col(metric.field or "", NUMBER)
        condition = and_(x.is_not(None), src.condition(metric))
    out: dict[str, dict[int, int]] = {}
    stmt = select(src.code, x, func.count()).where(condition).group_by(src.code, x)
    for code, value, n in conn.execute(stmt):
        out.setdefault(code, {})[int(value)] = int(n)
    return out


# Programme figures the aggregates keep as a multiset of birth dates (``value_counts``), not
# recomputed from the records per request: a national page would walk every member.
AGED: tuple[str, ...] = ("children_of_pmi",)


def aged_count(counts: dict[int, int], as_of: date) -> int:
    """Children of ``counts`` (birth date ``YYYYMMDD`` → children; 0: unknown) under 18 on ``as_of``
    and born by then (``domain.programme.children_of_pmi``)."""
    cutoff, day = int(adult_cutoff(as_of).replace("-", "")), int(as_of.strftime("%Y%m%d"))
    return sum(n for value, n in counts.items() if value == 0 or cutoff < value <= day)


def figures_by_code(conn: Connection, dialect: str, length: int, filters: list[Any]) -> dict[str, dict[str, Any]]:
    """Every figure but the programme ones per scope prefix of ``length``, recomputed from the
    records (regions with a live household only); ``filters`` restrict the household's scope.
    What the aggregates store: the programme figures depend on a period (``programme_by_code``)."""
    return {code: _without_programme(row) for code, row in _aggregate(conn, dialect, length, filters,
                                                                      programme=False).items()}


def programme_by_code(conn: Connection, dialect: str, length: int, filters: list[Any], period: Period,
                      today: date | None = None, *, kept_children: bool = False) -> dict[str, dict[str, Any]]:
    """The programme figures per scope prefix of ``length``, from the records: activities in
    ``period``, stocks at its end (else ``today``). Every code holding a programme record has a
    row; the report keeps those of regions with a live household. Not the ``AGED`` figures: the
    aggregates keep those. ``kept_children``: "child of PMI" read from ``pmi_children`` (the
    aggregated report, after its catch-up), not decided from the records (the recomputation)."""
    out = _aggregate(conn, dialect, length, filters, programme=True, period=period, today=today, every_code=True,
                     exclude=AGED, kept_children=kept_children)
    return {code: {k: row[k] for k in spec.PROGRAMME_KEYS if k not in AGED} for code, row in out.items()}


def _without_programme(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in spec.PROGRAMME_KEYS}


def _aggregate(conn: Connection, dialect: str, length: int, filters: list[Any], *,
               medians_only: bool = False, programme: bool | None = None, period: Period = EVERYTHING,
               today: date | None = None, every_code: bool = False,
               exclude: tuple[str, ...] = (), kept_children: bool = False) -> dict[str, dict[str, Any]]:
    """Every metric per scope prefix of ``length`` (0: one row keyed ""); only the medians if asked,
    only the programme figures or only the others if ``programme`` says so, none of ``exclude``."""
    out: dict[str, dict[str, Any]] = {}
    for entity_name in () if medians_only else spec.entities():
        metrics = tuple(m for m in spec.metrics_of(entity_name, Agg.COUNT, Agg.COUNT_DISTINCT, Agg.SUM, Agg.AREAS,
                                                   programme=programme) if m.key not in exclude)
        if metrics:
            _plain(conn, _source(dialect, length, filters, *metrics, period=period, today=today,
                                 kept_children=kept_children), metrics, length, out)
    for metric in spec.METRICS:
        if programme is not None and metric.programme != programme:
            continue
        if metric.is_map and not medians_only:
            _breakdowns(conn, _source(dialect, length, filters, metric, period=period, today=today), metric, out)
        elif metric.aggregate is Agg.MEDIAN:
            _median(conn, _source(dialect, length, filters, metric), metric, out)
    if medians_only or every_code:
        return out
    # A region exists in the report only if it has a live household.
    return {code: spec.finish_row(row) for code, row in out.items() if row["households"]}


def check_request(level: str, prefix: str, actor: Principal | None) -> None:
    """A report request's level and prefix are valid and ``prefix`` overlaps ``actor``'s scopes
    (422 / 403), the same for the aggregates and the recomputation."""
    if level not in spec.LEVELS:
        raise ApiError(422, "invalid_request", {"level": f"one of {', '.join(spec.LEVELS)}"})
    if prefix and (not is_kemendagri_code(prefix) or not spec.valid_prefix(level, prefix)):
        raise ApiError(422, "invalid_request", {"prefix": "a Kemendagri code at or above the report level"})
    if actor is not None and not actor.overlaps_prefix(prefix):
        raise forbidden({"prefix": prefix})


def build_report(db: Database, *, level: str = "province", prefix: str = "",
                 actor: Principal | None = None, period: Period = EVERYTHING,
                 today: date | None = None) -> dict[str, Any]:
    """The report JSON of ``report_spec`` (DESIGN §6 and its later keys), restricted to ``prefix`` and ``actor``'s scopes,
    read from the maintained aggregates after catching them up (equal to ``recompute_report``).

    Raises:
        ApiError: 422 for a bad level/prefix, 403 when ``prefix`` lies outside the actor's scopes.
    """
    # Imported here: the aggregates build on this module.
    from desmig_server.aggregates.read import aggregated_report
    from desmig_server.reports.questions import add_breakdowns  # questions published after version 1

    return add_breakdowns(db, aggregated_report(db, level=level, prefix=prefix, actor=actor, period=period, today=today),
                          level=level, prefix=prefix, actor=actor)


def recompute_report(db: Database, *, level: str = "province", prefix: str = "",
                     actor: Principal | None = None, period: Period = EVERYTHING,
                     today: date | None = None) -> dict[str, Any]:
    """``build_report`` recomputed from every record (the definition the aggregates must equal).

    Raises:
        ApiError: 422 for a bad level/prefix, 403 when ``prefix`` lies outside the actor's scopes.
    """
    check_request(level, prefix, actor)
    filters = scope_filters(prefix, actor)
    with db.read() as conn:
        by_code = _aggregate(conn, db.dialect, spec.LEVELS[level], filters, period=period, today=today)
        medians = _aggregate(conn, db.dialect, 0, filters, medians_only=True).get("", {})
        names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
            t.regions.c.code.in_(sorted(by_code)))).all()) if by_code else {}
    totals = spec.add_rows(list(by_code.values()))
    totals.update(spec.count_areas(by_code))
    totals.update({m.key: medians.get(m.key) for m in spec.METRICS if m.aggregate is Agg.MEDIAN})
    rows = [{"code": code, "name": names.get(code, code), **by_code[code]} for code in sorted(by_code)]
    from desmig_server.reports.questions import add_breakdowns  # questions published after version 1

    return add_breakdowns(db, {"level": level, "prefix": prefix or None, "period": period.as_json(), "rows": rows,
                               "totals": spec.finish_row(totals)}, level=level, prefix=prefix, actor=actor)


def scope_filters(prefix: str, actor: Principal | None) -> list[Any]:
    """Conditions on a scope column: under ``prefix`` and inside ``actor``'s scopes."""
    filters: list[Any] = []
    if prefix:
        filters.append(lambda scope: (scope == prefix) | scope.startswith(prefix + ".", autoescape=True))
    if actor is not None and actor.scope_condition(t.records.c.scope) is not None:
        filters.append(actor.scope_condition)
    return filters
