"""HQ reports at national scale (issue 18 §1): ``python -m bench.hq_national [--households N] [--smoke]``.

On a PostgreSQL database of its own (``desmig_agg``, dropped and created afresh; never the
``desmig_bench`` of the main suite), it generates N households server-side in bulk — members,
placements and businesses with them — in ``INSERT … SELECT`` over ``generate_series`` (not
through pushes), spread over real Kemendagri villages: every village of the twelve provinces
that send most migrant workers plus about one in eight elsewhere, households skewed towards some
villages. Then, in the same run:

* the aggregates built from nothing (what migration 11 or ``aggregates rebuild`` costs);
* p95 of ``build_report`` (the aggregates) for every dashboard page — national (province rows),
  province (regency rows), regency (district rows), district (village rows), village — against the
  baseline ``recompute_report`` (the full recomputation from the records, fewer repetitions);
* p95 of the real web pages over HTTP (``bench.hq_pages``): the dashboard at every level, the
  national table's CSV/XLSX, and the review desk's ``/mutu``, ``/mutu/desa``, ``/konflik`` and
  ``/duplikat``, signed in as HQ on a real ``desmig-hq serve``;
* push throughput of a real ``desmig-hq serve`` with the background catch-up on (every second)
  and off, alternating, each pushing new households with members into villages holding data.

Writes ``bench/results/hq_national-<date>.json``/``.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import text

from bench.common import Row, p95, show, timed, write_report
from bench.hq import PASSWORD, ServeProcess, add_users
from bench.hq_pages import page_rows
from desmig_desktop.domain.ops import op_hash
from desmig_server.aggregates.maintain import catch_up, rebuild
from desmig_server.db.engine import Database
from desmig_server.db.migrations import migrate
from desmig_server.reports.queries import build_report, recompute_report
from desmig_server.settings import Settings

PG_DB = "desmig_agg"
PG_URL = f"postgresql+psycopg:///{PG_DB}?host=/var/run/postgresql"
# Provinces sending most migrant workers (BP2MI): every village of these holds data.
SENDING = ("12", "18", "32", "33", "35", "36", "51", "52", "53", "61", "64", "73")
COUNTRIES = ("MY", "SA", "HK", "TW", "SG", "KR", "JP", "AE", "QA", "KW", "BN", "IT")
PAGE_TARGET_MS = 1000.0
# Villages with programme records (Desmigratif reached about 400 villages by 2019; more here, to err heavy).
PROGRAMME_VILLAGES = 1_000


def reset_database() -> str:
    subprocess.run(["dropdb", "--if-exists", "--force", PG_DB], check=True, capture_output=True, timeout=120)
    subprocess.run(["createdb", PG_DB], check=True, capture_output=True, timeout=120)
    return PG_URL


def generate(db: Database, households: int) -> dict[str, int]:
    """Fill ``records`` with ``households`` households and their children; returns row counts."""
    seed = 0.4242
    with db.write() as conn:
        conn.execute(text("SELECT setseed(:s)"), {"s": seed})
        sending = ", ".join(f"'{p}'" for p in SENDING)
        conn.execute(text(
            "CREATE TEMP TABLE bench_villages AS SELECT row_number() OVER (ORDER BY md5(code)) AS idx, code "
            f"FROM regions WHERE level = 4 AND (substr(code, 1, 2) IN ({sending}) OR md5(code) < '2')"))
        villages = int(conn.execute(text("SELECT count(*) FROM bench_villages")).scalar_one())
        conn.execute(text("CREATE TEMP SEQUENCE bench_seq"))
        stamp = "'2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z'"
        cols = "entity, id, scope, parent_id, data, fmeta, version, deleted, server_seq, created_at, updated_at"
        # Households: a village index skewed towards the first villages (power 1.6).
        conn.execute(text(
            f"INSERT INTO records ({cols}) SELECT 'households', 'h' || g.i, v.code, NULL, "
            "json_build_object('village_code', v.code, 'head_name', 'Kepala ' || g.i, 'visited_on', '2024-05-01', "
            "'consent', true)::text, '{}', s.n, false, s.n, " + stamp + " "
            "FROM (SELECT i, 1 + floor(power(random(), 1.6) * :nv)::int AS vi FROM generate_series(1, :n) i) g "
            "JOIN bench_villages v ON v.idx = g.vi CROSS JOIN LATERAL (SELECT nextval('bench_seq') + 0 * g.i AS n) s"),
            {"nv": villages, "n": households})
        # Members: 1–5 per household (mean 3); ~12 % abroad now, ~10 % returned, ~8 % prospective.
        # 60 % hold a NIK, unique per member except 0.06 % of all members (0.1 % of the NIK holders),
        # who hold the NIK of the next household's first member (a duplicate when that one has it).
        conn.execute(text(
            f"INSERT INTO records ({cols}) SELECT 'members', m.hid || '.' || m.j, m.scope, m.hid, "
            "json_build_object('household_id', m.hid, 'name', 'Anggota ' || m.j, 'sex', CASE WHEN m.j % 2 = 0 "
            "THEN 'P' ELSE 'L' END, 'relationship', CASE WHEN m.j = 1 THEN 'kepala' ELSE 'anak' END, "
            "'migration_status', CASE WHEN m.r < 0.12 THEN 'pmi_aktif' WHEN m.r < 0.22 THEN 'pmi_purna' "
            "WHEN m.r < 0.30 THEN 'calon_pmi' ELSE 'bukan' END, 'nik', CASE WHEN m.k < 0.6 THEN '32' || "
            "lpad((CASE WHEN m.k < 0.0006 THEN (m.i + 1) * 10 + 1 ELSE m.i * 10 + m.j END)::text, 14, '0') END)"
            "::text, '{}', s.n, false, s.n, " + stamp + " "
            "FROM (SELECT h.id AS hid, substr(h.id, 2)::bigint AS i, h.scope, j, random() AS r, random() AS k "
            "FROM records h, "
            "generate_series(1, 1 + floor(random() * 5)::int) j WHERE h.entity = 'households') m "
            "CROSS JOIN LATERAL (SELECT nextval('bench_seq') + 0 * m.j AS n) s"))
        # Placements: one per worker abroad or returned; remittances in Rp 50,000 steps, 85 % reported.
        conn.execute(text(
            f"INSERT INTO records ({cols}) SELECT 'placements', 'p' || p.mid, p.scope, p.mid, "
            "json_build_object('member_id', p.mid, 'country', (ARRAY[" + ", ".join(f"'{c}'" for c in COUNTRIES)
            + "])[1 + floor(power(random(), 2) * :nc)::int], 'job', 'prt', 'monthly_remittance', CASE WHEN "
            "random() < 0.85 THEN (20 + floor(random() * 100)::int) * 50000 END, 'returned_on', CASE WHEN p.purna "
            "THEN '2023-06-01' END)::text, '{}', s.n, false, s.n, " + stamp + " "
            "FROM (SELECT id AS mid, scope, data LIKE '%pmi_purna%' AS purna FROM records WHERE entity = 'members' "
            "AND (data LIKE '%pmi_aktif%' OR data LIKE '%pmi_purna%')) p "
            "CROSS JOIN LATERAL (SELECT nextval('bench_seq') + 0 * length(p.mid) AS n) s"), {"nc": len(COUNTRIES)})
        # Businesses: ~30 % of households; 85 % active.
        conn.execute(text(
            f"INSERT INTO records ({cols}) SELECT 'businesses', 'b' || b.hid, b.scope, b.hid, "
            "json_build_object('household_id', b.hid, 'name', 'Usaha', 'kbli_category', "
            "chr(65 + floor(random() * 21)::int), 'status', CASE WHEN random() < 0.85 THEN 'aktif' ELSE 'tutup' END, "
            "'export_ready', random() < 0.1, 'umkm_class', (ARRAY['mikro', 'mikro', 'mikro', 'kecil', 'menengah'])"
            "[1 + floor(random() * 5)::int])::text, '{}', s.n, false, s.n, " + stamp + " "
            "FROM (SELECT id AS hid, scope FROM records WHERE entity = 'households' AND random() < 0.3) b "
            "CROSS JOIN LATERAL (SELECT nextval('bench_seq') + 0 * length(b.hid) AS n) s"))
        generate_programme(conn, min(PROGRAMME_VILLAGES, villages))
        conn.execute(text("UPDATE seq_counter SET value = (SELECT max(server_seq) FROM records)"))
        counts = {str(e): int(n) for e, n in conn.execute(text("SELECT entity, count(*) FROM records GROUP BY entity"))}
        counts["villages_sampled"] = villages
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return counts


def generate_programme(conn: Any, villages: int) -> None:
    """Programme records (issue 15) in the ``villages`` villages holding most households, per
    village about what ``desmig demo`` makes (``services.demo_programme``) over the year before
    2024-05-01: a profile (90 % active), a cooperative with 8–20 member links and 2–5 businesses,
    30–70 services (a few recent complaints still open), 12–36 parenting activities with 2–8
    children each, support for 30 % of the village's businesses, 12–36 officer activities."""
    stamp = "'2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z'"
    cols = "entity, id, scope, parent_id, data, fmeta, version, deleted, server_seq, created_at, updated_at"
    day = "to_char(date '2024-05-01' - floor(random() * 365)::int, 'YYYY-MM-DD')"

    def insert(entity: str, id_sql: str, parent_sql: str, data_sql: str, from_sql: str, **params: Any) -> None:
        # (the lateral names the row's own id: PostgreSQL memoizes it per distinct value otherwise)
        conn.execute(text(
            f"INSERT INTO records ({cols}) SELECT '{entity}', {id_sql}, x.code, {parent_sql}, ({data_sql})::text, "
            f"'{{}}', s.n, false, s.n, {stamp} FROM ({from_sql}) x "
            f"CROSS JOIN LATERAL (SELECT nextval('bench_seq') + 0 * length({id_sql}) AS n) s"), params)

    conn.execute(text(
        "CREATE TEMP TABLE bench_pv AS SELECT scope AS code FROM records WHERE entity = 'households' "
        "GROUP BY scope ORDER BY count(*) DESC, scope LIMIT :v"), {"v": villages})
    # The programme villages' members, numbered per village, for the links to members.
    conn.execute(text(
        "CREATE TEMP TABLE bench_pm AS SELECT m.scope AS code, m.id, m.data LIKE '%\"anak\"%' AS child, "
        "row_number() OVER (PARTITION BY m.scope ORDER BY m.id) AS rn FROM records m JOIN bench_pv v "
        "ON v.code = m.scope WHERE m.entity = 'members'"))
    conn.execute(text("CREATE INDEX ON bench_pm (code, rn)"))
    insert("village_profiles", "'vp' || x.code", "NULL",
           "json_build_object('village_code', x.code, 'joined_year', 2017 + floor(random() * 6)::int, "
           "'status', CASE WHEN random() < 0.9 THEN 'aktif' ELSE 'lulus' END)", "SELECT code FROM bench_pv")
    insert("cooperatives", "'co' || x.code", "NULL",
           "json_build_object('village_code', x.code, 'name', 'Koperasi Desmigratif', 'group_kind', 'koperasi', "
           "'legal_status', 'belum', 'status', 'aktif')", "SELECT code FROM bench_pv")
    insert("cooperative_members", "'cm' || x.id", "'co' || x.code",
           f"json_build_object('cooperative_id', 'co' || x.code, 'member_id', x.id, 'role', 'anggota', "
           f"'joined_on', {day})",
           "SELECT code, id FROM bench_pm WHERE rn <= 8 + abs(hashtext(code)) % 13")
    insert("cooperative_businesses", "'cb' || x.id", "'co' || x.code",
           "json_build_object('cooperative_id', 'co' || x.code, 'business_id', x.id, 'support', 'Pinjaman modal')",
           "SELECT b.scope AS code, b.id FROM (SELECT r.scope, r.id, row_number() OVER (PARTITION BY r.scope "
           "ORDER BY r.id) AS rn FROM records r JOIN bench_pv v ON v.code = r.scope WHERE r.entity = 'businesses') b "
           "WHERE b.rn <= 2 + abs(hashtext(b.scope)) % 4")
    # Services: 40 % information, 25 % documents, 15 % orientation, 10 % complaints, 10 % return;
    # complaints of the last 120 days open or in follow-up two times in three; 60 % name a member.
    insert("services", "'sv' || x.code || '.' || x.i", "NULL",
           "json_build_object('village_code', x.code, 'served_on', to_char(x.served, 'YYYY-MM-DD'), "
           "'service_type', x.kind, 'member_id', (SELECT id FROM bench_pm m WHERE m.code = x.code AND m.rn = x.pick), "
           "'walk_in_name', CASE WHEN x.pick IS NULL THEN 'Tamu' END, 'status', CASE WHEN x.kind = 'pengaduan' "
           "AND x.served > date '2024-01-01' AND x.r2 < 0.67 THEN (CASE WHEN x.r2 < 0.33 THEN 'terbuka' ELSE "
           "'ditindaklanjuti' END) ELSE 'selesai' END, 'referral', 'tidak')",
           "SELECT code, i, served, kind, r2, CASE WHEN r3 < 0.6 THEN 1 + floor(r3 / 0.6 * cnt)::int END AS pick "
           "FROM (SELECT v.code, i, date '2024-05-01' - floor(random() * 365)::int AS served, random() AS r2, "
           "random() AS r3, (SELECT count(*) FROM bench_pm m WHERE m.code = v.code) AS cnt, "
           "CASE WHEN k.r < 0.4 THEN 'informasi' WHEN k.r < 0.65 THEN 'dokumen' WHEN k.r < 0.8 THEN 'orientasi' "
           "WHEN k.r < 0.9 THEN 'pengaduan' ELSE 'reintegrasi' END AS kind FROM bench_pv v, "
           "generate_series(1, 30 + abs(hashtext(v.code || 's')) % 41) i, LATERAL (SELECT random() + 0 * i AS r) k) y")
    insert("parenting_activities", "'pa' || x.code || '.' || x.i", "NULL",
           f"json_build_object('village_code', x.code, 'held_on', {day}, 'activity_type', 'kelompok_belajar', "
           "'facilitator', 'Pendamping', 'topic', 'Belajar membaca bersama', 'walk_in_children', 2)",
           "SELECT v.code, i FROM bench_pv v, generate_series(1, 12 + abs(hashtext(v.code || 'p')) % 25) i")
    conn.execute(text(
        "CREATE TEMP TABLE bench_pc AS SELECT code, id, row_number() OVER (PARTITION BY code ORDER BY id) AS rn, "
        "count(*) OVER (PARTITION BY code) AS cnt FROM bench_pm WHERE child"))
    insert("parenting_attendance", "x.aid || '.' || x.cid", "x.aid",
           "json_build_object('activity_id', x.aid, 'member_id', x.cid, 'role', 'anak')",
           "SELECT DISTINCT a.scope AS code, a.id AS aid, c.id AS cid FROM records a "
           "JOIN (SELECT code, max(cnt) AS cnt FROM bench_pc GROUP BY code) pv ON pv.code = a.scope "
           "CROSS JOIN LATERAL (SELECT 1 + floor(random() * pv.cnt)::int AS pick FROM generate_series(1, "
           "2 + floor(random() * 7 + 0 * length(a.id))::int) j) p "
           "JOIN bench_pc c ON c.code = a.scope AND c.rn = p.pick WHERE a.entity = 'parenting_activities'")
    insert("business_supports", "'bs' || x.id || '.' || x.j", "x.id",
           f"json_build_object('business_id', x.id, 'support_type', CASE WHEN random() < 0.6 THEN 'pelatihan' "
           f"ELSE 'modal' END, 'received_on', {day}, 'provider', 'Dinas Ketenagakerjaan', "
           "'amount', (2 + floor(random() * 48)::int) * 500000)",
           "SELECT r.scope AS code, r.id, j FROM records r JOIN bench_pv v ON v.code = r.scope, "
           "generate_series(1, 1 + floor(random() * 2 + 0 * length(r.id))::int) j "
           "WHERE r.entity = 'businesses' AND random() < 0.3")
    insert("officer_activities", "'oa' || x.code || '.' || x.i", "NULL",
           f"json_build_object('village_code', x.code, 'held_on', {day}, 'activity_kind', 'sosialisasi', "
           "'partners', 'dinaker,pemdes', 'topic', 'Migrasi aman dan prosedural', "
           "'attendance', 5 + floor(random() * 56)::int)",
           "SELECT v.code, i FROM bench_pv v, generate_series(1, 12 + abs(hashtext(v.code || 'o')) % 25) i")


def pages(db: Database) -> list[tuple[str, str, str]]:
    """(name, level, prefix) of every dashboard page, down the busiest path."""
    with db.read() as conn:
        village = conn.execute(text("SELECT scope FROM records WHERE entity = 'households' GROUP BY scope "
                                    "ORDER BY count(*) DESC, scope LIMIT 1")).scalar_one()
    return [("national", "province", ""), ("province", "regency", village[:2]), ("regency", "district", village[:5]),
            ("district", "village", village[:8]), ("village", "village", village)]


def report_rows(db: Database, households: int, repeat: int, baseline_repeat: int,
                baselines: dict[str, float] | None = None) -> list[Row]:
    """``build_report`` per dashboard level against the full recomputation; the baselines' p95
    (page name → ms) go into ``baselines`` for the HTTP rows."""
    rows: list[Row] = []
    for name, level, prefix in pages(db):
        fast = timed(partial(build_report, db, level=level, prefix=prefix), repeat)
        slow = timed(partial(recompute_report, db, level=level, prefix=prefix), baseline_repeat) if name in (
            "national", "province", "regency") else None
        assert build_report(db, level=level, prefix=prefix) == recompute_report(db, level=level, prefix=prefix)
        value = p95(fast)
        if slow and baselines is not None:
            baselines[name] = p95(slow)
        rows.append(Row(f"HQ {name} page ({level} rows{', ' + prefix if prefix else ''}), {households:,} households, "
                        "PostgreSQL, p95", value, "ms", p95(slow) if slow else None,
                        "p95 < 1 s", value < PAGE_TARGET_MS, "full recomputation" if slow else "",
                        note=f"{repeat} runs; baseline {baseline_repeat} runs" if slow else f"{repeat} runs"))
        show(rows[-1])
    return rows


def _op(seq: int, entity: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"op_seq": seq, "entity": entity, "id": record_id, "kind": "upsert", "base_version": 0, "fields": fields,
            "op_hash": op_hash(entity, record_id, "upsert", 0, fields), "captured_at": "2024-05-01T08:00:00Z"}


def push_rate(url: str, villages: list[str], batches: int, per_batch: int) -> float:
    """Ops per second of one device pushing ``batches`` pushes of new households (+2 members each),
    each push into one of ``villages`` (an officer's batch is one village's)."""
    body = requests.post(url + "/v1/devices/register", json={"username": "pusat", "password": PASSWORD,
                                                             "device_name": f"bench-{uuid.uuid4().hex[:6]}"},
                         timeout=60).json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    seq, ops_done, elapsed = 1, 0, 0.0
    for b in range(batches):
        ops: list[dict[str, Any]] = []
        while len(ops) < per_batch:
            hid = uuid.uuid4().hex
            village = villages[b % len(villages)]
            ops.append(_op(seq, "households", hid, {"village_code": village, "head_name": "Budi", "consent": True,
                                                    "visited_on": "2024-05-01"}))
            for j in range(2):
                ops.append(_op(seq + 1 + j, "members", f"{hid}-{j}", {"household_id": hid, "name": "Siti",
                                                                      "sex": "P", "relationship": "anak",
                                                                      "migration_status": "pmi_aktif"}))
            seq += 3
        start = time.perf_counter()
        response = requests.post(url + "/v1/sync/push", json={"device_id": body["device_id"], "app_schema": 1,
                                                              "ops": ops}, headers=headers, timeout=600)
        elapsed += time.perf_counter() - start
        assert response.status_code == 200, response.text[:300]
        assert all(r["status"] == "ok" for r in response.json()["results"])
        ops_done += len(ops)
        time.sleep(0.3)  # an officer's laptops push now and then; the follower gets its turns
    return ops_done / elapsed


def _has_user(db: Database) -> bool:
    with db.read() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM users WHERE username = 'pusat'")).scalar_one())


def push_rows(db: Database, work: Path, rounds: int, batches: int, per_batch: int) -> list[Row]:
    with db.read() as conn:  # villages holding data, in no particular order
        villages = list(conn.execute(text("SELECT scope FROM records WHERE entity = 'households' GROUP BY scope "
                                          "ORDER BY md5(scope) LIMIT 200")).scalars())
    if not _has_user(db):
        add_users(db.url, {"pusat": ("hq", [])})
    rates: dict[str, list[float]] = {"on": [], "off": []}
    for r in range(rounds):
        for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
            catch_up(db)  # each run starts with the aggregates current (the off run leaves villages dirty)
            env = {} if mode == "on" else {"DESMIG_HQ_AGGREGATES_FOLLOW_SECONDS": "0"}
            with ServeProcess(db.url, work / f"serve-{mode}-{r}.log", env=env) as server:
                rates[mode].append(push_rate(server.url, villages[(r * 2 + (mode == "on")) * batches:], batches,
                                             per_batch))
            print(f"push round {r} aggregates {mode}: {rates[mode][-1]:.0f} ops/s", flush=True)
    catch_up(db)
    on, off = sorted(rates["on"])[len(rates["on"]) // 2], sorted(rates["off"])[len(rates["off"]) // 2]
    row = Row(f"HQ push throughput with aggregates followed (every {Settings().aggregates_follow_s:.0f} s, the "
              f"default; {batches}×{per_batch} ops, one village per push, median of {rounds})", on, "ops/s", off,
              "≥ 0.90 of aggregates off", on >= 0.9 * off, "aggregates off",
              note="on: " + ", ".join(f"{x:.0f}" for x in rates["on"]) + "; off: "
              + ", ".join(f"{x:.0f}" for x in rates["off"]))
    show(row)
    return [row]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.hq_national")
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="5,000 households, few repetitions")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument("--push-rounds", type=int, default=3)
    parser.add_argument("--pages-repeat", type=int, default=7, help="HTTP requests per page after one warm-up")
    parser.add_argument("--no-push", action="store_true", help="skip the push throughput rows")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the households of an earlier run in desmig_agg (time a rebuild instead)")
    args = parser.parse_args(argv)
    households = 5_000 if args.smoke else args.households
    repeat, baseline_repeat = (5, 2) if args.smoke else (args.repeat, args.baseline_repeat)
    work = Path(tempfile.mkdtemp(prefix="desmig-national-"))
    url = PG_URL if args.reuse else reset_database()
    db = Database(url, pool_size=4, max_overflow=4)
    params: dict[str, Any] = {"households": households, "database": PG_DB, "smoke": args.smoke,
                              "note": "2 CPU cores shared with up to 8 concurrent helper sessions"}
    rows: list[Row] = []
    try:
        migrate(db)
        begin = time.perf_counter()
        if args.reuse:
            with db.read() as conn:
                params.update({str(e): int(n) for e, n in conn.execute(text(
                    "SELECT entity, count(*) FROM records GROUP BY entity"))})
            params["reused"] = True
        else:
            params.update(generate(db, households))
            params["seconds_generate"] = round(time.perf_counter() - begin, 1)
        households = int(params["households"])  # a reused database holds earlier runs' pushes too
        print(f"data {params}", flush=True)
        begin = time.perf_counter()
        # Every village from the records: what migration 11 costs (a first catch-up, watermark 0,
        # takes this path too).
        villages = rebuild(db)
        built = time.perf_counter() - begin
        with db.engine.connect() as conn:  # what autovacuum does soon after a bulk fill
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE member_niks"))
        rows.append(Row(f"HQ aggregates built from {households:,} households ({villages:,} villages)", built, "s",
                        None, "(recorded)", None))
        show(rows[-1])
        baselines: dict[str, float] = {}
        rows.extend(report_rows(db, households, repeat, baseline_repeat, baselines))
        rows.extend(page_rows(db, work, households, 5 if args.smoke else args.pages_repeat, baselines))
        if not args.no_push:
            rows.extend(push_rows(db, work, 1 if args.smoke else args.push_rounds, 3 if args.smoke else 12,
                                  300 if args.smoke else 1500))
    finally:
        db.dispose()
    json_path, md_path = write_report(rows, params, suffix="-hq_national" + ("-smoke" if args.smoke else ""))
    print(f"results: {json_path} {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
