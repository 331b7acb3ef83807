"""``desmig-hq aggregates verify``: every stored area against a recomputation from the records.

A mismatch names the area code and the figure only (never a value of a record), so its output
can go into a ticket. The comparison runs in one snapshot in which the watermark equals the
counter (a push committing meanwhile makes it catch up and look again).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from desmig_server.aggregates import niks, pmi_children
from desmig_server.aggregates.maintain import (
    LENGTHS,
    VALUE_METRICS,
    catch_up,
    counter,
    watermark,
)
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.reports import queries

_ATTEMPTS = 5
_ROW = "(row)"  # the figure named when an area is missing or extra as a whole


@dataclass(frozen=True)
class Mismatch:
    code: str  # "" = Indonesia
    figure: str  # a report key, "(row)", or "<median key> values"

    def describe(self) -> str:
        return f"{self.code or 'Indonesia'}: {self.figure}"


class Busy(Exception):
    """The aggregates never caught up with the counter within the attempts (constant pushing)."""


def verify(db: Database) -> list[Mismatch]:
    """Catch up, then compare; an empty list means every figure equals its recomputation.

    Raises:
        Busy: pushes kept landing between the catch-up and the comparison.
    """
    for _attempt in range(_ATTEMPTS):
        catch_up(db)
        with db.read() as conn:
            if watermark(conn) == counter(conn):
                return compare(conn)
    raise Busy("the server kept changing; run verify again when it is quieter")


def compare(conn: Connection) -> list[Mismatch]:
    dialect = conn.dialect.name
    a, v = t.area_figures, t.area_values
    stored = {code: json.loads(figures) for code, figures in conn.execute(select(a.c.code, a.c.figures))}
    stored_values: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for code, metric, value, n in conn.execute(select(v.c.code, v.c.metric, v.c.value, v.c.n)):
        stored_values[(code, metric)][int(value)] = int(n)
    out: list[Mismatch] = []
    for length in LENGTHS:
        expected = queries.figures_by_code(conn, dialect, length, [])
        mine = {code: row for code, row in stored.items() if len(code) == length}
        for code in sorted(expected.keys() | mine.keys()):
            out.extend(_diff(code, expected.get(code), mine.get(code)))
        for metric in VALUE_METRICS:
            want = queries.value_counts(conn, dialect, length, [], metric)
            have = {code: counts for (code, key), counts in stored_values.items()
                    if key == metric.key and len(code) == length}
            out.extend(Mismatch(code, f"{metric.key} values") for code in sorted(want.keys() | have.keys())
                       if want.get(code, {}) != have.get(code, {}))
    out.extend(Mismatch(code, "member NIKs") for code in niks.compare(conn))
    out.extend(Mismatch(code, "children of PMI") for code in pmi_children.compare(conn))
    return out


def _diff(code: str, expected: dict[str, Any] | None, mine: dict[str, Any] | None) -> list[Mismatch]:
    if expected is None or mine is None:
        return [Mismatch(code, _ROW)]
    return [Mismatch(code, key) for key in sorted(expected.keys() | mine.keys()) if expected.get(key) != mine.get(key)]

