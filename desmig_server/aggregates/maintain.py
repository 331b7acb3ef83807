"""Keeping ``area_figures``/``area_values`` equal to a recomputation, from the change feed.

Every change of a record takes the next ``server_seq`` under the ``seq_counter`` row lock, and a
seq is visible only once every smaller one has committed (``sync.seq``), so the committed counter
value is a watermark no later change can fall below. ``catch_up`` reads it, collects the villages
of every record changed past the old watermark (their current scope) and of every move-out notice
past it (the scope a record left), recomputes those villages and the areas above them, and stores
the counter value as the new watermark, all in one transaction under a lock of its own, so two
workers never interleave. A change committed while it runs has a seq above the stored watermark
and is picked up next time (recomputing a village from its current records is idempotent).

Nothing runs inside the push transaction: a push costs what it did before.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite

from desmig_desktop.domain import report_spec as spec
from desmig_server.aggregates.niks import refresh_niks
from desmig_server.aggregates.pmi_children import refresh_children
from desmig_server.db import tables as t
from desmig_server.db.bulk import insert_rows
from desmig_server.db.engine import Database
from desmig_server.reports import queries

VILLAGE_LEN = spec.LEVELS["village"]
# Area code lengths from a village up to the nation ("").
LENGTHS: tuple[int, ...] = (VILLAGE_LEN, spec.LEVELS["district"], spec.LEVELS["regency"], spec.LEVELS["province"], 0)
MEDIANS: tuple[spec.Metric, ...] = tuple(m for m in spec.METRICS if m.aggregate is spec.Aggregate.MEDIAN)
# Every figure kept as a value multiset in ``area_values``: the medians', and the birth dates of the
# children of PMI (``queries.AGED``: under 18 depends on the day asked, so a count cannot be stored).
VALUE_METRICS: tuple[spec.Metric, ...] = (*MEDIANS, *(spec.METRIC[key] for key in queries.AGED))
_LOCK_KEY = 0x6465736D6961  # PostgreSQL advisory lock of the aggregates (migrations use ...67)
_CHUNK = 500  # codes per IN list
# A village costs about its records whichever way it is recomputed, so one pass over every record
# (no lookups by village) pays only when the dirty villages are many and a large share of all.
FULL_PASS_VILLAGES = 2_000
FULL_PASS_SHARE = 4  # at least 1/4 of the villages holding data


def watermark(conn: Connection) -> int:
    value = conn.execute(select(t.aggregate_state.c.watermark).where(t.aggregate_state.c.id == 1)).scalar()
    return int(value or 0)


def counter(conn: Connection) -> int:
    return int(conn.execute(select(t.seq_counter.c.value).where(t.seq_counter.c.id == 1)).scalar() or 0)


def set_watermark(conn: Connection, value: int) -> None:
    conn.execute(delete(t.aggregate_state))
    conn.execute(insert(t.aggregate_state).values(id=1, watermark=value))


def _lock(conn: Connection) -> None:
    """Serialise catch-ups between processes (SQLite: the write transaction already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def behind(db: Database) -> bool:
    """Whether some committed change is not yet in the aggregates (one cheap read)."""
    with db.read() as conn:
        return watermark(conn) != counter(conn)


def catch_up(db: Database) -> int:
    """Bring the aggregates up to the newest committed change; returns the villages recomputed."""
    if not behind(db):
        return 0
    with db.write() as conn:
        _lock(conn)
        return catch_up_in(conn, niks=True)


def catch_up_in(conn: Connection, *, niks: bool = False) -> int:
    """``catch_up`` inside the caller's write transaction (which holds the lock).

    Without ``niks`` it brings the aggregates only, as migration step 13 has always called it
    (``member_niks`` and ``pmi_children`` come with steps 15 and 19, which fill them whole);
    ``catch_up`` passes ``niks=True``: the derived tables of those later steps too.
    """
    old, high = watermark(conn), counter(conn)
    if old == high:
        return 0
    # A counter below the watermark: the data was wiped and numbering restarted; start over.
    villages = None if high < old else _changed_villages(conn, old)
    done = refresh(conn, villages)
    if niks:
        refresh_niks(conn, villages)
        refresh_children(conn, villages)
    set_watermark(conn, high)
    return done


def rebuild(db: Database) -> int:
    """Recompute every area from the records; returns the villages holding data."""
    with db.write() as conn:
        _lock(conn)
        high = counter(conn)
        done = refresh(conn, None)
        refresh_niks(conn, None)
        refresh_children(conn, None)
        set_watermark(conn, high)
        return done


def _changed_villages(conn: Connection, since: int) -> set[str]:
    r, x = t.records, t.scope_exits
    stmt = union(select(r.c.scope).where(r.c.server_seq > since), select(x.c.scope).where(x.c.server_seq > since))
    return set(conn.execute(stmt).scalars())


def refresh(conn: Connection, villages: set[str] | None) -> int:
    """Recompute ``villages`` (``None``: all) and every area above them."""
    if villages is None or (len(villages) > FULL_PASS_VILLAGES
                            and len(villages) * FULL_PASS_SHARE > _stored_villages(conn)):
        return _rebuild_all(conn)
    if not villages:
        return 0
    for chunk in chunks(sorted(villages)):
        _refresh_villages(conn, chunk)
    _roll_up(conn, villages)
    return len(villages)


def _stored_villages(conn: Connection) -> int:
    a = t.area_figures
    return int(conn.execute(select(func.count()).select_from(a).where(a.c.level_len == VILLAGE_LEN)).scalar_one())


def chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield list(items[i:i + _CHUNK])


def _dump(row: dict[str, Any]) -> str:
    """An area's stored figures: every key but the programme ones, which depend on a period."""
    kept = {k: v for k, v in row.items() if k not in spec.PROGRAMME_KEYS}
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False)


def _refresh_villages(conn: Connection, chunk: list[str]) -> None:
    dialect = conn.dialect.name
    filters: list[Any] = [lambda scope: scope.in_(chunk)]
    rows = queries.figures_by_code(conn, dialect, VILLAGE_LEN, filters)
    v = t.area_values
    old: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for code, metric, value, n in conn.execute(select(v.c.code, v.c.metric, v.c.value, v.c.n).where(
            v.c.code.in_(chunk))):
        old[(code, metric)][int(value)] = int(n)
    delta: dict[tuple[str, str, int], int] = defaultdict(int)
    for metric in VALUE_METRICS:
        new = queries.value_counts(conn, dialect, VILLAGE_LEN, filters, metric)
        for village in chunk:
            before, after = old.get((village, metric.key), {}), new.get(village, {})
            for value in before.keys() | after.keys():
                d = after.get(value, 0) - before.get(value, 0)
                if d:
                    for length in LENGTHS:
                        delta[(village[:length], metric.key, value)] += d
    conn.execute(delete(t.area_figures).where(t.area_figures.c.code.in_(chunk)))
    insert_rows(conn, t.area_figures, ("code", "level_len", "figures"),
                [(code, VILLAGE_LEN, _dump(row)) for code, row in rows.items()])
    _add_values(conn, delta)


def _add_values(conn: Connection, delta: dict[tuple[str, str, int], int]) -> None:
    """Add ``delta`` to the value counts (upsert), dropping counts that reach 0."""
    changes = [{"code": c, "metric": m, "value": value, "n": d} for (c, m, value), d in delta.items() if d]
    if not changes:
        return
    v = t.area_values
    maker = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    ins = maker(v)
    conn.execute(ins.on_conflict_do_update(index_elements=[v.c.code, v.c.metric, v.c.value],
                                           set_={"n": v.c.n + ins.excluded.n}), changes)
    codes = sorted({code for code, _metric, _value in delta})
    for chunk in chunks(codes):
        conn.execute(delete(v).where(v.c.n == 0, v.c.code.in_(chunk)))


def _roll_up(conn: Connection, villages: Iterable[str]) -> None:
    """Recompute every district, regency, province and the nation above ``villages``, each from
    the rows of the level below (bottom up, so each level reads finished rows)."""
    codes = set(villages)
    for child_len, length in pairwise(LENGTHS):
        areas = {code[:length] for code in codes}
        for chunk in chunks(sorted(areas)):
            _refresh_areas(conn, chunk, length, child_len)
        codes = areas


def _refresh_areas(conn: Connection, chunk: list[str], length: int, child_len: int) -> None:
    a = t.area_figures
    children: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for code, figures in conn.execute(select(a.c.code, a.c.figures).where(
            a.c.level_len == child_len, func.substr(a.c.code, 1, length).in_(chunk))):
        children[code[:length]][code] = json.loads(figures)
    medians = {m.key: medians_of(conn, chunk, m.key) for m in MEDIANS}
    out: list[tuple[str, int, str]] = []
    for area in chunk:
        kids = children.get(area)
        if not kids:
            continue
        row = spec.add_rows(list(kids.values()))
        row.update(spec.count_areas(kids))
        row.update({key: values.get(area) for key, values in medians.items()})
        if row["households"]:
            out.append((area, length, _dump(spec.finish_row(row))))
    conn.execute(delete(a).where(a.c.code.in_(chunk)))
    insert_rows(conn, a, ("code", "level_len", "figures"), out)


def medians_of(conn: Connection, codes: list[str], metric: str) -> dict[str, int]:
    """The median of ``metric`` per area code, from its value counts (the report's definition:
    the middle value, or the mean of the two middle ones rounded half up)."""
    v = t.area_values
    cum = func.sum(v.c.n).over(partition_by=v.c.code, order_by=v.c.value)
    total = func.sum(v.c.n).over(partition_by=v.c.code)
    ranked = select(v.c.code, v.c.value, v.c.n, cum.label("cum"), total.label("total")).where(
        v.c.metric == metric, v.c.code.in_(codes)).subquery("r")
    # Rows holding rank ceil(N/2) or N//2 + 1: 2*cum >= N and 2*(cum - n) <= N.
    stmt = select(ranked.c.code, ranked.c.value).where(
        2 * ranked.c.cum >= ranked.c.total, 2 * (ranked.c.cum - ranked.c.n) <= ranked.c.total)
    middle: dict[str, list[int]] = defaultdict(list)
    for code, value in conn.execute(stmt):
        middle[code].append(int(value))
    return {code: (min(vals) + max(vals) + 1) // 2 for code, vals in middle.items()}


def median_of(counts: dict[int, int]) -> int | None:
    """``medians_of`` in Python, over one merged multiset ``{value: count}``."""
    total = sum(counts.values())
    if not total:
        return None
    lo, hi, seen = (total + 1) // 2, total // 2 + 1, 0
    first: int | None = None
    for value in sorted(counts):
        seen += counts[value]
        if first is None and seen >= lo:
            first = value
        if seen >= hi:
            assert first is not None
            return (first + value + 1) // 2
    raise AssertionError("unreachable: the counts add up to total")


def _rebuild_all(conn: Connection) -> int:
    dialect = conn.dialect.name
    conn.execute(delete(t.area_figures))
    conn.execute(delete(t.area_values))
    rows = queries.figures_by_code(conn, dialect, VILLAGE_LEN, [])
    insert_rows(conn, t.area_figures, ("code", "level_len", "figures"),
                [(code, VILLAGE_LEN, _dump(row)) for code, row in rows.items()])
    v = t.area_values
    for metric in VALUE_METRICS:
        counts = queries.value_counts(conn, dialect, VILLAGE_LEN, [], metric)
        insert_rows(conn, v, ("code", "metric", "value", "n"),
                    [(code, metric.key, value, n) for code, values in counts.items() for value, n in values.items()])
    for length in LENGTHS[1:]:
        area = func.substr(v.c.code, 1, length) if length else literal_column("''")
        keys = [area] if length else []
        conn.execute(insert(v).from_select(["code", "metric", "value", "n"], select(
            area, v.c.metric, v.c.value, func.sum(v.c.n)).where(func.length(v.c.code) == VILLAGE_LEN)
            .group_by(*keys, v.c.metric, v.c.value)))
    _roll_up(conn, rows)
    return len(rows)
