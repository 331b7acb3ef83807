"""End to end through the real command lines: ``desmig-hq user add`` + ``serve`` on a random
127.0.0.1 port, two officers sharing one village (and one more in another province), an HQ
user; demo data, edits, deletes and conflicts on several laptops; ``desmig sync`` until
quiet; every laptop equals the server; HQ's report equals the officers' reports added up."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from desmig_desktop.services.reports import COUNT_KEYS
from tests.sync.harness import PASSWORD, USERS, VILLAGE_1, VILLAGE_2, VILLAGE_3, Device, HqServer
from tests.sync.invariants import InvariantChecker

pytestmark = pytest.mark.e2e


def run_ok(done, what: str):
    assert done.returncode == 0, f"{what}: {done.stderr}"
    return done


def add_up(rows: list[dict]) -> dict:
    total: Counter = Counter()
    kbli: Counter = Counter()
    for row in rows:
        total.update({k: row[k] for k in COUNT_KEYS})
        kbli.update(row["businesses_by_kbli"])
    return {**{k: total[k] for k in COUNT_KEYS}, "businesses_by_kbli": dict(sorted(kbli.items()))}


@pytest.fixture
def server(tmp_path: Path):
    hq_server = HqServer(tmp_path / "hq.db", tmp_path / "serve.log")
    for name, (role, villages) in USERS.items():
        args = ["user", "add", name, "--role", role, "--password-stdin"]
        if villages:
            args += ["--villages", ",".join(villages)]
        run_ok(hq_server.hq(*args, stdin=PASSWORD + "\n"), f"user add {name}")
    hq_server.start()
    yield hq_server
    hq_server.stop()


def test_officers_and_hq_converge_and_reports_add_up(server: HqServer, scratch: Path, template_db: Path):
    devices = {name: Device(scratch / name, name, template_db) for name in ("ana", "budi", "citra", "pusat")}
    ana, budi, citra, pusat = devices.values()
    demo = {"ana": (12, f"{VILLAGE_1},{VILLAGE_2}", 11), "budi": (8, VILLAGE_1, 22), "citra": (6, VILLAGE_3, 33)}
    for name, (count, villages, seed) in demo.items():
        run_ok(devices[name].cli("demo", "--households", str(count), "--villages", villages, "--seed", str(seed)),
               f"demo {name}")
        devices[name].remember()
    for name, device in devices.items():
        done = run_ok(device.cli("login", "--server", server.url, "--username", name, "--password-stdin",
                                 "--device-name", f"laptop-{name}", stdin=PASSWORD + "\n"), f"login {name}")
        assert name in done.stdout
    wrong = ana.cli("login", "--server", server.url, "--username", "ana", "--password-stdin", stdin="salah\n")
    assert wrong.returncode == 1 and len(wrong.stderr.strip().splitlines()) == 1

    def sync_all(*order: Device) -> dict[str, dict]:
        out = {}
        for device in order:
            out[device.name] = json.loads(run_ok(device.cli("sync", "--json"), f"sync {device.name}").stdout)
        return out

    first = sync_all(ana, budi, citra, pusat, ana, budi)
    assert set(first["ana"]) >= {"pushed", "pulled", "conflicts", "rejected", "pending_ops"}
    assert first["ana"]["pending_ops"] == 0

    # Offline work on every laptop, touching each other's records.
    shared = [h for h in budi.live() if ana.row("households", h) is not None]
    budis = [h for h in shared if h not in ana.made_records()]
    anas_v1 = [h for h in shared if h in ana.made_records()]
    assert len(budis) >= 2 and len(anas_v1) >= 2
    budi.edit("households", anas_v1[0], head_name="Dikoreksi Budi")     # budi first ...
    ana.edit("households", anas_v1[0], head_name="Dikoreksi Ana")       # ... ana later: ana wins
    pusat.edit("households", anas_v1[1], hamlet="Dusun versi HQ")       # HQ first ...
    ana.edit("households", anas_v1[1], hamlet="Dusun versi petugas")    # ... HQ still wins (role)
    ana.edit("households", budis[0], notes="dicek ana")                 # disjoint fields merge
    budi.edit("households", budis[0], phone="081234567890")
    ana.delete_household(anas_v1[2])
    budi.delete_household(budis[1])
    member = budi.live("members")[0]
    budi.edit("members", member, occupation="Petani kopi")
    run_ok(citra.cli("demo", "--households", "3", "--villages", VILLAGE_3, "--seed", "44"), "demo citra")
    citra.remember()
    for device in devices.values():
        device.close()

    sync_all(budi, pusat, ana, citra, budi, pusat, ana, citra, budi, pusat)

    checker = InvariantChecker(server.db_path)
    checker.check(list(devices.values()), quiescent=True)
    assert ana.row("households", anas_v1[0])["head_name"] == "Dikoreksi Ana"
    assert budi.row("households", anas_v1[1])["hamlet"] == "Dusun versi HQ"
    assert (budi.row("households", budis[0])["notes"], ana.row("households", budis[0])["phone"]) == \
        ("dicek ana", "081234567890")
    for device in devices.values():
        device.close()

    status = {n: json.loads(run_ok(d.cli("status", "--json"), "status").stdout) for n, d in devices.items()}
    assert all(s["pending_ops"] == 0 and s["last_sync_at"] for s in status.values())
    # In her inbox: the hamlet she lost to HQ, and the fields of her village's profile that budi's
    # demo wrote first (one profile per village: both laptops' demos made the same record).
    open_conflicts = Counter(row[0] for row in ana.db.execute(
        "SELECT entity FROM sync_conflicts WHERE status = 'open'"))
    assert open_conflicts["households"] == 1 and set(open_conflicts) <= {"households", "village_profiles"}
    assert status["ana"]["open_conflicts"] == sum(open_conflicts.values())
    hq_conflicts = json.loads(run_ok(server.hq("conflicts", "--json"), "conflicts").stdout)
    items = hq_conflicts if isinstance(hq_conflicts, list) else hq_conflicts.get("conflicts", hq_conflicts.get("items"))
    assert len(items) >= 2  # budi's lost head_name, ana's lost hamlet

    hq_report = json.loads(run_ok(server.hq("report", "--json", "--level", "village"), "hq report").stdout)
    rows: dict[str, dict] = {}
    for name in ("ana", "budi", "citra"):
        local = json.loads(run_ok(devices[name].cli("report", "--json", "--level", "village"), "report").stdout)
        for row in local["rows"]:
            if row["code"] in rows:  # a village two officers share: both laptops count it the same
                assert {k: row[k] for k in (*COUNT_KEYS, "businesses_by_kbli")} == \
                    {k: rows[row["code"]][k] for k in (*COUNT_KEYS, "businesses_by_kbli")}
            rows[row["code"]] = row
    assert set(rows) == {VILLAGE_1, VILLAGE_2, VILLAGE_3}
    officers_total = add_up(list(rows.values()))
    hq_total = {k: hq_report["totals"][k] for k in (*COUNT_KEYS, "businesses_by_kbli")}
    assert {**hq_total, "businesses_by_kbli": dict(sorted(hq_total["businesses_by_kbli"].items()))} == officers_total
    assert officers_total["households"] == 12 + 8 + 6 + 3 - 2
    pusat_report = json.loads(run_ok(pusat.cli("report", "--json"), "pusat report").stdout)
    assert add_up([pusat_report["totals"]]) == officers_total  # the HQ laptop holds the whole picture
