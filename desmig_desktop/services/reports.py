"""The regional report of ``domain.report_spec``, computed in SQL over the local typed tables.

Shape (DESIGN §6 and its later keys): ``{"level", "prefix", "rows": [{"code", "name",
<every key of report_spec.METRICS>}], "totals": {<same keys>}}``. The database does the
counting: one grouped query per entity for the plain figures, one per breakdown, one window
query per median. ``totals`` adds the rows' additive figures (regions never overlap), counts
the areas holding data from the rows (``report_spec.count_areas``) and runs the median queries
again with an empty grouping prefix (``substr(code, 1, 0)``): a median of the whole is not a sum
of the parts.

Programme figures (issue 15) follow the same path: their records' village is their own
``village_code`` or their top ancestor's; activities are counted in the report's period and
stocks at its end (``report_period``), bound as parameters (``:period_from``, ``:period_to``, the
cutoff dates), so the SQL is the same for every period.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain import report_spec as spec
from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.programme import CHILD_OF_PMI, PMI_ACTIVE
from desmig_desktop.domain.report_period import EVERYTHING, Period, adult_cutoff, days_before
from desmig_desktop.errors import KnownError
from desmig_desktop.services import report_questions
from desmig_desktop.store.queries import rows as fetch

LEVELS = spec.LEVELS
COUNT_KEYS = spec.COUNT_KEYS
AREA_KEYS = spec.AREA_KEYS
Agg = spec.Aggregate


def _column(entity_name: str, key: str, of: str | None = None) -> str:
    """``key`` of the record (alias ``e``) or of its ancestor ``of`` (alias ``a<depth>`` of ``_source``)."""
    owner = of or entity_name
    if key == "id" and of is None:
        return "e.id"
    if not ENTITIES[owner].has(key):  # keys come from the spec, never from input
        raise ValueError(f"{owner} has no field {key!r}")
    if of is None:
        return f"e.{key}"
    depth = [parent for _key, parent in spec.ancestors(entity_name)].index(of)
    return f"a{depth}.{key}"


def _source(entity_name: str) -> tuple[str, str]:
    """``FROM ... WHERE`` of the live records of ``entity_name`` with live ancestors, and the
    expression of their household's village code."""
    sql, alias = f"FROM {entity_name} e", "e"
    for depth, (parent_key, parent) in enumerate(spec.ancestors(entity_name)):
        palias = f"a{depth}"
        sql += f" JOIN {parent} {palias} ON {palias}.id = {alias}.{parent_key} AND {palias}.deleted = 0"
        alias = palias
    return sql + f" WHERE e.deleted = 0 AND (:prefix = '' OR {alias}.village_code LIKE :prefix || '%')", \
        f"{alias}.village_code"


def child_of_pmi_sql(member: str) -> str:
    """Whether the member whose id is the SQL expression ``member`` is a child of PMI
    (``domain.programme.CHILD_OF_PMI``) under 18 on the day whose cutoff is ``:adult_cutoff``: found by
    its id, in a live household, and ``is_child_of_pmi`` of it."""
    return (f"EXISTS (SELECT 1 FROM members c JOIN households ch ON ch.id = c.household_id AND ch.deleted = 0"
            f" WHERE c.id = {member} AND c.deleted = 0 AND {is_child_of_pmi('c')})")


def is_child_of_pmi(alias: str) -> str:
    """The member row ``alias`` is a child of PMI (``domain.programme.children_of_pmi``, from its
    table ``CHILD_OF_PMI``): born after ``:adult_cutoff`` and by ``:as_of`` when known, not PMI aktif itself, and its
    household among those holding a PMI aktif of a relationship it is the child of.

    As at HQ (``desmig_server.reports.queries.is_child_of_pmi``): the households are an
    uncorrelated list SQLite builds once per query, not a lookup per member. The PMI is never the
    member itself: no relationship is on both sides."""
    def households_with_pmi(parents: tuple[str, ...]) -> str:
        return ("(SELECT p.household_id FROM members p WHERE p.deleted = 0"
                f" AND p.migration_status = '{PMI_ACTIVE}'"
                f" AND p.relationship IN ({', '.join(repr(r) for r in parents)}))")

    pairs = " OR ".join(f"({alias}.relationship = '{child}' AND {alias}.household_id IN {households_with_pmi(parents)})"
                        for child, parents in CHILD_OF_PMI.items())
    return (f"({alias}.birth_date IS NULL OR ({alias}.birth_date > :adult_cutoff AND {alias}.birth_date <= :as_of))"
            f" AND {alias}.migration_status IS NOT '{PMI_ACTIVE}' AND ({pairs})")


def _condition(metric: spec.Metric, params: dict[str, Any]) -> str:
    parts = []
    spec.condition_entities(metric)  # only ancestors joined by ``_source``
    if metric.dated:
        column = _column(metric.entity, metric.dated, metric.dated_of)
        if not metric.stock:
            parts.append(f"(:period_from IS NULL OR {column} >= :period_from)")
        parts.append(f"(:period_to IS NULL OR {column} <= :period_to)")
    if metric.child_of_pmi == "id" and metric.entity == "members":
        parts.append(is_child_of_pmi("e"))  # the member itself, its household already live
    elif metric.child_of_pmi:
        parts.append(child_of_pmi_sql(_column(metric.entity, metric.child_of_pmi)))
    for i, where in enumerate(metric.where):
        column = _column(metric.entity, where.field, where.of)
        if where.one_of:
            names = [f"{metric.key}_{i}_{j}" for j in range(len(where.one_of))]
            params.update(zip(names, where.one_of))
            parts.append(f"{column} IN ({', '.join(':' + n for n in names)})")
        elif where.absent:
            parts.append(f"{column} IS NULL")
        elif where.value is None:
            parts.append(f"{column} IS NOT NULL")
        elif where.value is True:
            parts.append(f"{column} = 1")  # BOOL columns hold 0/1
        elif isinstance(where.value, bool):
            raise ValueError("a report condition on a yes/no field must be True")
        else:
            name = f"{metric.key}_{i}"
            params[name] = where.value
            parts.append(f"{column} = :{name}")
    return " AND ".join(parts) or "1"


def _plain(entity_name: str, metrics: tuple[spec.Metric, ...], out: dict[str, dict[str, Any]],
           params: dict[str, Any], db: Database) -> None:
    if not metrics:
        return
    source, village = _source(entity_name)
    cols = []
    for m in metrics:
        cond = _condition(m, params)
        if m.aggregate is Agg.AREAS:
            length = int(LEVELS[m.level or ""])
            cols.append(f"1 AS {m.key}" if length <= params["n"] else  # the row's own area, or one above it
                        f"count(DISTINCT CASE WHEN {cond} THEN substr({village}, 1, {length}) END) AS {m.key}")
        elif m.aggregate is Agg.COUNT:
            cols.append(f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {m.key}")
        elif m.aggregate is Agg.COUNT_DISTINCT:
            cols.append(f"count(DISTINCT CASE WHEN {cond} THEN {_column(entity_name, m.distinct or '', m.distinct_of)} END)"
                        f" AS {m.key}")
        else:
            cols.append(f"coalesce(sum(CASE WHEN {cond} THEN {_column(entity_name, m.field or '')} END), 0)"
                        f" AS {m.key}")
    sql = f"SELECT substr({village}, 1, :n) AS code, {', '.join(cols)} {source} GROUP BY 1"
    for r in fetch(db, sql, params):
        row = out.setdefault(r["code"], spec.empty_row())
        row.update({m.key: int(r[m.key]) for m in metrics})


def _breakdowns(metric: spec.Metric, out: dict[str, dict[str, Any]], params: dict[str, Any], db: Database) -> None:
    source, village = _source(metric.entity)
    field = _column(metric.entity, metric.field or "")
    if metric.aggregate is Agg.AGE_BY:  # the band of the days from ``field`` to the period's end
        bands = [f"WHEN {field} > :{metric.key}_band_{i} THEN '{key}'"
                 for i, key in enumerate(metric.keys[:len(metric.bands)])]
        params.update({f"{metric.key}_band_{i}": days_before(date.fromisoformat(params["as_of"]), days)
                       for i, days in enumerate(metric.bands)})
        field = f"CASE {' '.join(bands)} ELSE '{metric.keys[-1]}' END"
    counted = "count(*)" if metric.aggregate in (Agg.COUNT_BY, Agg.AGE_BY) else \
        f"count(DISTINCT {_column(metric.entity, metric.distinct or '')})"
    sql = (f"SELECT substr({village}, 1, :n) AS code, {field} AS k, {counted} AS n {source}"
           f" AND {_condition(metric, params)} GROUP BY 1, 2")
    for r in fetch(db, sql, params):
        spec.add_count_by(out.setdefault(r["code"], spec.empty_row()), metric, r["k"], r["n"])


def _median(metric: spec.Metric, out: dict[str, dict[str, Any]], params: dict[str, Any], db: Database) -> None:
    source, village = _source(metric.entity)
    field = _column(metric.entity, metric.field or "")
    sql = (
        f"WITH v AS (SELECT substr({village}, 1, :n) AS code, {field} AS x {source}"
        f" AND {field} IS NOT NULL AND {_condition(metric, params)}),"
        " r AS (SELECT code, x, row_number() OVER (PARTITION BY code ORDER BY x) AS rn,"
        " count(*) OVER (PARTITION BY code) AS cnt FROM v)"
        " SELECT code, (CAST(sum(x) AS BIGINT) + count(*) / 2) / count(*) AS median"
        " FROM r WHERE 2 * rn >= cnt AND 2 * rn <= cnt + 2 GROUP BY code"
    )
    for r in fetch(db, sql, params):
        out.setdefault(r["code"], spec.empty_row())[metric.key] = int(r["median"])


def period_params(period: Period, today: date | None = None) -> dict[str, Any]:
    """The bound parameters of a period: its bounds, its end (or today) and the adult cutoff then."""
    start, end = period.bounds()
    as_of = period.as_of(today)
    return {"period_from": start, "period_to": end, "as_of": as_of.isoformat(), "adult_cutoff": adult_cutoff(as_of)}


def _aggregate(db: Database, length: int, prefix: str, *, medians_only: bool = False,
               period: Period = EVERYTHING, today: date | None = None) -> dict[str, dict[str, Any]]:
    """Every metric per code prefix of ``length`` (0: one row keyed ""); only the medians if asked."""
    params: dict[str, Any] = {"n": length, "prefix": prefix, **period_params(period, today)}
    out: dict[str, dict[str, Any]] = {}
    for entity_name in () if medians_only else spec.entities():
        _plain(entity_name, spec.metrics_of(entity_name, Agg.COUNT, Agg.COUNT_DISTINCT, Agg.SUM, Agg.AREAS), out,
               params, db)
    for metric in spec.METRICS:
        if metric.is_map and not medians_only:
            _breakdowns(metric, out, params, db)
        elif metric.aggregate is Agg.MEDIAN:
            _median(metric, out, params, db)
    if medians_only:
        return out
    # A region exists in the report only if it has a live household.
    return {code: spec.finish_row(row) for code, row in out.items() if row["households"]}


def build_report(db: Database, level: str = "province", prefix: str = "", period: Period = EVERYTHING,
                 today: date | None = None) -> dict[str, Any]:
    """Aggregate live records by ``level``, optionally inside the region code ``prefix``; activities
    in ``period``, stocks at its end (else ``today``, by default the laptop's date).

    Raises:
        KnownError: an unknown level, or a prefix that is not a Kemendagri code at or above it.
    """
    if level not in LEVELS:
        raise KnownError(_("Tingkat laporan tidak dikenal: {level}", level=level))
    if not spec.valid_prefix(level, prefix):
        raise KnownError(_("Kode wilayah {code} tidak bisa dipakai pada tingkat {level}.", code=prefix, level=level))
    by_code = _aggregate(db, LEVELS[level], prefix, period=period, today=today)
    totals = spec.add_rows(list(by_code.values()))
    totals.update(spec.count_areas(by_code))
    medians = _aggregate(db, 0, prefix, medians_only=True).get("", {})
    totals.update({m.key: medians.get(m.key) for m in spec.METRICS if m.aggregate is Agg.MEDIAN})
    spec.finish_row(totals)
    names = _names(db, sorted(by_code))
    report_rows = [{"code": code, "name": names.get(code, code), **by_code[code]} for code in sorted(by_code)]
    report = {"level": level, "prefix": prefix or None, "period": period.as_json(), "rows": report_rows,
              "totals": totals}
    return report_questions.add_breakdowns(db, report, LEVELS[level], prefix)  # questions HQ published later


def _names(db: Database, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    marks = ", ".join("?" * len(codes))
    return dict(db.execute(f"SELECT code, name FROM regions WHERE code IN ({marks})", codes).fetchall())


def home_prefix(villages: list[str]) -> str:
    """The smallest area holding all the officer's villages (a district, regency or province; "" for none)."""
    prefix = ""
    for level in ("province", "regency", "district"):
        heads = {code[:LEVELS[level]] for code in villages}
        if len(heads) != 1:
            break
        prefix = heads.pop()
    return prefix
