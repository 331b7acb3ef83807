"""A day's work over a village's mobile link: the real ``desmig sync`` through ``bench.shaping_proxy``.

The device holds its villages' data, already synced (the demo DB pushed and pulled over an
unshaped link); a second device of another officer with the same villages pushes 20 corrections
through the server's ordinary write path; the officer saves 50 new households (like form saves)
and edits 20. Then ``desmig --data-dir … sync --json`` runs in a child process — interpreter
start, DB open (key derivation on the encrypted DB) and the whole cycle — with the proxy shaping
1 Mbit/s down, 384 kbit/s up, 300 ms round trip and seeded stalls (``LinkShape.village``).

Baseline, same run: the gzipped JSON of exactly the changed records (the 50 new households with
their members, placements and businesses and the 20 edited rows up; the 20 corrected rows down),
sent once each way over the same link: its bytes, and its time at those rates plus one round
trip each way. The HTTP requests the cycle made are counted by kind from the request lines the
proxy saw; pulls are told apart per village scope, and those of scopes with no HQ correction are
listed as the ones a sync without the echo of the device's own changes would not need.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import hq
from bench.common import Row, show
from bench.encrypted import ENCRYPTED, PLAINTEXT, encrypt, passphrase_env
from bench.shaping_proxy import LinkShape, ProxyStats, ProxyThread
from bench.sync import PETUGAS, copy_db, fresh_device, villages_of
from desmig_desktop.domain.fields import ENTITY_ORDER
from desmig_testing import serve

KOREKSI = "koreksi"  # the second device's officer: same villages, pushes the corrections
NEW, EDITED, CORRECTED = 50, 20, 20
LINK = "1 Mbit/s down, 384 kbit/s up, 300 ms RTT"
NAME = "day's work over shaped link"
KINDS = {"/v1/sync/hello": "hello", "/v1/sync/push": "push batch", "/v1/sync/pull": "pull page",
         "/v1/sync/changes": "pull page", "/v1/sync/conflicts": "lost-values feed",
         "/v1/sync/resolutions": "resolutions feed", "/v1/devices/rotate": "token rotation",
         "/v1/devices/register": "register"}


def scopes_pulled(request: Any) -> list[str]:
    """The village scopes one pull request names: one (``/v1/sync/pull?scope=``) or several
    (``/v1/sync/changes?cursors=CODE:SEQ,...``, issue 21 §3)."""
    if request.path == "/v1/sync/pull":
        return [request.query("scope")]
    if request.path == "/v1/sync/changes":
        return [c.split(":")[0] for c in (request.query("cursors") or "").split(",") if c]
    return []


@dataclass
class Prepared:
    """The state both measured syncs start from: HQ file, device file, baseline sizes."""

    hq_db: Path
    device_db: Path
    up_gz: int
    down_gz: int
    pending: int
    corrected_scopes: set[str]
    corrections: dict[str, str]  # household id -> corrected notes
    scopes: int
    households: int


def _rows(db: Any, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for entity, record_id in pairs:
        cursor = db.execute(f"SELECT * FROM {entity} WHERE id = ?", [record_id])
        names = [c[0] for c in cursor.description]
        out.append({"entity": entity, **dict(zip(names, cursor.fetchone()))})
    return out


def _gz_json(rows: list[dict[str, Any]]) -> int:
    return len(gzip.compress(json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str).encode()))


def prepare(work: Path, demo: Path, *, hq_template: Path, local_tpl: Path, proxy: ProxyThread, seed: int = 7) -> Prepared:
    """Build the starting state over an unshaped proxy (the device's server URL is the proxy's)."""
    from desmig_desktop.services.demo import DemoFactory
    from desmig_desktop.services.households import save_household
    from desmig_desktop.services.sync_service import login, run_cycle
    from desmig_desktop.store import records
    from desmig_desktop.store.db import connect
    from desmig_desktop.store.records import Change

    villages = villages_of(demo)
    server = hq.HqServer.sqlite(work / "hq", hq_template)
    hq.add_users(server.db_url, {PETUGAS: ("officer", villages), KOREKSI: ("officer", villages)})
    proxy.proxy.upstream = ("127.0.0.1", server.port)
    proxy.set_shape(None)
    rng = random.Random(seed)
    with server:
        device = fresh_device(demo, work / "device")
        db = connect(device)
        desk = connect(fresh_device(local_tpl, work / "koreksi"))
        try:
            login(db, proxy.url, PETUGAS, hq.PASSWORD, "bench-shaped")
            run_cycle(db)  # the villages' data, synced
            login(desk, server.url, KOREKSI, hq.PASSWORD, "bench-koreksi")
            run_cycle(desk)
            ids = [r[0] for r in db.execute("SELECT id FROM households WHERE deleted = 0 ORDER BY id")]
            chosen = rng.sample(ids, EDITED + CORRECTED)
            edited, corrected = chosen[:EDITED], chosen[EDITED:]
            corrections = {hid: f"koreksi HQ {n}" for n, hid in enumerate(corrected)}
            for hid, notes in corrections.items():
                records.apply_changes(desk, [Change("households", hid, {"notes": notes})])
            run_cycle(desk)  # HQ's corrections, through the server's write path
            down = _rows(desk, [("households", hid) for hid in corrected])
            corrected_scopes = {r["village_code"] for r in down}
            factory = DemoFactory(seed=seed)
            for n in range(NEW):
                save_household(db, factory.household(villages[n % len(villages)]), confirm_warnings=True)
            for n, hid in enumerate(edited):
                records.apply_changes(db, [Change("households", hid, {"notes": f"kunjungan {n}"})])
            touched = [(e, r) for e, r in db.execute(
                "SELECT entity, record_id FROM sync_outbox GROUP BY entity, record_id ORDER BY min(op_seq)")]
            touched.sort(key=lambda t: ENTITY_ORDER.index(t[0]))
            up = _rows(db, touched)
            pending = int(db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0])
            scopes = len(json.loads(db.execute("SELECT value FROM sync_state WHERE key = 'scopes'").fetchone()[0]))
            households = len(ids)
        finally:
            db.conn.close()
            desk.conn.close()
    hq_db = work / "hq-start.db"
    device_db = work / "device-start.db"
    assert server.sqlite_path is not None
    copy_db(server.sqlite_path, hq_db)
    copy_db(device, device_db)
    return Prepared(hq_db, device_db, _gz_json(up), _gz_json(down), pending, corrected_scopes, corrections, scopes,
                    households)


@dataclass
class Measured:
    seconds: float
    stats: ProxyStats
    report: dict[str, Any]


def measure(work: Path, start: Prepared, proxy: ProxyThread, shape: LinkShape, passphrase: str | None) -> Measured:
    """``desmig sync`` from ``start``'s state (fresh copies), through the shaped proxy."""
    from desmig_desktop.store.db import connect

    server = hq.HqServer.sqlite(work / "hq", start.hq_db)
    device = fresh_device(start.device_db, work / "device")
    if passphrase:
        encrypt(device, passphrase)
    with server:
        proxy.proxy.upstream = ("127.0.0.1", server.port)
        proxy.set_shape(shape)
        begin = time.perf_counter()
        proc = subprocess.run([*serve.script("desmig"), "--data-dir", str(device.parent), "sync", "--json"],
                              check=False, capture_output=True, text=True, timeout=600,
                              env={**hq.child_env(), **passphrase_env(passphrase)})
        seconds = time.perf_counter() - begin
        stats = proxy.stats
        proxy.set_shape(None)
    if proc.returncode != 0:
        raise RuntimeError(f"desmig sync failed ({proc.returncode}): {proc.stderr[-3000:]}")
    report = json.loads(proc.stdout)
    db = connect(device, passphrase)
    try:
        got = {hid: db.execute("SELECT notes FROM households WHERE id = ?", [hid]).fetchone()[0]
               for hid in start.corrections}
    finally:
        db.conn.close()
    if report.get("pending_ops") or report.get("pushed") != start.pending or got != start.corrections:
        received = sum(got[h] == v for h, v in start.corrections.items())
        raise RuntimeError(f"shaped sync incomplete: {report}, corrections received {received}")
    return Measured(seconds, stats, report)


def kinds(stats: ProxyStats) -> dict[str, tuple[int, int, int]]:
    """Per kind of request: (requests, bytes up, bytes down), HTTP heads included."""
    out: dict[str, tuple[int, int, int]] = {}
    for r in stats.requests:
        n, up, down = out.get(KINDS.get(r.path, r.path), (0, 0, 0))
        out[KINDS.get(r.path, r.path)] = (n + 1, up + r.bytes_up, down + r.bytes_down)
    return out


def rows(start: Prepared, run: Measured, shape: LinkShape, plain: Measured | None, *, encrypted: bool) -> list[Row]:
    base_s = start.up_gz * 8 / shape.up_bps + start.down_gz * 8 / shape.down_bps + 2 * shape.rtt_s
    base_bytes = start.up_gz + start.down_gz
    stats = run.stats
    counted = kinds(stats)
    pull_scopes = Counter(s for r in stats.requests for s in scopes_pulled(r))
    needless = sorted(s for s in pull_scopes if s is not None and s not in start.corrected_scopes)
    listing = "; ".join(f"{k} ×{n} ({up:,} B up, {down:,} B down)" for k, (n, up, down) in sorted(counted.items()))
    out = [
        Row(f"{NAME}: wall time{ENCRYPTED if encrypted else ''}", run.seconds, "s", base_s, "< 5 s", run.seconds < 5,
            baseline_name="changed records gzipped, once each way at the link's rates + 1 RTT each way",
            note=f"{NEW} new + {EDITED} edited households to send, {CORRECTED} HQ corrections to receive, {LINK},"
                 f" device with {start.households:,} households; `desmig sync` process incl. start and DB open;"
                 f" link busy {stats.busy_seconds():.1f} s;"
                 f" {stats.stalls} stalls ({stats.stall_seconds:.2f} s); pushed {run.report.get('pushed')},"
                 f" pulled {run.report.get('pulled')} ({CORRECTED} corrections; an echo of what it pushed would add"
                 f" {start.pending})"),
        Row(f"{NAME}: bytes up + down", stats.bytes_up + stats.bytes_down, "bytes", base_bytes,
            "≤ 1.5× baseline", stats.bytes_up + stats.bytes_down <= 1.5 * base_bytes,
            baseline_name="gzipped JSON of the changed records, once each way",
            note=f"up {stats.bytes_up:,} vs {start.up_gz:,}; down {stats.bytes_down:,} vs {start.down_gz:,}"
                 f" (HTTP headers included)"),
        Row(f"{NAME}: bytes up", stats.bytes_up, "bytes", start.up_gz, "context (no §7 target)", None,
            baseline_name=f"gzipped JSON of the {NEW} new households' records + {EDITED} edited rows",
            note=f"{start.pending} ops pushed"),
        Row(f"{NAME}: bytes down", stats.bytes_down, "bytes", start.down_gz, "context (no §7 target)", None,
            baseline_name=f"gzipped JSON of the {CORRECTED} corrected rows"),
        Row(f"{NAME}: HTTP round trips", len(stats.requests), "requests", 2, "listed (no numeric target)", None,
            baseline_name="one request each way",
            note=f"{listing}; {stats.connections} connection(s); pulls named {len(pull_scopes)} of {start.scopes}"
                 f" village scopes ({sum(pull_scopes.values())} scope-pages), {len(needless)} of them in villages"
                 f" without any HQ correction (hello's scope_seqs cannot skip those a push just changed)"),
    ]
    ideal = {"hello": 1, "push batch": 1, "pull page": 1}  # one pull for all villages, no echo to page through
    for kind, (n, up, down) in sorted(counted.items()):
        extra = ""
        if kind == "pull page":
            pages = Counter(pull_scopes.values())
            extra = "; " + ", ".join(f"{scopes} scope(s) × {p} page(s)" for p, scopes in sorted(pages.items()))
        out.append(Row(f"{NAME}: HTTP requests, {kind}", n, "requests", ideal.get(kind), "listed (no numeric target)",
                       None, baseline_name="needed by one cycle" if kind in ideal else "",
                       note=f"{up:,} B up, {down:,} B down{extra}"))
    if plain is not None:
        pb = plain.stats.bytes_up + plain.stats.bytes_down
        out.append(Row(f"{NAME}: wall time{PLAINTEXT}", plain.seconds, "s", run.seconds, "context (no §7 target)",
                       None, baseline_name="same sync on the SQLCipher DB",
                       note=f"encryption costs {(run.seconds / plain.seconds - 1) * 100:+.0f} %;"
                            f" {len(plain.stats.requests)} requests, {pb:,} bytes"))
    for row in out:
        show(row)
    return out


def run(work: Path, demo: Path, *, hq_template: Path, local_tpl: Path, passphrase: str | None,
        plain_twin: bool, seed: int = 1) -> list[Row]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shape = LinkShape.village(seed)
    with ProxyThread(0) as proxy:
        start = prepare(work / "prepare", demo, hq_template=hq_template, local_tpl=local_tpl, proxy=proxy)
        measured = measure(work / "encrypted" if passphrase else work / "plain", start, proxy, shape, passphrase)
        plain = measure(work / "plain", start, proxy, shape, None) if passphrase and plain_twin else None
    return rows(start, measured, shape, plain, encrypted=passphrase is not None)
