"""HQ's SQL on SQLite has no correlated subquery that walks ``records`` by entity alone.

SQLite keeps no statistics unless told to, so for a subquery correlated with the outer row it
may pick the ``(entity, scope)`` index on ``entity = ?`` alone — every member of the country,
read again for each outer row. PostgreSQL plans the same SQL well, so only a plan shows it: the
catch-up of ``pmi_children`` was written that way and, on SQLite, a catch-up after a
20,000-household push ran for more than ten minutes (0.2 s after the fix).

Every statement the aggregates' catch-up, ``rebuild``/``verify`` and the reports run against a
small HQ is captured and explained; a correlated subquery must reach ``records`` through an
index with more than the entity (the primary key, ``parent_id``, ``(entity, scope)`` with the
scope). The negative control is the old ``pmi_children`` query, which the check flags.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from desmig_server.aggregates import verify
from desmig_server.aggregates.maintain import catch_up, rebuild
from desmig_server.db.engine import Database
from desmig_server.reports.queries import build_report, recompute_report

from .conftest import fresh_db_url, open_hq
from .support import V1, V2, business, household, member, programme_ops

# The old refresh of ``pmi_children`` (before the fix), for the negative control.
OLD_PMI_CHILDREN = """
SELECT c.id FROM records AS c JOIN records AS h ON h.entity = 'households' AND h.id = c.parent_id AND h.deleted = 0
WHERE c.entity = 'members' AND c.deleted = 0 AND c.scope IN ('32.01.01.1001') AND
 json_extract(c.data, '$.relationship') = 'anak' AND EXISTS (SELECT 1 FROM records AS p
 WHERE p.parent_id = c.parent_id AND p.entity = 'members' AND p.deleted = 0
 AND json_extract(p.data, '$.migration_status') = 'pmi_aktif')
"""


def walks_by_entity(conn: Any, sql: str, params: Any = ()) -> list[str]:
    """The plan steps of ``sql`` that read ``records`` by entity alone (or scan it) inside a
    correlated subquery."""
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    parents = {row[0]: (row[1], row[3]) for row in rows}

    def correlated(node: int) -> bool:
        """Whether the nearest subquery holding ``node`` is run again per outer row (an
        uncorrelated ``IN`` list inside a correlated subquery is built once)."""
        while node in parents:
            node = parents[node][0]
            detail = parents.get(node, (0, ""))[1]
            if "SUBQUERY" in detail:
                return "CORRELATED" in detail
        return False

    bad = []
    for node, (_, detail) in parents.items():
        reads_records = " records" in f" {detail}" or "ix_records_entity_scope" in detail
        by_entity_only = "(entity=?)" in detail or detail.startswith("SCAN ")
        if reads_records and by_entity_only and correlated(node):
            bad.append(detail)
    return bad


@contextmanager
def captured(db: Database) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "INSERT", "WITH")):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)


def test_the_check_flags_a_correlated_walk_by_entity(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    for hq in open_hq(fresh_db_url("sqlite", request, tmp_path)):
        with hq.ctx.db.read() as conn:
            assert walks_by_entity(conn, OLD_PMI_CHILDREN)
            fixed = OLD_PMI_CHILDREN.replace("EXISTS (SELECT 1 FROM records AS p\n WHERE p.parent_id = c.parent_id AND",
                                             "c.parent_id IN (SELECT p.parent_id FROM records AS p\n WHERE")
            assert fixed != OLD_PMI_CHILDREN and walks_by_entity(conn, fixed) == []


def test_the_catch_up_rebuild_verify_and_reports_plan_no_correlated_walk(
        request: pytest.FixtureRequest, tmp_path: Any) -> None:
    for hq in open_hq(fresh_db_url("sqlite", request, tmp_path)):
        dev = hq.user_device("ani", "officer", villages=[V1, V2])
        for n, village in enumerate((V1, V2)):
            dev.push_ok(dev.op("households", f"h{n}", household(village)),
                        dev.op("members", f"k{n}", member(f"h{n}", relationship="kepala", migration_status="pmi_aktif")),
                        dev.op("members", f"m{n}", member(f"h{n}", relationship="anak", migration_status="bukan_pmi",
                                                          birth_date="2015-01-01")),
                        dev.op("businesses", f"b{n}", business(f"h{n}")))
            dev.push_ok(*programme_ops(dev, village, f"m{n}", f"b{n}", suffix=str(n))[0])
        db = hq.ctx.db
        with captured(db) as statements:
            catch_up(db)
            rebuild(db)
            verify.verify(db)
            for level in ("province", "regency", "district", "village"):
                build_report(db, level=level)
                recompute_report(db, level=level)
        assert len(statements) > 20
        flagged = {}
        with db.read() as conn:
            for sql, params in statements:
                if bad := walks_by_entity(conn, sql, params):
                    flagged[sql[:300]] = bad
        assert flagged == {}, "\n".join(f"{sql}: {bad}" for sql, bad in flagged.items())
