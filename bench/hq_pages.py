"""The HQ web pages over HTTP at national scale (issue 18 §1, "every dashboard page"), for
``bench.hq_national``: a real ``desmig-hq serve`` on the bench's PostgreSQL database, an HQ user
signed in through the login form (CSRF and session cookie as a browser), and the wall time of
each page from request to the last byte, after one warm-up request.

Pages: the dashboard at every level down the busiest path, the CSV/XLSX download of the national
table, and the review desk's pages that read over many villages — ``/mutu`` (national data
quality), ``/mutu/desa`` (the village with most households), ``/konflik`` and ``/duplikat``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import text

from bench.common import Row, p95, show
from bench.hq import PASSWORD, add_users
from desmig_server.db.engine import Database
from desmig_testing.serve import ServeProcess

PAGE_TARGET_MS = 1000.0
WEB_USER = "pusat-web"


def _signed_in(url: str) -> requests.Session:
    web = requests.Session()
    form = web.get(url + "/login", timeout=60)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text[:300]
    answer = web.post(url + "/login", data={"username": WEB_USER, "password": PASSWORD, "csrf": csrf.group(1)},
                      allow_redirects=False, timeout=60)
    assert answer.status_code == 303 and answer.headers["location"] == "/", (answer.status_code, answer.text[:300])
    return web


def _time(web: requests.Session, url: str, repeat: int) -> tuple[list[float], int]:
    """Milliseconds per GET (the whole body read), after one warm-up; and the body's size."""
    warm = web.get(url, timeout=600)
    assert warm.status_code == 200, (url, warm.status_code, warm.text[:300])
    assert "/login" not in warm.url, url  # still signed in
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = web.get(url, timeout=600)
        body = response.content
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples, len(body)


def busiest_path(db: Database) -> list[tuple[str, str]]:
    """(page name, ``kode``) of the dashboard down the village with most households."""
    with db.read() as conn:
        village = conn.execute(text("SELECT scope FROM records WHERE entity = 'households' AND NOT deleted "
                                    "GROUP BY scope ORDER BY count(*) DESC, scope LIMIT 1")).scalar_one()
    return [("national", ""), ("province", village[:2]), ("regency", village[:5]), ("district", village[:8]),
            ("village", village)]


def page_rows(db: Database, work: Path, households: int, repeat: int,
              baselines: dict[str, float] | None = None) -> list[Row]:
    """p95 of every page; ``baselines`` (page name → ms) are the same run's full recomputation of
    that page's report (the page used to do exactly that, plus rendering)."""
    with db.read() as conn:
        known = bool(conn.execute(text("SELECT count(*) FROM users WHERE username = :u"), {"u": WEB_USER}).scalar_one())
    if not known:
        add_users(db.url, {WEB_USER: ("hq", [])})
    path = busiest_path(db)
    village = path[-1][1]
    targets = [(f"dashboard {name}" + (f" ({kode})" if kode else ""), "/?" + urlencode({"kode": kode}))
               for name, kode in path]
    targets += [("download national table CSV", "/download/rekap.csv?kode="),
                ("download national table XLSX", "/download/rekap.xlsx?kode="),
                ("review desk /mutu (national data quality)", "/mutu"),
                (f"review desk /mutu/desa ({village}, most households)", "/mutu/desa?" + urlencode({"kode": village})),
                ("review desk /konflik (open conflicts)", "/konflik"),
                ("review desk /duplikat (duplicated NIKs)", "/duplikat")]
    rows: list[Row] = []
    with ServeProcess(db.url, work / "serve-pages.log") as server:
        web = _signed_in(server.url)
        for name, route in targets:
            samples, size = _time(web, server.url + route, repeat)
            value = p95(samples)
            level = name.split()[1] if name.startswith("dashboard") else ""
            baseline = (baselines or {}).get(level)
            rows.append(Row(f"HQ web {name}, {households:,} households, PostgreSQL, HTTP p95", value, "ms", baseline,
                            "p95 < 1 s", value < PAGE_TARGET_MS, "full recomputation (report only)" if baseline else "",
                            note=f"{repeat} requests after 1 warm-up; {size:,} bytes"))
            show(rows[-1])
    return rows
