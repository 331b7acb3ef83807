"""Local (laptop-side) benchmarks: demo generation, search, save."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from bench.common import Row, p95, show, timed
from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.report_spec import child_level
from desmig_desktop.services.demo import DemoFactory, generate_demo
from desmig_desktop.services.households import save_household
from desmig_desktop.services.reports import build_report, home_prefix
from desmig_desktop.store.queries import HouseholdFilter, count_households, search_households


def build(db: Database, households: int, seed: int = 1) -> Row:
    start = time.perf_counter()
    generate_demo(db, households, seed=seed, batch=500)
    seconds = time.perf_counter() - start
    row = Row("demo generation (households/s)", households / seconds, "hh/s", None, "info", None,
              note=f"{households} households in {seconds:.1f} s")
    show(row)
    return row


def search(db: Database, repeat: int = 200) -> list[Row]:
    rng = random.Random(5)
    names = [r[0] for r in db.execute("SELECT name FROM members ORDER BY random() LIMIT ?", [repeat])]
    niks = [r[0] for r in db.execute("SELECT nik FROM members WHERE nik IS NOT NULL ORDER BY random() LIMIT ?",
                                     [repeat])]
    kks = [r[0] for r in db.execute("SELECT kk_number FROM households ORDER BY random() LIMIT ?", [repeat])]
    rows = []
    cases = (("name prefix", [n.split()[0][: rng.randint(3, 5)] for n in names],
              "SELECT rowid FROM household_search WHERE household_search MATCH ? LIMIT 100", lambda t: f'"{t}"*'),
             ("NIK", niks, "SELECT household_id FROM members WHERE nik = ?", lambda t: t),
             ("KK", kks, "SELECT id FROM households WHERE kk_number = ?", lambda t: t))
    for label, terms, raw_sql, raw_arg in cases:
        it = iter(terms * 2)

        def app_query(it: Iterator[str] = it) -> None:
            flt = HouseholdFilter(text=next(it))
            search_households(db, flt, limit=100)
            count_households(db, flt)

        raw_it = iter(terms * 2)
        baseline = timed(lambda sql=raw_sql, arg=raw_arg, it=raw_it: db.execute(sql, [arg(next(it))]).fetchall(), len(terms))
        value = timed(app_query, len(terms))
        row = Row(f"search {label} (page + count)", p95(value), "ms p95", p95(baseline), "p95 < 20 ms",
                  p95(value) < 20, baseline_name="raw indexed SQL lookup")
        show(row)
        rows.append(row)
    return rows


def report(db: Database, villages: list[str], repeat: int = 20) -> list[Row]:
    """The officer's report figures (issue 15 adds the programme's): the dashboard's report
    (``ui.dashboard.page``: the officer's home area, one level down) and ``desmig report``'s
    default (province rows), everything ever. No §7 target: recorded beside the rows that have one."""
    prefix = home_prefix(villages)
    rows = []
    for label, level, where in (("dashboard", child_level(prefix), prefix), ("report --json", "province", "")):
        value = timed(lambda level=level, where=where: build_report(db, level, where), repeat)
        row = Row(f"desktop report figures ({label}: {level} rows{', ' + where if where else ''})", p95(value),
                  "ms p95", None, "(recorded; no §7 target)", None, note=f"{repeat} runs; median "
                  f"{sorted(value)[len(value) // 2]:.1f} ms")
        show(row)
        rows.append(row)
    return rows


def _graph_of(factory: DemoFactory, village: str) -> Any:
    graph = factory.household(village)
    while len(graph.members) < 5:
        graph = factory.household(village)
    graph.members = graph.members[:5]
    kept = {m["id"] for m in graph.members}
    graph.placements = [p for p in graph.placements if p["member_id"] in kept]
    owner = graph.members[0]
    graph.businesses = [factory._business(graph.household["id"], owner)]
    return graph


def save(db: Database, repeat: int = 200) -> Row:
    village = db.execute("SELECT code FROM regions WHERE level = 4 AND code LIKE '33.%' LIMIT 1").fetchone()[0]
    factory = DemoFactory(seed=99)
    graphs = [_graph_of(factory, village) for _ in range(repeat)]
    it = iter(graphs)
    value = timed(lambda: save_household(db, next(it), confirm_warnings=True), repeat)

    # Baseline: the same 6-7 rows inserted raw with executemany, one transaction each.
    raw_graphs = [_graph_of(factory, village) for _ in range(repeat)]
    raw_it = iter(raw_graphs)

    def raw_insert() -> None:
        g = next(raw_it)
        with db.atomic():
            for name, items in (("households", [g.household]), ("members", g.members), ("placements", g.placements),
                                ("businesses", g.businesses)):
                if not items:
                    continue
                keys = ("id", *[k for k in ENTITIES[name].keys if k in items[0] or k == "household_id"])
                sql = (f"INSERT INTO {name} (created_at, updated_at, {', '.join(keys)}) VALUES"
                       f" ('x', 'x', {', '.join('?' * len(keys))})")
                db.conn.executemany(sql, [[_plain(it.get(k)) for k in keys] for it in items])

    baseline = timed(raw_insert, repeat)
    row = Row("save household (5 members + business, incl. outbox)", p95(value), "ms p95", p95(baseline),
              "p95 < 20 ms", p95(value) < 20, baseline_name="raw executemany of the same rows")
    show(row)
    return row


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


__all__ = ["build", "new_id", "report", "save", "search"]
