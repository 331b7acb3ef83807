"""``pmi_children``: every live member who is a child of PMI by relationship, with its birth date,
kept with the report aggregates.

The programme figure ``children_in_parenting`` counts the children of PMI among the attendees of
parenting activities in a period. Deciding "child of PMI" from the records means reading the
member's household for a PMI aktif parent; asked for every attendee of the country on every page
that took 3–7 s at 200,000 households (the planner built the list of PMI households of the whole
nation for every page, whatever its area). This table holds the answer per member, so the figure
is a join of the period's attendance with it by primary key. The age ("under 18 on the period's
end, born by then") depends on the period and is checked when reading, from the stored birth date.

Derived data like ``member_niks``: the catch-up replaces a dirty village's rows (a child and its
PMI parent are members of one household, so of one village), ``rebuild`` refills it, ``verify``
compares it (``compare``). Nothing is written in the push transaction. The rule is
``domain.programme.CHILD_OF_PMI``, the same as the laptop's and ``reports.queries.is_child_of_pmi``
(with ``as_of`` None) — it is that function: the households holding a PMI aktif are listed once per
query, from the refreshed villages only, so refreshing one village never reads another's members.
(A PMI looked up per member through the ``parent_id`` index was fast on PostgreSQL, but SQLite,
without statistics, walked every member of the country per child: a catch-up after a 20,000-household
push ran for more than ten minutes.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, false, insert, select

from desmig_server.db import tables as t
from desmig_server.db.json_sql import json_text
from desmig_server.reports.queries import is_child_of_pmi

_COLUMNS = ("member_id", "scope", "birth_date")
_CHUNK = 500  # villages per IN list


def source(dialect: str, within: Sequence[str] | None = None) -> Select[Any]:
    """The rows ``pmi_children`` must hold: every live member of a live household who is a child of
    a PMI aktif member of that household (whatever its age), with its village and birth date;
    ``within``: of these villages only."""
    r = t.records
    c, h = r.alias("c"), r.alias("h")
    joined = c.join(h, and_(h.c.entity == "households", h.c.id == c.c.parent_id, h.c.deleted == false()))
    query = select(c.c.id, c.c.scope, json_text(dialect, c.c.data, "birth_date")).select_from(joined).where(
        c.c.entity == "members", c.c.deleted == false(),
        is_child_of_pmi(dialect, json_text(dialect, c.c.data, "relationship"), json_text(dialect, c.c.data, "birth_date"),
                        json_text(dialect, c.c.data, "migration_status"), c.c.parent_id, None, within))
    return query if within is None else query.where(c.c.scope.in_(list(within)))


def refresh_children(conn: Connection, villages: Iterable[str] | None) -> None:
    """Replace the rows of ``villages`` (``None``: every row) with a recomputation."""
    k = t.pmi_children
    if villages is None:
        conn.execute(delete(k))
        conn.execute(insert(k).from_select(list(_COLUMNS), source(conn.dialect.name)))
        return
    codes = sorted(set(villages))
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start:start + _CHUNK]
        conn.execute(delete(k).where(k.c.scope.in_(chunk)))
        conn.execute(insert(k).from_select(list(_COLUMNS), source(conn.dialect.name, chunk)))


def compare(conn: Connection) -> list[str]:
    """The villages whose stored rows differ from a recomputation (codes only, never a member)."""
    k = t.pmi_children
    stored = {tuple(row) for row in conn.execute(select(k.c.member_id, k.c.scope, k.c.birth_date))}
    expected = {tuple(row) for row in conn.execute(source(conn.dialect.name))}
    return sorted({str(row[1]) for row in stored ^ expected})
