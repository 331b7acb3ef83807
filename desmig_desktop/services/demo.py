"""Realistic synthetic households, saved through the same service as the form.

Everything here is invented (Faker ``id_ID``), but plausible enough that the form's soft checks
stay quiet: exactly one head per household, children younger than their parents, education
(the highest level completed, as on the KK) possible for the age, NIKs consistent with the
village's district, the member's sex and birth date (a real calendar date), KK numbers whose
region prefix is the household's district (so its regency), with a real issue date not in the
future and a sequence other than 0000, placements one after another (only a PMI aktif's last
one still open), and coordinates on land in the village's province, on the right island
(``demo_places``). The numbers belong to nobody. Each village then gets its programme records
(``demo_programme``): profile, cooperative, services, parenting, trainings, the officer's log.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from typing import Any

from faker import Faker
from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.nik import make_nik
from desmig_desktop.errors import KnownError
from desmig_desktop.services.demo_places import box_of
from desmig_desktop.services.demo_programme import add_programme
from desmig_desktop.services.households import HouseholdGraph, save_household

# Destinations of PMI placements, weighted roughly by BP2MI placement statistics.
COUNTRIES = (("MY", 24), ("TW", 22), ("HK", 20), ("SA", 7), ("SG", 6), ("KR", 6), ("JP", 6), ("BN", 3),
             ("AE", 2), ("QA", 1), ("KW", 1), ("IT", 1), ("PL", 1))
JOBS = {
    "HK": (("prt", 85), ("caregiver", 15)), "SG": (("prt", 80), ("caregiver", 10), ("perhotelan", 10)),
    "SA": (("prt", 80), ("perhotelan", 10), ("lainnya", 10)), "TW": (("caregiver", 45), ("pabrik", 35),
    ("abk_perikanan", 15), ("prt", 5)), "MY": (("perkebunan", 40), ("pabrik", 25), ("konstruksi", 15),
    ("prt", 20)), "KR": (("pabrik", 70), ("abk_perikanan", 20), ("konstruksi", 10)),
    "JP": (("pabrik", 50), ("caregiver", 30), ("konstruksi", 20)),
}
DEFAULT_JOBS = (("perhotelan", 30), ("pelaut_niaga", 20), ("konstruksi", 20), ("lainnya", 30))
KBLI = (("G", 34), ("C", 24), ("A", 20), ("I", 10), ("S", 5), ("H", 4), ("F", 2), ("M", 1))
KBLI_CODES = {"G": ("47111", "47241", "47721"), "C": ("10710", "10792", "13921"), "A": ("01111", "01460", "03221"),
              "I": ("56102", "56104"), "S": ("96111", "95230"), "H": ("49421",), "F": ("43302",), "M": ("74100",)}
PRODUCTS = {"G": "Warung kelontong", "C": "Keripik dan kue kering", "A": "Ternak kambing", "I": "Warung makan",
            "S": "Salon dan jahit", "H": "Angkutan barang", "F": "Jasa tukang", "M": "Desain dan sablon"}
# Provinces that send most PMI, for the default spread of demo villages.
SENDING_PROVINCES = ("35", "33", "32", "52", "53", "18", "12", "36")
# Education (highest level completed) -> the youngest age at which it is usually completed, and
# how common it is among adults of PMI households. Younger than 12: not (yet) completed primary.
EDUCATION_BY_AGE = (("tidak_sekolah", 0, 4), ("sd", 12, 26), ("smp", 15, 26), ("sma", 18, 32), ("diploma", 20, 6),
                    ("s1", 22, 5), ("s2_s3", 24, 1))
PARENT_MIN_AGE = 17  # at a child's birth
# The households of a village its programme records draw on (members served, children attending):
# the first ones saved, so memory stays bounded for the bench's large demos.
PROGRAMME_SAMPLE = 200


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def pick_villages(db: Database, rng: random.Random, count: int = 12) -> list[str]:
    """A reproducible spread of villages in the main sending provinces."""
    found: list[str] = []
    for province in SENDING_PROVINCES:
        codes = [r[0] for r in db.execute(
            "SELECT code FROM regions WHERE code > ? AND code < ? AND level = 4 ORDER BY code",
            [province + ".", province + "/"])]
        found.extend(rng.sample(codes, min(len(codes), max(1, count // len(SENDING_PROVINCES)))))
    return found[:count]


class DemoFactory:
    def __init__(self, seed: int, today: dt.date | None = None) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("id_ID")
        self.fake.seed_instance(seed)
        self.today = today or dt.date.today()
        self.used_niks: set[str] = set()

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def _years_ago(self, years: int) -> dt.date:
        return dt.date(self.today.year - years, self.today.month, 1)  # day 1: no 29 February surprises

    def _birth(self, min_age: int, max_age: int) -> dt.date:
        return self._date_between(self._years_ago(max_age),
                                  self._years_ago(min_age))

    def _age(self, birth: dt.date) -> int:
        return self.today.year - birth.year - ((self.today.month, self.today.day) < (birth.month, birth.day))

    def _education(self, birth: dt.date) -> str:
        age = self._age(birth)
        allowed = [(level, weight) for level, min_age, weight in EDUCATION_BY_AGE if age >= min_age]
        return _weighted(self.rng, allowed)

    def _occupation(self, birth: dt.date) -> str | None:
        age = self._age(birth)
        if age < 6:
            return None
        if age < 18:
            return "Pelajar"
        return self.rng.choice(("Petani", "Buruh", "Pedagang", "Ibu rumah tangga", "Wiraswasta"))

    def _point(self, village: str) -> tuple[float, float]:
        south, north, west, east = box_of(village)
        return round(self.rng.uniform(south, north), 6), round(self.rng.uniform(west, east), 6)

    def _nik(self, district: str, sex: str, birth: dt.date) -> str:
        while True:
            nik = make_nik(district, sex, birth, self.rng.randint(1, 9999))
            if nik not in self.used_niks:
                self.used_niks.add(nik)
                return nik

    def _name(self, sex: str) -> str:
        f = self.fake
        return f"{f.first_name_male()} {f.last_name_male()}" if sex == "L" else \
            f"{f.first_name_female()} {f.last_name_female()}"

    def _member(self, district: str, sex: str, birth: dt.date, relationship: str, status: str) -> dict[str, Any]:
        return {"id": new_id(), "nik": self._nik(district, sex, birth), "name": self._name(sex), "sex": sex,
                "birth_place": self.fake.city_name(), "birth_date": birth.isoformat(), "relationship": relationship,
                "education": self._education(birth),
                "marital_status": "kawin" if relationship in ("kepala", "suami_istri") else "belum_kawin",
                "occupation": self._occupation(birth),
                "migration_status": status,
                "phone": f"08{self.rng.randint(11, 99)}{self.rng.randint(10_000_000, 99_999_999)}"}

    def _placements(self, member: dict[str, Any]) -> list[dict[str, Any]]:
        """One or two placements, one after the other; only a PMI aktif's last one is still open."""
        birth = dt.date.fromisoformat(member["birth_date"])
        earliest = max(dt.date(birth.year + 19, birth.month, 1), self._years_ago(15))
        count = self.rng.choice((1, 1, 1, 2))
        abroad_now = member["migration_status"] == "pmi_aktif"
        # Split the years since ``earliest`` so each placement ends before the next departs.
        latest = self.today - dt.timedelta(days=400 if abroad_now else 60)
        span = max(0, (latest - earliest).days)
        out = []
        start = earliest
        for n in range(count):
            last = n == count - 1
            departed = self._date_between(start, earliest + dt.timedelta(days=span * (n + 1) // count))
            returned = None
            if not (abroad_now and last):
                stay = dt.timedelta(days=self.rng.randint(365, 365 * 4))
                limit = earliest + dt.timedelta(days=span * (n + 1) // count) if not last else self.today
                returned = max(departed, min(departed + stay, limit))
                start = returned + dt.timedelta(days=30)
            country = _weighted(self.rng, COUNTRIES)
            scheme = self.rng.choices(("p3mi", "g2g", "mandiri", "non_prosedural"), weights=(75, 8, 10, 7))[0]
            out.append({
                "id": new_id(), "member_id": member["id"], "country": country,
                "job": _weighted(self.rng, JOBS.get(country, DEFAULT_JOBS)),
                "sector": "informal" if country in ("HK", "SG", "SA") else "formal", "scheme": scheme,
                "agency_name": f"PT {self.fake.last_name()} Jaya Abadi" if scheme == "p3mi" else None,
                "departed_on": departed.isoformat(), "returned_on": returned and returned.isoformat(),
                "monthly_remittance": self.rng.randrange(1_500_000, 9_000_000, 100_000),
                "remittance_use": ",".join(sorted(self.rng.sample(
                    ("konsumsi", "rumah", "pendidikan", "modal_usaha", "tabungan"), self.rng.randint(1, 3)))),
                "had_problem": self.rng.random() < 0.12, "bpjs_ketenagakerjaan": self.rng.random() < 0.7,
            })
            if out[-1]["had_problem"]:
                out[-1]["problem_kind"] = self.rng.choice(("gaji", "kekerasan", "phk", "dokumen", "sakit"))
        return out

    def _business(self, hid: str, owner: dict[str, Any]) -> dict[str, Any]:
        category = _weighted(self.rng, KBLI)
        capital = self.rng.randrange(2_000_000, 400_000_000, 500_000)
        ready = self.rng.random() < 0.06
        return {"id": new_id(), "household_id": hid, "owner_member_id": owner["id"],
                "name": f"{PRODUCTS[category]} {owner['name'].split()[0]}", "kbli_category": category,
                "kbli_code": self.rng.choice(KBLI_CODES[category]), "products": PRODUCTS[category],
                "started_year": self.rng.randint(self.today.year - 12, self.today.year), "workers": self.rng.randint(0, 8),
                "capital": capital, "annual_turnover": capital * self.rng.randint(1, 6),
                "capital_source": self.rng.choice(("remitansi", "remitansi", "tabungan", "pinjaman", "bantuan")),
                "export_ready": ready, "exporting": ready and self.rng.random() < 0.3,
                "cooperative_member": self.rng.random() < 0.25, "received_support": self.rng.random() < 0.4,
                "status": "aktif" if self.rng.random() < 0.9 else "tutup"}

    def household(self, village: str) -> HouseholdGraph:
        rng, district = self.rng, village[:8]
        hid = new_id()
        head_sex = "L" if rng.random() < 0.8 else "P"
        head = self._member(district, head_sex, self._birth(28, 62), "kepala", "bukan")
        members = [head]  # the one head of the household
        if head_sex == "L" or rng.random() < 0.5:
            spouse_sex = "P" if head_sex == "L" else "L"
            members.append(self._member(district, spouse_sex, self._birth(24, 58), "suami_istri", "bukan"))
        youngest_parent = min(self._age(dt.date.fromisoformat(m["birth_date"])) for m in members)
        oldest_child = min(22, youngest_parent - PARENT_MIN_AGE - 1)
        for _child in range(rng.choice((0, 1, 2, 2, 3)) if oldest_child >= 1 else 0):
            members.append(self._member(district, rng.choice("LP"), self._birth(1, oldest_child), "anak", "bukan"))
        adults = [m for m in members if m["birth_date"] <= self._years_ago(21).isoformat()]
        for m in rng.sample(adults, 2 if len(adults) > 1 and rng.random() < 0.15 else 1):
            m["migration_status"] = rng.choices(("pmi_aktif", "pmi_purna", "calon_pmi"), weights=(42, 43, 15))[0]
        placements = [p for m in members if m["migration_status"] in ("pmi_aktif", "pmi_purna")
                      for p in self._placements(m)]
        owners = [m for m in adults if m["migration_status"] != "pmi_aktif"] or [head]
        businesses = [self._business(hid, rng.choice(owners)) for _ in range(
            rng.choices((0, 1, 2), weights=(62, 33, 5))[0])]
        issued = self._date_between(dt.date(2010, 1, 1), self.today)  # a real date, not in the future
        latitude, longitude = self._point(village)
        household = {
            "id": hid, "village_code": village, "hamlet": f"Dusun {self.fake.last_name()}",
            "rt": f"{rng.randint(1, 12):03d}", "rw": f"{rng.randint(1, 6):03d}", "address": self.fake.street_address(),
            "kk_number": f"{district.replace('.', '')}{issued:%d%m%y}{rng.randint(1, 9999):04d}",
            "head_name": head["name"], "phone": head["phone"],
            "latitude": latitude, "longitude": longitude,
            "visited_on": self._date_between(self.today - dt.timedelta(days=365), self.today).isoformat(),
            "consent": True, "notes": None,
        }
        return HouseholdGraph(household, members, placements, businesses)


def generate_demo(db: Database, households: int, *, villages: Sequence[str] = (), seed: int = 1,
                  batch: int = 200, progress: Callable[[int, int], bool] | None = None) -> int:
    """Create ``households`` synthetic households; returns how many were saved.

    Saves in batches of ``batch`` households per transaction (each household through
    ``save_household``). ``progress(done, total)`` returning False cancels; a cancelled run keeps
    only whole, committed batches.
    """
    if households < 0:
        raise KnownError(_("Jumlah rumah tangga tidak boleh negatif."))
    factory = DemoFactory(seed)
    chosen = list(villages)
    for code in chosen:
        if db.execute("SELECT 1 FROM regions WHERE code = ? AND level = 4", [code]).fetchone() is None:
            raise KnownError(_("Kode desa {code} tidak ada dalam daftar wilayah Kemendagri.", code=code))
    chosen = chosen or pick_villages(db, factory.rng)
    factory.used_niks.update(r[0] for r in db.execute("SELECT nik FROM members WHERE nik IS NOT NULL"))
    done = 0
    by_village: dict[str, list[HouseholdGraph]] = {}
    while done < households:
        with db.atomic():
            for _i in range(min(batch, households - done)):
                graph = factory.household(factory.rng.choice(chosen))
                save_household(db, graph, confirm_warnings=True)
                sample = by_village.setdefault(graph.household["village_code"], [])
                if len(sample) < PROGRAMME_SAMPLE:
                    sample.append(graph)
                done += 1
        if progress is not None and not progress(done, households):
            break
    if by_village:
        add_programme(db, factory, by_village)
    return done
