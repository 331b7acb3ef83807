"""``member_niks``: the NIK of every live member, kept with the report aggregates.

HQ's duplicate list (``checks.duplicates``) asks which NIKs are held in two or more households
across the whole country. Taking each NIK out of every member's JSON for that costs a pass over all
members (3.6 s at a million households); this table holds the pairs already taken out, indexed on
(nik, household_id), so the list is one index scan. It is derived data: the catch-up replaces a
dirty village's rows with its live members' (delete, then insert from ``records``), ``rebuild``
refills it, ``verify`` compares it (``compare``). Nothing is written in the push transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, delete, insert, select

from desmig_server.db import tables as t
from desmig_server.db.json_sql import live_members, member_nik

_COLUMNS = ("member_id", "nik", "household_id", "scope")
_CHUNK = 500  # villages per IN list


def source(dialect: str) -> Select[Any]:
    """The rows ``member_niks`` must hold: every live member with a NIK (the same expression and
    condition as the duplicate list over ``records``, so the NIK text is identical)."""
    r = t.records
    nik = member_nik(dialect, r)
    return select(r.c.id, nik, r.c.parent_id, r.c.scope).where(live_members(r), nik.is_not(None))


def refresh_niks(conn: Connection, villages: Iterable[str] | None) -> None:
    """Replace the rows of ``villages`` (``None``: every row) with a recomputation."""
    m, r = t.member_niks, t.records
    query = source(conn.dialect.name)
    if villages is None:
        conn.execute(delete(m))
        conn.execute(insert(m).from_select(list(_COLUMNS), query))
        return
    codes = sorted(set(villages))
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start:start + _CHUNK]
        conn.execute(delete(m).where(m.c.scope.in_(chunk)))
        conn.execute(insert(m).from_select(list(_COLUMNS), query.where(r.c.scope.in_(chunk))))


def compare(conn: Connection) -> list[str]:
    """The villages whose stored rows differ from a recomputation (codes only, never a NIK)."""
    m = t.member_niks
    stored = {tuple(row) for row in conn.execute(select(m.c.member_id, m.c.nik, m.c.household_id, m.c.scope))}
    expected = {tuple(row) for row in conn.execute(source(conn.dialect.name))}
    return sorted({str(row[3]) for row in stored ^ expected})
