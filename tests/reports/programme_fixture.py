"""Programme records (issue 15) on top of ``fixture``'s households, with every figure counted by hand.

Period: November 2026 (``PERIOD``), so stocks are taken on 30 November 2026. Two more households
hold the children's edge cases (birth dates around the 18th birthday, relationships):

V2 hK: k1 kepala purna, k2 suami_istri **aktif**; k3 anak 2010-05-01 (16: child), k4 anak
        2008-11-30 (18 on the period's last day: not a child), k5 anak 2008-12-01 (17: child),
        k6 cucu no birth date (grandchild of k2, not its child: no), k7 menantu 2012 (not a descendant),
        [k8 anak 2015] (deleted)
V3 hL: l1 kepala bukan, l2 orang_tua **aktif**; l3 anak 2015 (grandchild of l2, not its child: no),
        l4 famili_lain 2016 (not a descendant)

Children of PMI (``domain.programme.CHILD_OF_PMI``: a PMI's own children, not grandchildren): V1
a2 a3 (of a1; no birth date) = 2 · V2 k3 k5 = 2 · V3 none (c2 is abroad itself) · V4 g2 = 1.

Services (``s``: served on, type, status); open = terbuka/ditindaklanjuti; age = days to 30 Nov:
V1 s1 11-03 informasi selesai · s2 11-20 pengaduan terbuka (10 d) · s3 09-15 pengaduan
   ditindaklanjuti (76 d) · s4 06-01 dokumen terbuka (182 d)
V2 s5 11-30 dokumen selesai · s6 12-01 pengaduan terbuka (after the period: nothing) · s7 11-01
   orientasi terbuka (29 d) · s8 10-31 reintegrasi terbuka (30 d)
V3 [s9 11-10 informasi]   V4 s10 08-31 pengaduan terbuka (91 d) · s11 09-01 pengaduan terbuka (90 d)
V5 s12 11-05 informasi (V5 holds no live household: not in the report)

Parenting (``pa``; attendance): V1 pa1 11-07 (a3 child, a1 caregiver), pa2 11-21 (a3, a2) →
children a2 a3 = 2 · V2 pa3 11-15 (k3, k4 18, k7 menantu, f1 head) → k3 = 1; pa4 10-15 (k5: before
the period) · V3 [pa5 11-02 (l3)], pa6 11-28 (l3, [c2's attendance deleted]) → 0 (l3 is no child of PMI).

Cooperatives: V1 co1 aktif (a1, a2), co2 tidak_aktif (a3) · V2 co3 aktif (f1, [k1]) · V4 [co4 (g1)].
Business support (on the fixture's businesses): bs1 bA1 pelatihan 11-05 · bs2 bA2 (closed)
pendampingan 11-12 · bs3 bB1 modal 11-12 Rp 2.000.000 · bs4 bF1 pelatihan 10-30 (before) · bs5 bC1
pelatihan 11-30 Rp 500.000 · [bs6 bD1 11-15] · bs7 on the deleted bF2.
Village profiles: V1 aktif, V2 lulus, V3 aktif, [V4 aktif]. Officer activities: V1 11-04, 11-25;
V2 12-02 (after); V4 11-11; [V3 11-20].
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from desmig_desktop.domain.report_period import month_period

from .fixture import V1, V2, V3, V4, V5, programme_figures

PERIOD = month_period("2026-11")
TODAY = date(2026, 12, 5)  # the day "no period" means in these tests


def _m(mid: str, relationship: str, status: str = "bukan", born: str | None = None) -> dict[str, Any]:
    return {"id": mid, "name": f"Anggota {mid}", "sex": "L", "relationship": relationship, "migration_status": status,
            **({"birth_date": born} if born else {})}


HOUSEHOLDS: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
    ({"id": "hK", "village_code": V2, "head_name": "Kepala hK", "visited_on": "2026-10-01", "consent": True},
     [_m("k1", "kepala", "pmi_purna"), _m("k2", "suami_istri", "pmi_aktif"), _m("k3", "anak", born="2010-05-01"),
      _m("k4", "anak", born="2008-11-30"), _m("k5", "anak", born="2008-12-01"), _m("k6", "cucu"),
      _m("k7", "menantu", born="2012-01-01"), _m("k8", "anak", born="2015-01-01")]),
    ({"id": "hL", "village_code": V3, "head_name": "Kepala hL", "visited_on": "2026-10-01", "consent": True},
     [_m("l1", "kepala"), _m("l2", "orang_tua", "pmi_aktif"), _m("l3", "anak", born="2015-06-01"),
      _m("l4", "famili_lain", born="2016-01-01")]),
]
MEMBER_DELETES = ["k8"]


def _svc(sid: str, village: str, day: str, kind: str, status: str) -> tuple[str, str, dict[str, Any]]:
    return ("services", sid, {"village_code": village, "served_on": day, "service_type": kind, "status": status,
                              "walk_in_name": "Pengunjung", "walk_in_sex": "P", "walk_in_age_band": "25_34"})


def _act(aid: str, village: str, day: str) -> tuple[str, str, dict[str, Any]]:
    return ("parenting_activities", aid, {"village_code": village, "held_on": day,
                                          "activity_type": "kelompok_belajar", "walk_in_children": 2})


def _att(xid: str, activity: str, member: str, role: str = "anak") -> tuple[str, str, dict[str, Any]]:
    return ("parenting_attendance", xid, {"activity_id": activity, "member_id": member, "role": role})


def _coop(cid: str, village: str, status: str) -> tuple[str, str, dict[str, Any]]:
    return ("cooperatives", cid, {"village_code": village, "name": f"Koperasi {cid}", "group_kind": "koperasi",
                                  "legal_status": "belum", "status": status})


def _cm(xid: str, coop: str, member: str) -> tuple[str, str, dict[str, Any]]:
    return ("cooperative_members", xid, {"cooperative_id": coop, "member_id": member, "role": "anggota"})


def _sup(xid: str, business: str, kind: str, day: str, amount: int | None = None) -> tuple[str, str, dict[str, Any]]:
    return ("business_supports", xid, {"business_id": business, "support_type": kind, "received_on": day,
                                       **({"amount": amount} if amount else {})})


def _vp(xid: str, village: str, status: str) -> tuple[str, str, dict[str, Any]]:
    return ("village_profiles", xid, {"village_code": village, "joined_year": 2017, "status": status})


def _oa(xid: str, village: str, day: str) -> tuple[str, str, dict[str, Any]]:
    return ("officer_activities", xid, {"village_code": village, "held_on": day, "activity_kind": "rapat_koordinasi",
                                        "partners": "dinaker,pemdes", "topic": "Koordinasi bulanan", "attendance": 12})


RECORDS: list[tuple[str, str, dict[str, Any]]] = [
    _svc("s1", V1, "2026-11-03", "informasi", "selesai"), _svc("s2", V1, "2026-11-20", "pengaduan", "terbuka"),
    _svc("s3", V1, "2026-09-15", "pengaduan", "ditindaklanjuti"), _svc("s4", V1, "2026-06-01", "dokumen", "terbuka"),
    _svc("s5", V2, "2026-11-30", "dokumen", "selesai"), _svc("s6", V2, "2026-12-01", "pengaduan", "terbuka"),
    _svc("s7", V2, "2026-11-01", "orientasi", "terbuka"), _svc("s8", V2, "2026-10-31", "reintegrasi", "terbuka"),
    _svc("s9", V3, "2026-11-10", "informasi", "selesai"), _svc("s10", V4, "2026-08-31", "pengaduan", "terbuka"),
    _svc("s11", V4, "2026-09-01", "pengaduan", "terbuka"), _svc("s12", V5, "2026-11-05", "informasi", "selesai"),
    _act("pa1", V1, "2026-11-07"), _att("x1", "pa1", "a3"), _att("x2", "pa1", "a1", "pengasuh"),
    _act("pa2", V1, "2026-11-21"), _att("x3", "pa2", "a3"), _att("x4", "pa2", "a2"),
    _act("pa3", V2, "2026-11-15"), _att("x5", "pa3", "k3"), _att("x6", "pa3", "k4"), _att("x7", "pa3", "k7"),
    _att("x8", "pa3", "f1", "pengasuh"),
    _act("pa4", V2, "2026-10-15"), _att("x9", "pa4", "k5"),
    _act("pa5", V3, "2026-11-02"), _att("x10", "pa5", "l3"),
    _act("pa6", V3, "2026-11-28"), _att("x11", "pa6", "l3"), _att("x12", "pa6", "c2"),
    _coop("co1", V1, "aktif"), _cm("y1", "co1", "a1"), _cm("y2", "co1", "a2"),
    _coop("co2", V1, "tidak_aktif"), _cm("y3", "co2", "a3"),
    _coop("co3", V2, "aktif"), _cm("y4", "co3", "f1"), _cm("y5", "co3", "k1"),
    _coop("co4", V4, "aktif"), _cm("y6", "co4", "g1"),
    _sup("bs1", "bA1", "pelatihan", "2026-11-05"), _sup("bs2", "bA2", "pendampingan", "2026-11-12"),
    _sup("bs3", "bB1", "modal", "2026-11-12", 2_000_000), _sup("bs4", "bF1", "pelatihan", "2026-10-30"),
    _sup("bs5", "bC1", "pelatihan", "2026-11-30", 500_000), _sup("bs6", "bD1", "pendampingan", "2026-11-15"),
    _sup("bs7", "bF2", "pelatihan", "2026-11-15"),
    _vp("vp1", V1, "aktif"), _vp("vp2", V2, "lulus"), _vp("vp3", V3, "aktif"), _vp("vp4", V4, "aktif"),
    _oa("oa1", V1, "2026-11-04"), _oa("oa2", V1, "2026-11-25"), _oa("oa3", V2, "2026-12-02"),
    _oa("oa4", V4, "2026-11-11"), _oa("oa5", V3, "2026-11-20"),
]
DELETES = {"s9", "pa5", "x12", "y5", "co4", "bs6", "vp4", "oa5"}
PARENT_KEY = {"parenting_attendance": "activity_id", "cooperative_members": "cooperative_id",
              "business_supports": "business_id"}

# -- the figures of November 2026, by hand ------------------------------------------------------
P = programme_figures
EXPECTED_VILLAGES: dict[str, dict[str, Any]] = {
    V1: P(programme_villages=1, service_records=2, services_by_type={"informasi": 1, "pengaduan": 1}, open_cases=3,
          open_cases_by_age={"lt30": 1, "30_89": 1, "90plus": 1}, children_of_pmi=2, children_in_parenting=2,
          parenting_activities=2, cooperatives=1, cooperative_members=2, households_trained=1,
          trained_businesses_active=1, trained_businesses_closed=1, support_amount=2_000_000, officer_activities=2),
    V2: P(service_records=2, services_by_type={"dokumen": 1, "orientasi": 1}, open_cases=2,
          open_cases_by_age={"lt30": 1, "30_89": 1}, children_of_pmi=2, children_in_parenting=1,
          parenting_activities=1, cooperatives=1, cooperative_members=1),
    V3: P(programme_villages=1, children_of_pmi=0, children_in_parenting=0, parenting_activities=1,
          households_trained=1, trained_businesses_active=1, support_amount=500_000),
    V4: P(open_cases=2, open_cases_by_age={"90plus": 2}, children_of_pmi=1, officer_activities=1),
}
EXPECTED_TOTALS = P(
    programme_villages=2, service_records=4, services_by_type={"informasi": 1, "pengaduan": 1, "dokumen": 1,
                                                               "orientasi": 1},
    open_cases=7, open_cases_by_age={"lt30": 2, "30_89": 2, "90plus": 3}, children_of_pmi=5, children_in_parenting=3,
    parenting_activities=4, cooperatives=2, cooperative_members=3, households_trained=2, trained_businesses_active=2,
    trained_businesses_closed=1, support_amount=2_500_000, officer_activities=3)
# Without a period, on TODAY (5 December 2026): every activity ever; k5 turned 18 on 1 December;
# s6 (1 December) is open too (s12 lies in V5, outside the report; s9 is deleted).
EVERYTHING_TOTALS_CHANGES: dict[str, Any] = {
    "service_records": 10, "open_cases": 8, "children_of_pmi": 4, "parenting_activities": 5,
    "households_trained": 3, "officer_activities": 4,
}


# -- loaders ------------------------------------------------------------------------------------
def load_desktop(db: Any) -> None:
    """The households through the form's service, the programme records through the store."""
    from desmig_desktop.services.households import HouseholdGraph, save_household
    from desmig_desktop.store import records
    from desmig_desktop.store.records import Change

    for household, members in HOUSEHOLDS:
        save_household(db, HouseholdGraph(dict(household), [dict(m) for m in members], [], []), confirm_warnings=True)
    records.apply_changes(db, [Change("members", mid, delete=True) for mid in MEMBER_DELETES])
    records.apply_changes(db, [Change(entity, rid, dict(values)) for entity, rid, values in RECORDS])
    records.apply_changes(db, [Change(entity, rid, delete=True) for entity, rid, _v in RECORDS if rid in DELETES])


def server_household_ops(device: Any) -> list[dict[str, Any]]:
    ops = []
    for household, members in HOUSEHOLDS:
        hid = household["id"]
        ops.append(device.op("households", hid, {k: v for k, v in household.items() if k != "id"}))
        ops += [device.op("members", m["id"], {**{k: v for k, v in m.items() if k != "id"}, "household_id": hid})
                for m in members]
    ops += [device.op("members", mid, kind="delete") for mid in MEMBER_DELETES]
    return ops


def insert_server_records(db: Any) -> None:
    """The programme records written straight into HQ's ``records`` (scope: their village, or
    their parent's), each with the next ``server_seq`` as a push would give it.

    Direct, not pushed: on this branch HQ does not accept these entities yet (helper "pdata").
    """
    from sqlalchemy import select, text

    from desmig_server.db import tables as t
    from desmig_server.sync.seq import SeqAllocator

    with db.write() as conn:
        if conn.dialect.name == "postgresql":  # step 17 (pdata) widens it for these entity names
            conn.execute(text("ALTER TABLE records ALTER COLUMN entity TYPE varchar(32)"))
        scopes = dict(conn.execute(select(t.records.c.id, t.records.c.scope)).all())
        seqs = SeqAllocator(conn)
        rows = []
        for entity, rid, values in RECORDS:
            parent = values.get(PARENT_KEY.get(entity, ""))
            scope = values.get("village_code") or scopes[parent]
            scopes[rid] = scope
            seq = seqs.next()
            rows.append({"entity": entity, "id": rid, "scope": scope, "parent_id": parent,
                         "data": json.dumps(values), "fmeta": "{}", "version": seq, "deleted": rid in DELETES,
                         "server_seq": seq, "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z"})
        conn.execute(t.records.insert(), rows)
        seqs.finish()
