"""One small dataset for every report test, loadable on a desktop DB and on an HQ server.

Villages: V1 Pondok Rajeg and V2 Karadenan (district Cibinong 32.01.01), V3 Wanaherang
(Gunungputri 32.01.02; all Kab. Bogor 32.01, Jawa Barat 32), V4 Cirahab (Lumbir 33.02.01,
Kab. Banyumas 33.02, Jawa Tengah 33), V5 Widoro (Donorojo 35.01.01, Kab. Pacitan, Jawa Timur 35:
only a deleted household, so it holds no data). Deleted records are in [brackets]; remittances
in millions of rupiah (``1.000001`` = Rp 1.000.001); ``↩`` marks a placement with a return date
(finished); a closed business is ``closed``.

V1 hA: a1 aktif (pa1 MY 3 ↩, pa2 SA 5), a2 purna (pa3 MY 2 ↩, pa4 HK -), a3 bukan, [a4 calon],
        [a5 aktif] (pa5 TW 9: live placement of a deleted member, never counted);
        bA1 G mikro (capital 0.5 bn) export-ready + exporting;
        bA2 C kecil (sales 3 bn) export-ready + exporting, closed
   hB: b1 calon; bB1 S, closed (the household's only business)
V2 hF: f1 aktif (pf1 MY 4); bF1 A umkm unknown, export-ready; [bF2 A]
V3 hC: c1 aktif (pc1 HK 6), c2 aktif (pc2 HK 1.000001, [pc3 MY 8]); bC1 I menengah (capital 6 bn),
        export-ready + exporting
V4 hD: d1 purna (pd1 SA 2.5, no return date filled in), d2 purna (pd2 SA -); bD1 G besar
        (capital 20 bn), readiness unknown
   hG: g1 aktif (pg1 JP, pg2 KR, pg3 TW: no remittance), g2 purna (pg4 QA -)
V5 [hE: e1 aktif (pe1 TW 7); bE1 G]  (household deleted: everything under it goes)

Where the definitions of issue 14 differ from the first ones: the current remittance counts only
pa2, pf1, pc1, pc2 (open placements of PMI aktif; every placement with a value counted before:
pa1, pa3 and pd1 too); businesses, their sectors, classes and export figures count active ones
(bA2 and bB1 are closed: V1 had 2 businesses, 2 households with one and 2 export-ready before);
areas holding data are counted once (two villages of Cibinong are one district).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

V1, V2, V3, V4, V5 = "32.01.01.1001", "32.01.01.1002", "32.01.02.2001", "33.02.01.2001", "35.01.01.2001"
MILIAR = 1_000_000_000
JUTA = 1_000_000


def _member(mid: str, status: str, relationship: str = "anak") -> dict[str, Any]:
    return {"id": mid, "name": f"Anggota {mid}", "sex": "P", "relationship": relationship,
            "migration_status": status}


def _placement(pid: str, member_id: str, country: str, remittance: int | None, *,
               returned: str | None = None) -> dict[str, Any]:
    dates = {"departed_on": "2019-03-01", "returned_on": returned} if returned else {}
    return {"id": pid, "member_id": member_id, "country": country, "job": "prt", "monthly_remittance": remittance,
            **dates}


def _business(bid: str, kbli: str, **over: Any) -> dict[str, Any]:
    return {"id": bid, "name": f"Usaha {bid}", "kbli_category": kbli, "status": "aktif", **over}


@dataclass
class Graph:
    household: dict[str, Any]
    members: list[dict[str, Any]] = field(default_factory=list)
    placements: list[dict[str, Any]] = field(default_factory=list)
    businesses: list[dict[str, Any]] = field(default_factory=list)


def _household(hid: str, village: str) -> dict[str, Any]:
    return {"id": hid, "village_code": village, "head_name": f"Kepala {hid}", "visited_on": "2024-05-01",
            "consent": True}


GRAPHS: list[Graph] = [
    Graph(_household("hA", V1),
          [_member("a1", "pmi_aktif", "kepala"), _member("a2", "pmi_purna"), _member("a3", "bukan"),
           _member("a4", "calon_pmi"), _member("a5", "pmi_aktif")],
          [_placement("pa1", "a1", "MY", 3 * JUTA, returned="2021-02-01"), _placement("pa2", "a1", "SA", 5 * JUTA),
           _placement("pa3", "a2", "MY", 2 * JUTA, returned="2022-07-15"), _placement("pa4", "a2", "HK", None),
           _placement("pa5", "a5", "TW", 9 * JUTA)],
          [_business("bA1", "G", capital=MILIAR // 2, export_ready=True, exporting=True),
           _business("bA2", "C", annual_turnover=3 * MILIAR, export_ready=True, exporting=True, status="tutup")]),
    Graph(_household("hB", V1), [_member("b1", "calon_pmi", "kepala")], [], [_business("bB1", "S", status="tutup")]),
    Graph(_household("hF", V2), [_member("f1", "pmi_aktif", "kepala")], [_placement("pf1", "f1", "MY", 4 * JUTA)],
          [_business("bF1", "A", export_ready=True, exporting=False), _business("bF2", "A")]),
    Graph(_household("hC", V3), [_member("c1", "pmi_aktif", "kepala"), _member("c2", "pmi_aktif")],
          [_placement("pc1", "c1", "HK", 6 * JUTA), _placement("pc2", "c2", "HK", JUTA + 1),
           _placement("pc3", "c2", "MY", 8 * JUTA)],
          [_business("bC1", "I", capital=6 * MILIAR, export_ready=True, exporting=True)]),
    Graph(_household("hE", V5), [_member("e1", "pmi_aktif", "kepala")], [_placement("pe1", "e1", "TW", 7 * JUTA)],
          [_business("bE1", "G", export_ready=True)]),
    Graph(_household("hD", V4), [_member("d1", "pmi_purna", "kepala"), _member("d2", "pmi_purna")],
          [_placement("pd1", "d1", "SA", 2_500_000), _placement("pd2", "d2", "SA", None)],
          [_business("bD1", "G", capital=20 * MILIAR)]),
    Graph(_household("hG", V4), [_member("g1", "pmi_aktif", "kepala"), _member("g2", "pmi_purna")],
          [_placement("pg1", "g1", "JP", None), _placement("pg2", "g1", "KR", None),
           _placement("pg3", "g1", "TW", None), _placement("pg4", "g2", "QA", None)]),
]
# Deleted after the first save, in this order (a household delete takes its whole graph).
DELETES: list[tuple[str, str]] = [
    ("members", "a4"), ("members", "a5"), ("businesses", "bF2"), ("placements", "pc3"), ("households", "hE"),
]


# -- loaders ------------------------------------------------------------------------------------
def load_desktop(db: Any) -> None:
    """Save through the form's service (validation, derived UMKM class, outbox), then delete."""
    from desmig_desktop.services.households import HouseholdGraph, delete_household, save_household
    from desmig_desktop.store import records
    from desmig_desktop.store.records import Change

    for g in GRAPHS:
        graph = HouseholdGraph(dict(g.household), [dict(m) for m in g.members], [dict(p) for p in g.placements],
                               [dict(b) for b in g.businesses])
        save_household(db, graph, confirm_warnings=True)
    for entity, record_id in DELETES:
        if entity == "households":
            delete_household(db, record_id)
        else:  # only that record: a member's placements stay live (and must not count)
            records.apply_changes(db, [Change(entity, record_id, delete=True)])


def server_create_ops(device: Any) -> list[dict[str, Any]]:
    """The fixture's records as push ops of ``device`` (a ``tests.server.support.Device``)."""
    creates = []
    for g in GRAPHS:
        hid = g.household["id"]
        creates.append(device.op("households", hid, _without_id(g.household)))
        creates += [device.op("members", m["id"], {**_without_id(m), "household_id": hid}) for m in g.members]
        creates += [device.op("placements", p["id"], _without_id(p)) for p in g.placements]
        creates += [device.op("businesses", b["id"], {**_without_id(b), "household_id": hid}) for b in g.businesses]
    return creates


def server_delete_ops(device: Any) -> list[dict[str, Any]]:
    return [device.op(entity, record_id, kind="delete") for entity, record_id in DELETES]


def _without_id(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "id" and v is not None}


# -- the figures, computed by hand --------------------------------------------------------------
KBLI = "ABCDEFGHIJKLMNOPQRSTU"


def figures(*, households: int, members: int, active: int = 0, returned: int = 0, prospective: int = 0,
            with_business: int = 0, businesses: int = 0, kbli: dict[str, int] | None = None, ready: int = 0,
            exporting: int = 0, umkm: dict[str, int] | None = None, countries: list[tuple[str, int]] | None = None,
            remittance_total: int = 0, remittance_median: int | None = None, remittance_count: int = 0,
            closed: int = 0, remittance_all: int = 0, areas: tuple[int, int, int, int] = (0, 0, 0, 0),
            children: int = 0, **programme: Any) -> dict[str, Any]:
    """A report row (without code/name), every key spelled out as the JSON carries it.

    ``areas``: provinces, regencies, districts and villages holding a live household;
    ``children``: children of PMI; ``programme``: other programme figures (issue 15, 0 unless given).
    """
    countries = countries or []
    return {
        "households": households, "members": members, "pmi_active": active, "pmi_returned": returned,
        "pmi_prospective": prospective, "households_with_business": with_business, "businesses": businesses,
        "businesses_by_kbli": {c: (kbli or {}).get(c, 0) for c in KBLI},
        "export_ready": ready, "exporting": exporting,
        "businesses_by_umkm": {c: (umkm or {}).get(c, 0) for c in ("mikro", "kecil", "menengah", "besar", "unknown")},
        "pmi_by_country": dict(countries),
        "top_countries": [{"country": c, "pmi": n} for c, n in countries[:5]],
        "remittance_total": remittance_total, "remittance_median": remittance_median,
        "remittance_placements": remittance_count,
        "businesses_closed": closed, "remittance_total_all_placements": remittance_all,
        "provinces": areas[0], "regencies": areas[1], "districts": areas[2], "villages": areas[3],
        **programme_figures(children_of_pmi=children, **programme),
    }


def programme_figures(**given: Any) -> dict[str, Any]:
    """The programme keys of a row: every one 0 (maps: each key 0) unless ``given``."""
    out: dict[str, Any] = {
        "programme_villages": 0, "service_records": 0,
        "services_by_type": dict.fromkeys(("informasi", "dokumen", "orientasi", "pengaduan", "reintegrasi"), 0),
        "open_cases": 0, "open_cases_by_age": {"lt30": 0, "30_89": 0, "90plus": 0},
        "children_of_pmi": 0, "children_in_parenting": 0, "parenting_activities": 0, "cooperatives": 0,
        "cooperative_members": 0, "households_trained": 0, "trained_businesses_active": 0,
        "trained_businesses_closed": 0, "support_amount": 0, "officer_activities": 0,
    }
    for key, value in given.items():
        assert key in out, key
        out[key] = {**out[key], **value} if isinstance(out[key], dict) else value
    return out


ONE = (1, 1, 1, 1)  # a village, or an area holding data in one village only
VILLAGE_V1 = figures(  # hA, hB; members a1 a2 a3 b1; current remittance: pa2 only
    households=2, members=4, active=1, returned=1, prospective=1, with_business=1, businesses=1,
    kbli={"G": 1}, ready=1, exporting=1, umkm={"mikro": 1}, closed=2,
    countries=[("MY", 2), ("HK", 1), ("SA", 1)],  # MY: a1 and a2 (finished placements still count here)
    remittance_total=5 * JUTA, remittance_median=5 * JUTA, remittance_count=1, remittance_all=10 * JUTA, areas=ONE,
    children=2)  # a2, a3: children (anak) of the head a1, PMI aktif
VILLAGE_V2 = figures(
    households=1, members=1, active=1, with_business=1, businesses=1, kbli={"A": 1}, ready=1,
    umkm={"unknown": 1}, countries=[("MY", 1)],
    remittance_total=4 * JUTA, remittance_median=4 * JUTA, remittance_count=1, remittance_all=4 * JUTA, areas=ONE)
VILLAGE_V3 = figures(
    households=1, members=2, active=2, with_business=1, businesses=1, kbli={"I": 1}, ready=1, exporting=1,
    umkm={"menengah": 1}, countries=[("HK", 2)],
    # 1.000.001 and 6.000.000: mean 3.500.000,5 -> rounded half up
    remittance_total=7 * JUTA + 1, remittance_median=3_500_001, remittance_count=2, remittance_all=7 * JUTA + 1,
    areas=ONE)  # c2 (anak) of c1 is PMI aktif too: abroad, not left behind (domain.programme.children_of_pmi)
VILLAGE_V4 = figures(  # pd1 is open but d1 is purna: no current remittance at all
    households=2, members=4, active=1, returned=3, with_business=1, businesses=1, kbli={"G": 1},
    umkm={"besar": 1}, countries=[("SA", 2), ("JP", 1), ("KR", 1), ("QA", 1), ("TW", 1)],
    remittance_total=0, remittance_median=None, remittance_count=0, remittance_all=2_500_000, areas=ONE,
    children=1)  # g2 (anak) of g1; d2 is the child of a PMI purna
DISTRICT_CIBINONG = figures(  # V1 + V2; current remittances 4, 5 -> (4 + 5) / 2
    households=3, members=5, active=2, returned=1, prospective=1, with_business=2, businesses=2,
    kbli={"G": 1, "A": 1}, ready=2, exporting=1, umkm={"mikro": 1, "unknown": 1}, closed=2,
    countries=[("MY", 3), ("HK", 1), ("SA", 1)],
    remittance_total=9 * JUTA, remittance_median=4_500_000, remittance_count=2, remittance_all=14 * JUTA,
    areas=(1, 1, 1, 2), children=2)
REGENCY_BOGOR = figures(  # V1 + V2 + V3; current remittances 1.000001, 4, 5, 6 -> (4 + 5) / 2
    households=4, members=7, active=4, returned=1, prospective=1, with_business=3, businesses=3,
    kbli={"G": 1, "A": 1, "I": 1}, ready=3, exporting=2, umkm={"mikro": 1, "menengah": 1, "unknown": 1}, closed=2,
    countries=[("HK", 3), ("MY", 3), ("SA", 1)],  # HK: a2 c1 c2; MY: a1 a2 f1; tie -> by code
    remittance_total=16 * JUTA + 1, remittance_median=4_500_000, remittance_count=4, remittance_all=21 * JUTA + 1,
    areas=(1, 1, 2, 3), children=2)
TOTALS = figures(  # everything live; current remittances 1.000001, 4, 5, 6 -> (4 + 5) / 2
    households=6, members=11, active=5, returned=4, prospective=1, with_business=4, businesses=4,
    kbli={"G": 2, "A": 1, "I": 1}, ready=3, exporting=2, umkm={"mikro": 1, "menengah": 1, "besar": 1, "unknown": 1},
    closed=2, countries=[("HK", 3), ("MY", 3), ("SA", 3), ("JP", 1), ("KR", 1), ("QA", 1), ("TW", 1)],  # top 5
    remittance_total=16 * JUTA + 1, remittance_median=4_500_000, remittance_count=4, remittance_all=23_500_001,
    areas=(2, 2, 3, 4), children=3)

# Issue 14, figure by figure: (level, row code or "" for totals, key, the value of the first
# definition, the value now). Every pair differs, so a report built the old way fails here.
DIFFERENCES: list[tuple[str, str, str, Any, Any]] = [
    ("village", V1, "businesses", 3, 1),  # bA1 + closed bA2, bB1
    ("village", V1, "households_with_business", 2, 1),  # hB's only business is closed
    ("village", V1, "export_ready", 2, 1),  # bA2 is export-ready but closed
    ("village", V1, "exporting", 2, 1),
    ("village", V1, "businesses_by_kbli", {"C": 1, "G": 1, "S": 1}, {"G": 1}),
    ("village", V1, "businesses_by_umkm", {"mikro": 1, "kecil": 1, "unknown": 1}, {"mikro": 1}),
    ("village", V1, "businesses_closed", None, 2),
    ("village", V1, "remittance_total", 10 * JUTA, 5 * JUTA),  # pa1 and pa3 are finished
    ("village", V1, "remittance_median", 3 * JUTA, 5 * JUTA),
    ("village", V1, "remittance_placements", 3, 1),
    ("village", V4, "remittance_total", 2_500_000, 0),  # pd1 is open, but d1 came back (purna)
    ("village", V4, "remittance_median", 2_500_000, None),
    ("village", "", "remittance_total", 23_500_001, 16 * JUTA + 1),
    ("village", "", "remittance_median", 3 * JUTA, 4_500_000),
    ("village", "", "remittance_total_all_placements", None, 23_500_001),  # the old sum, under its own name
    ("village", "", "villages", None, 4),
    ("village", "", "districts", 4, 3),  # not the sum of the village rows: V1, V2 share Cibinong
    ("village", "", "regencies", 4, 2),
    ("village", "", "provinces", 4, 2),  # V5 (35) holds only a deleted household
    ("district", "", "regencies", 3, 2),
    ("regency", "32.01", "districts", None, 2),
]


def figure(report: dict[str, Any], code: str, key: str) -> Any:
    """One figure of a report row (``code`` "": the totals), maps without their zero entries."""
    row = report["totals"] if code == "" else next(r for r in report["rows"] if r["code"] == code)
    value = row.get(key)
    return {k: n for k, n in value.items() if n} if isinstance(value, dict) else value


EXPECTED: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "village": [(V1, "Pondok Rajeg", VILLAGE_V1), (V2, "Karadenan", VILLAGE_V2), (V3, "Wanaherang", VILLAGE_V3),
                (V4, "Cirahab", VILLAGE_V4)],
    "district": [("32.01.01", "Cibinong", DISTRICT_CIBINONG), ("32.01.02", "Gunungputri", VILLAGE_V3),
                 ("33.02.01", "Lumbir", VILLAGE_V4)],
    "regency": [("32.01", "Kabupaten Bogor", REGENCY_BOGOR), ("33.02", "Kabupaten Banyumas", VILLAGE_V4)],
    "province": [("32", "Jawa Barat", REGENCY_BOGOR), ("33", "Jawa Tengah", VILLAGE_V4)],
}


def as_triples(report: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(r["code"], r["name"], {k: v for k, v in r.items() if k not in ("code", "name")})
            for r in report["rows"]]
