"""Synthetic programme records for the demo villages (issue 15): the four pillars and the officer's log.

For every village that got demo households, over the twelve months before the demo's day: a
Desmigratif village profile, a cooperative with members and the businesses it supports, services
of the migration service centre (mostly closed; a few recent complaints still open), community
parenting activities attended by the village's children of PMI (``report_spec.CHILD_OF_PMI``)
and their caregivers, training and support for some businesses, and the officer's meetings.
Drawn from the demo's own random generator, so a seed gives the same records. Invented, like the
households; walk-ins carry no NIK.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain import report_spec as spec
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.programme import village_profile_id
from desmig_desktop.domain.report_period import adult_cutoff
from desmig_desktop.services.households import HouseholdGraph
from desmig_desktop.store import records
from desmig_desktop.store.records import Change

SERVICE_TYPES = (("informasi", 40), ("dokumen", 25), ("orientasi", 15), ("pengaduan", 10), ("reintegrasi", 10))
CASE_KINDS = (("gaji", 40), ("hilang", 20), ("kekerasan", 15), ("non_prosedural", 15), ("lainnya", 10))
TOPICS = ("Migrasi aman dan prosedural", "Lowongan kerja luar negeri resmi", "Pengelolaan remitansi",
          "Pencegahan perdagangan orang", "Pendataan PMI purna", "Rencana kegiatan Desmigratif")
PARENTING_TOPICS = ("Belajar membaca bersama", "Pola asuh tanpa kekerasan", "Permainan tradisional",
                    "Komunikasi dengan orang tua di luar negeri", "Gizi anak", "Menggambar dan mewarnai")
SUPPORT_TOPICS = ("Pemasaran daring", "Pembukuan sederhana", "Pengemasan produk", "Perizinan usaha (NIB)")
MONTHS = 12


def _pick(rng: Any, pairs: Sequence[tuple[str, int]]) -> str:
    return str(rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0])


def _children_of_pmi(graph: HouseholdGraph, today: dt.date) -> list[dict[str, Any]]:
    parents = spec.CHILD_OF_PMI
    abroad = [m for m in graph.members if m["migration_status"] == spec.PMI_STATUS]
    adult = adult_cutoff(today)
    return [m for m in graph.members
            if m["relationship"] in parents and (m.get("birth_date") or "") > adult
            and any(p is not m and p["relationship"] in parents[m["relationship"]] for p in abroad)]


def add_programme(db: Database, factory: Any, by_village: dict[str, list[HouseholdGraph]]) -> int:
    """Write the programme records of every village in ``by_village``; returns how many."""
    changes: list[Change] = []
    for village in sorted(by_village):
        changes += _village(factory, village, by_village[village])
    with db.atomic():
        records.apply_changes(db, changes)
    return len(changes)


def _village(factory: Any, village: str, graphs: list[HouseholdGraph]) -> list[Change]:
    rng, fake, today = factory.rng, factory.fake, factory.today
    start = today - dt.timedelta(days=365)

    def day(first: dt.date = start, last: dt.date = today) -> str:
        return str(factory._date_between(first, last).isoformat())

    adults = [m for g in graphs for m in g.members if (m.get("birth_date") or "9") <= f"{today.year - 18}-01-01"]
    businesses = [b for g in graphs for b in g.businesses]
    out = [Change("village_profiles", village_profile_id(village), {  # one per village, HQ refuses any other id
        "village_code": village, "joined_year": rng.randint(2017, min(2022, today.year)),
        "facilitators": f"{factory._name('P')}, {factory._name('L')}",
        "centre_address": f"Balai Desa, {fake.street_address()}", "centre_days": "1_senin,3_rabu,5_jumat",
        "head_name": factory._name("L"), "head_phone": f"08{rng.randint(11, 99)}{rng.randint(10_000_000, 99_999_999)}",
        "status": "aktif" if rng.random() < 0.9 else "lulus"})]
    coop = new_id()
    registered = rng.random() < 0.6
    out.append(Change("cooperatives", coop, {
        "village_code": village, "name": f"Koperasi Desmigratif {fake.last_name()} Sejahtera", "group_kind": "koperasi",
        "legal_status": "berbadan_hukum" if registered else "belum",
        "legal_number": f"AHU-{rng.randint(1000, 9999):04d}.AH.01.26.Tahun {rng.randint(2018, 2024)}" if registered
        else None, "founded_on": day(dt.date(2018, 1, 1), start), "capital": rng.randrange(5_000_000, 150_000_000,
                                                                                          500_000),
        "status": "aktif"}))
    roles = ("ketua", "sekretaris", "bendahara")
    for n, member in enumerate(rng.sample(adults, min(len(adults), rng.randint(8, 20)))):
        out.append(Change("cooperative_members", new_id(), {
            "cooperative_id": coop, "member_id": member["id"], "role": roles[n] if n < len(roles) else "anggota",
            "joined_on": day(dt.date(2018, 1, 1), today)}))
    for business in rng.sample(businesses, min(len(businesses), rng.randint(2, 5))):
        out.append(Change("cooperative_businesses", new_id(), {
            "cooperative_id": coop, "business_id": business["id"], "support": "Pinjaman modal dan pemasaran bersama"}))
    out += _services(factory, village, adults)
    out += _parenting(factory, village, graphs)
    for business in businesses:
        if rng.random() < 0.3:
            for _n in range(rng.randint(1, 2)):
                kind = rng.choice(("pelatihan", "pelatihan", "pendampingan", "akses_pasar", "modal"))
                out.append(Change("business_supports", new_id(), {
                    "business_id": business["id"], "support_type": kind, "received_on": day(),
                    "provider": rng.choice(("Dinas Ketenagakerjaan", "BLK Komunitas", "Bank BRI", "LSM Migrant Care")),
                    "topic": rng.choice(SUPPORT_TOPICS), "source": rng.choice(("kemnaker", "pemda", "kur", "lsm")),
                    "amount": rng.randrange(1_000_000, 25_000_000, 500_000) if kind in ("modal", "akses_pasar")
                    else None}))
    for month in range(MONTHS):
        first = start + dt.timedelta(days=30 * month)
        for _n in range(rng.randint(1, 3)):
            out.append(Change("officer_activities", new_id(), {
                "village_code": village, "held_on": day(first, min(today, first + dt.timedelta(days=29))),
                "activity_kind": rng.choice(("rapat_koordinasi", "sosialisasi", "kunjungan")),
                "partners": ",".join(sorted(rng.sample(("bp2mi", "dinaker", "lsm", "pemdes", "tokoh"),
                                                      rng.randint(1, 3)))),
                "topic": rng.choice(TOPICS), "attendance": rng.randint(5, 60),
                "follow_up": "Laporan ke Dinas Ketenagakerjaan" if rng.random() < 0.4 else None}))
    return out


def _services(factory: Any, village: str, adults: list[dict[str, Any]]) -> list[Change]:
    rng, today = factory.rng, factory.today
    out = []
    for _n in range(rng.randint(30, 70)):
        served = factory._date_between(today - dt.timedelta(days=365), today)
        kind = _pick(rng, SERVICE_TYPES)
        recent = (today - served).days < 120
        status = "selesai"
        if kind == "pengaduan" and recent:
            status = rng.choice(("terbuka", "ditindaklanjuti", "selesai"))
        elif recent and rng.random() < 0.05:
            status = "ditindaklanjuti"
        person: dict[str, Any] = {"member_id": rng.choice(adults)["id"]} if adults and rng.random() < 0.6 else {
            "walk_in_name": factory._name(sex := rng.choice("LP")), "walk_in_sex": sex,
            "walk_in_age_band": rng.choice(("18_24", "25_34", "25_34", "35_44", "45_54"))}
        out.append(Change("services", new_id(), {
            "village_code": village, "served_on": served.isoformat(), "service_type": kind, **person,
            "document_kind": rng.choice(("ktp_kk", "paspor", "paspor,sertifikat")) if kind == "dokumen" else None,
            "case_kind": _pick(rng, CASE_KINDS) if kind == "pengaduan" else None,
            "destination_country": rng.choice(("MY", "TW", "HK", "SA")) if kind != "dokumen" else None,
            "referral": rng.choice(("dinaker", "bp2mi", "polisi")) if kind == "pengaduan" else "tidak",
            "status": status,
            # not after today: the questionnaire refuses a date in the future, a planned one too
            "follow_up_on": min(today, served + dt.timedelta(days=rng.randint(7, 30))).isoformat()
            if status != "selesai" else None}))
    return out


def _parenting(factory: Any, village: str, graphs: list[HouseholdGraph]) -> list[Change]:
    rng, today = factory.rng, factory.today
    children = [(g, m) for g in graphs for m in _children_of_pmi(g, today)]
    out = []
    for month in range(MONTHS):
        for _n in range(rng.randint(1, 3)):
            held = factory._date_between(today - dt.timedelta(days=30 * (month + 1)), today - dt.timedelta(days=30 * month))
            activity = new_id()
            out.append(Change("parenting_activities", activity, {
                "village_code": village, "held_on": held.isoformat(),
                "activity_type": rng.choice(("kelompok_belajar", "kelas_pengasuhan", "bermain_kreatif")),
                "facilitator": factory._name("P"), "topic": rng.choice(PARENTING_TOPICS),
                "walk_in_children": rng.randint(0, 6), "walk_in_caregivers": rng.randint(0, 3)}))
            present: set[str] = set()
            for graph, child in rng.sample(children, min(len(children), rng.randint(2, 8))):
                present.add(child["id"])
                out.append(Change("parenting_attendance", new_id(), {
                    "activity_id": activity, "member_id": child["id"], "role": "anak"}))
                carers = [m for m in graph.members if m["migration_status"] != spec.PMI_STATUS
                          and m["relationship"] in ("kepala", "suami_istri", "orang_tua", "mertua")
                          and m["id"] not in present]
                if carers and rng.random() < 0.3:
                    carer = rng.choice(carers)
                    present.add(carer["id"])
                    out.append(Change("parenting_attendance", new_id(), {
                        "activity_id": activity, "member_id": carer["id"], "role": "pengasuh"}))
    return out
