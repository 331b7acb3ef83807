"""The regional report, declared once: every figure's key, labels (id/en) and what it counts.

The desktop (``desmig_desktop.services.reports``, typed local tables) and HQ
(``desmig_server.reports.queries``, the JSON ``records`` table) both turn these declarations into
SQL, so an officer and HQ get the same number from the same data. Stdlib only.

Rules every metric follows:

* **Live records only.** A record counts when neither it nor any ancestor is deleted (a member or
  business needs a live household; a placement a live member in a live household).
* **Region.** A record belongs to the village of its household (``households.village_code``, the
  server's ``scope``); a row of the report groups the code prefix of the requested level.
* **Totals.** Regions of one level never overlap and every record lies in exactly one, so the
  additive figures of ``totals`` (counts, per-key maps) are the sums of the rows
  (``add_rows``). A median is not: the SQL computes it again over every matching record. Nor
  is a count of areas holding data at the rows' level or above (two villages of one district
  are one district): ``count_areas`` takes those from the rows' codes. Top lists are ranked
  again from the summed map.
* **Now, not ever.** Businesses count when their status is *aktif* (closed ones have their own
  figure); remittances are the current ones: the open placement (no return date) of a member
  who is PMI aktif now. What was ever recorded has its own, differently named figure.

* **Programme figures** (issue 15: the four pillars and the officer's work) read the programme
  records, whose village is their own ``village_code`` or their parent's. *Activities* count in
  the report's period (``domain.report_period``: ``dated``); *stocks* are taken at its end
  (``stock``: open cases opened by then; children under 18 then). HQ computes them from the
  records at each request (``programme``), as its maintained aggregates hold no period; children
  of PMI come from the aggregates' birth-date multisets (``desmig_server.reports.queries.AGED``).

Keys are stable: the first are those of DESIGN §6, and none is ever renamed (the JSON of
``desmig report --json``, the HQ API and the downloads carry them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from desmig_desktop.domain.fields import (
    ENTITIES,
    KBLI_CATEGORY,
    OPEN_CASE_STATUSES,
    SERVICE_TYPE,
    UMKM_CLASS,
)
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.domain.reference import is_kemendagri_code

# report level -> length of the Kemendagri code prefix that groups it
LEVELS: dict[str, int] = {"province": 2, "regency": 5, "district": 8, "village": 13}
LEVEL_OF_LENGTH: dict[int, str] = {length: level for level, length in LEVELS.items()}
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "province": ("Provinsi", "Province"),
    "regency": ("Kabupaten/kota", "Regency/city"),
    "district": ("Kecamatan", "District"),
    "village": ("Desa/kelurahan", "Village"),
}
KBLI_CODES: tuple[str, ...] = tuple(c.value for c in KBLI_CATEGORY)
UMKM_UNKNOWN = "unknown"  # capital and sales both unknown: no class can be derived
TOP_COUNTRIES = 5


class Aggregate(Enum):
    COUNT = "count"  # matching records
    COUNT_DISTINCT = "count_distinct"  # distinct values of ``distinct`` among matching records
    SUM = "sum"  # sum of ``field`` over records that have a value; 0 when none
    MEDIAN = "median"  # median of ``field`` over records that have a value; None when none
    COUNT_BY = "count_by"  # {value of ``field``: matching records}
    COUNT_DISTINCT_BY = "count_distinct_by"  # {value of ``field``: distinct values of ``distinct``}
    TOP = "top"  # the ``top_n`` largest entries of the map metric ``source``
    AREAS = "areas"  # distinct areas of ``level`` (code prefixes) holding a matching record
    AGE_BY = "age_by"  # {band: matching records} by the days from ``field`` to the period's end (``bands``)


# The household entities; every other entity is a programme record (issue 15).
HOUSEHOLD_ENTITIES: tuple[str, ...] = ("households", "members", "placements", "businesses")


@dataclass(frozen=True)
class Where:
    """Keep records whose ``field`` equals ``value`` (a yes/no field: ``True`` only, so a missing
    answer never counts as "no"); with ``value=None``, whose ``field`` has any value; with
    ``absent=True``, whose ``field`` has no value. ``of`` names the ancestor entity whose field
    it is (a placement's member); ``None``: the metric's own entity."""

    field: str
    value: str | bool | None = None
    of: str | None = None
    absent: bool = False
    one_of: tuple[str, ...] = ()  # the field has one of these values (``value`` unused)


@dataclass(frozen=True)
class Metric:
    key: str
    label_id: str
    label_en: str
    entity: str
    aggregate: Aggregate
    counted_id: str  # how it is counted, for help texts and the docs
    counted_en: str
    field: str | None = None
    distinct: str | None = None
    where: tuple[Where, ...] = ()
    keys: tuple[str, ...] = ()  # COUNT_BY: always listed, in this order (0 when none)
    other_key: str | None = None  # COUNT_BY: where a missing or unknown value is counted
    source: str | None = None  # TOP: the map it ranks
    top_n: int = 0
    top_item: tuple[str, str] = ("key", "value")  # TOP: names of an entry's two members
    money: bool = False
    level: str | None = None  # AREAS: the level whose areas are counted
    # Programme figures (module docstring): the date field placing the record in the period (of
    # the ancestor ``dated_of``); a stock counts records dated up to the period's end only.
    dated: str | None = None
    dated_of: str | None = None
    stock: bool = False
    child_of_pmi: str | None = None  # the field holding a member id ("id": the record) that must be a child of PMI
    distinct_of: str | None = None  # COUNT_DISTINCT: the ancestor whose field ``distinct`` is
    bands: tuple[int, ...] = ()  # AGE_BY: upper day limits of the bands but the last (``keys`` name them)

    @property
    def is_map(self) -> bool:
        return self.aggregate in (Aggregate.COUNT_BY, Aggregate.COUNT_DISTINCT_BY, Aggregate.AGE_BY)

    @property
    def programme(self) -> bool:
        """A programme figure: HQ computes it from the records for the asked period."""
        return self.entity not in HOUSEHOLD_ENTITIES or self.child_of_pmi is not None

    @property
    def additive(self) -> bool:
        """Whether a region's figure is the sum of its sub-regions' (areas never overlap)."""
        return self.aggregate not in (Aggregate.MEDIAN, Aggregate.TOP, Aggregate.AREAS)

    @property
    def label(self) -> str:
        return pick(self.label_id, self.label_en)

    @property
    def counted(self) -> str:
        return pick(self.counted_id, self.counted_en)


M, A, W = Metric, Aggregate, Where
_LIVE_ID = "Rumah tangga yang tercatat dan tidak dihapus."
_LIVE_EN = "Households recorded and not deleted."
_ACTIVE = W("status", "aktif")  # a business counts while it runs; closed ones: ``businesses_closed``
# A current remittance: the open placement (no return date yet) of a member who is abroad now.
_CURRENT = (W("returned_on", absent=True), W("migration_status", "pmi_aktif", of="members"))
_CURRENT_ID = "penempatan yang sedang berjalan (belum ada tanggal kembali) dari anggota berstatus PMI aktif"
_CURRENT_EN = "open placements (no return date) of members who are abroad now"


_TRAINED = W("support_type", one_of=("pelatihan", "pendampingan"))
_OPEN = W("status", one_of=OPEN_CASE_STATUSES)
_IN_ID, _IN_EN = "dalam periode laporan", "in the report's period"
PROGRAMME_METRICS: tuple[Metric, ...] = (
    M("programme_villages", "Desa Desmigratif aktif", "Active Desmigratif villages", "village_profiles", A.COUNT,
      "Profil desa Desmigratif berstatus aktif.", "Desmigratif village profiles whose status is active.",
      where=(W("status", "aktif"),)),
    M("service_records", "Layanan migrasi", "Migration services", "services", A.COUNT,
      f"Catatan layanan pusat layanan migrasi {_IN_ID}.", f"Service records of the migration centre {_IN_EN}.",
      dated="served_on"),
    M("services_by_type", "Layanan migrasi per jenis", "Migration services by type", "services", A.COUNT_BY,
      f"Catatan layanan {_IN_ID} per jenis layanan.", f"Service records {_IN_EN} per service type.",
      field="service_type", keys=tuple(c.value for c in SERVICE_TYPE), dated="served_on"),
    M("open_cases", "Layanan/kasus terbuka", "Open cases", "services", A.COUNT,
      "Layanan berstatus terbuka atau sedang ditindaklanjuti, dicatat sampai akhir periode.",
      "Services whose status is open or in follow-up, recorded up to the period's end.",
      where=(_OPEN,), dated="served_on", stock=True),
    M("open_cases_by_age", "Kasus terbuka menurut umur", "Open cases by age", "services", A.AGE_BY,
      "Kasus terbuka menurut hari sejak tanggal layanan sampai akhir periode: di bawah 30, 30–89, 90 atau lebih.",
      "Open cases by days from the service date to the period's end: under 30, 30–89, 90 or more.",
      field="served_on", keys=("lt30", "30_89", "90plus"), bands=(30, 90), where=(_OPEN,), dated="served_on",
      stock=True),
    M("children_of_pmi", "Anak PMI", "Children of migrant workers", "members", A.COUNT,
      "Anak atau cucu anggota berstatus PMI aktif dalam rumah tangga yang sama, berumur di bawah 18 tahun pada "
      "akhir periode (bila tanggal lahir diisi).", "Children or grandchildren of a member who is abroad now, in "
      "the same household, under 18 at the period's end (when the birth date is known).", child_of_pmi="id"),
    M("children_in_parenting", "Anak PMI ikut pengasuhan bersama", "Children of migrant workers in parenting",
      "parenting_attendance", A.COUNT_DISTINCT, f"Anak PMI yang hadir sedikitnya sekali di kegiatan pengasuhan "
      f"{_IN_ID} (dihitung sekali).", f"Children of migrant workers who attended a parenting activity {_IN_EN} "
      "(counted once).", distinct="member_id", child_of_pmi="member_id", dated="held_on",
      dated_of="parenting_activities"),
    M("parenting_activities", "Kegiatan pengasuhan bersama", "Community parenting activities",
      "parenting_activities", A.COUNT, f"Kegiatan pengasuhan bersama {_IN_ID}.",
      f"Community parenting activities {_IN_EN}.", dated="held_on"),
    M("cooperatives", "Koperasi/kelompok usaha aktif", "Active cooperatives/business groups", "cooperatives",
      A.COUNT, "Koperasi atau kelompok usaha berstatus aktif.", "Cooperatives or business groups whose status "
      "is active.", where=(W("status", "aktif"),)),
    M("cooperative_members", "Anggota koperasi/kelompok aktif", "Members of active cooperatives",
      "cooperative_members", A.COUNT, "Keanggotaan pada koperasi atau kelompok usaha berstatus aktif.",
      "Memberships of cooperatives or business groups whose status is active.",
      where=(W("status", "aktif", of="cooperatives"),)),
    M("households_trained", "Rumah tangga dilatih/didampingi", "Households trained or mentored",
      "business_supports", A.COUNT_DISTINCT, f"Rumah tangga yang usahanya menerima pelatihan atau pendampingan "
      f"{_IN_ID} (dihitung sekali).", f"Households whose business received training or mentoring {_IN_EN} "
      "(counted once).", distinct="household_id", distinct_of="businesses", where=(_TRAINED,),
      dated="received_on"),
    M("trained_businesses_active", "Usaha dilatih yang masih aktif", "Trained businesses still active",
      "business_supports", A.COUNT_DISTINCT, f"Unit usaha yang menerima pelatihan atau pendampingan {_IN_ID} dan "
      "kini berstatus aktif.", f"Businesses that received training or mentoring {_IN_EN} and are active now.",
      distinct="business_id", where=(_TRAINED, W("status", "aktif", of="businesses")), dated="received_on"),
    M("trained_businesses_closed", "Usaha dilatih yang sudah tutup", "Trained businesses now closed",
      "business_supports", A.COUNT_DISTINCT, f"Unit usaha yang menerima pelatihan atau pendampingan {_IN_ID} dan "
      "kini berstatus tutup.", f"Businesses that received training or mentoring {_IN_EN} and are closed now.",
      distinct="business_id", where=(_TRAINED, W("status", "tutup", of="businesses")), dated="received_on"),
    M("support_amount", "Nilai dukungan usaha", "Value of business support", "business_supports", A.SUM,
      f"Jumlah nilai bantuan (modal, akses pasar, dll.) {_IN_ID} (Rp).", f"Total value of support {_IN_EN} (IDR).",
      field="amount", money=True, dated="received_on"),
    M("officer_activities", "Kegiatan petugas", "Officer's activities", "officer_activities", A.COUNT,
      f"Rapat koordinasi, sosialisasi dan kunjungan petugas {_IN_ID}.",
      f"The officer's coordination meetings, socialisation events and visits {_IN_EN}.", dated="held_on"),
)


def _areas(key: str, level: str, label_id: str, label_en: str) -> Metric:
    return Metric(key, f"{label_id} dengan data", f"{label_en} with data", "households", Aggregate.AREAS,
                  f"{label_id} yang memiliki sedikitnya satu rumah tangga tercatat.",
                  f"{label_en} holding at least one recorded household.", level=level)


METRICS: tuple[Metric, ...] = (
    # -- DESIGN §6 keys -----------------------------------------------------------------------
    M("households", "Rumah tangga", "Households", "households", A.COUNT, _LIVE_ID, _LIVE_EN),
    M("members", "Anggota rumah tangga", "Household members", "members", A.COUNT,
      "Semua anggota rumah tangga.", "Every household member."),
    M("pmi_active", "PMI aktif", "Migrant workers abroad", "members", A.COUNT,
      "Anggota berstatus PMI aktif (sedang di luar negeri).", "Members whose status is 'abroad now'.",
      where=(W("migration_status", "pmi_aktif"),)),
    M("pmi_returned", "PMI purna", "Returned migrant workers", "members", A.COUNT,
      "Anggota berstatus PMI purna (sudah kembali).", "Members whose status is 'returned'.",
      where=(W("migration_status", "pmi_purna"),)),
    M("pmi_prospective", "Calon PMI", "Prospective migrant workers", "members", A.COUNT,
      "Anggota berstatus calon PMI.", "Members whose status is 'prospective'.",
      where=(W("migration_status", "calon_pmi"),)),
    M("households_with_business", "Rumah tangga dengan usaha aktif", "Households with an active business",
      "businesses", A.COUNT_DISTINCT,
      "Rumah tangga yang punya sedikitnya satu unit usaha berstatus aktif (usaha yang tutup tidak dihitung).",
      "Households with at least one business whose status is active (closed businesses do not count).",
      distinct="household_id", where=(_ACTIVE,)),
    M("businesses", "Unit usaha aktif", "Active businesses", "businesses", A.COUNT,
      "Unit usaha berstatus aktif; usaha yang tutup dihitung terpisah (Unit usaha tutup).",
      "Businesses whose status is active; closed ones are counted separately (Closed businesses).",
      where=(_ACTIVE,)),
    M("businesses_by_kbli", "Unit usaha aktif per kategori KBLI", "Active businesses by KBLI category",
      "businesses", A.COUNT_BY, "Unit usaha aktif per kategori KBLI 2020 (A–U; selalu 21 kategori).",
      "Active businesses per KBLI 2020 category (A–U; always all 21).", field="kbli_category",
      keys=KBLI_CODES, where=(_ACTIVE,)),
    M("export_ready", "Usaha aktif layak ekspor", "Active export-ready businesses", "businesses", A.COUNT,
      "Unit usaha aktif yang dinyatakan layak ekspor.", "Active businesses marked export-ready.",
      where=(_ACTIVE, W("export_ready", True))),
    # -- breakdowns, exports and remittances ----------------------------------------------------
    M("exporting", "Usaha aktif sudah ekspor", "Active exporting businesses", "businesses", A.COUNT,
      "Unit usaha aktif yang sudah mengekspor.", "Active businesses marked as already exporting.",
      where=(_ACTIVE, W("exporting", True))),
    M("businesses_by_umkm", "Unit usaha aktif per kelas UMKM", "Active businesses by MSME class", "businesses",
      A.COUNT_BY, "Unit usaha aktif per kelas UMKM (PP 7/2021); 'unknown' bila modal dan omzet tidak diisi.",
      "Active businesses per MSME class (PP 7/2021); 'unknown' when capital and sales are both missing.",
      field="umkm_class", keys=tuple(c.value for c in UMKM_CLASS), other_key=UMKM_UNKNOWN, where=(_ACTIVE,)),
    M("pmi_by_country", "PMI per negara tujuan", "Migrant workers by destination country", "placements",
      A.COUNT_DISTINCT_BY, "Anggota dengan sedikitnya satu penempatan di negara itu (dihitung sekali per negara).",
      "Members with at least one placement in that country (counted once per country).",
      field="country", distinct="member_id"),
    M("top_countries", "Negara tujuan teratas", "Top destination countries", "placements", A.TOP,
      "Lima negara dengan PMI terbanyak (seri: kode negara).", "The five countries with most workers "
      "(ties: by country code).", source="pmi_by_country", top_n=TOP_COUNTRIES, top_item=("country", "pmi")),
    M("remittance_total", "Remitansi per bulan saat ini (jumlah)", "Current monthly remittances (total)",
      "placements", A.SUM, f"Jumlah remitansi per bulan dari {_CURRENT_ID} (Rp); penempatan yang sudah "
      "selesai tidak dihitung.", f"Sum of the monthly remittance of {_CURRENT_EN} (IDR); finished placements "
      "do not count.", field="monthly_remittance", where=_CURRENT, money=True),
    M("remittance_median", "Remitansi per bulan saat ini (median)", "Current monthly remittance (median)",
      "placements", A.MEDIAN, f"Median remitansi per bulan atas {_CURRENT_ID} yang mengisinya; dibulatkan ke "
      "rupiah (setengah ke atas).", f"Median monthly remittance over {_CURRENT_EN} that report one; rounded to "
      "the rupiah (half up).", field="monthly_remittance", where=_CURRENT, money=True),
    M("remittance_placements", "Penempatan berjalan dengan data remitansi", "Open placements with remittance data",
      "placements", A.COUNT, f"Jumlah {_CURRENT_ID} yang mengisi remitansi per bulan (dasar median).",
      f"Number of {_CURRENT_EN} that report a monthly remittance (the median's base).",
      where=(W("monthly_remittance"), *_CURRENT)),
    # -- closed businesses, every recorded remittance and the areas holding data ----------------
    M("businesses_closed", "Unit usaha tutup", "Closed businesses", "businesses", A.COUNT,
      "Unit usaha berstatus tutup (tidak termasuk dalam Unit usaha aktif).",
      "Businesses whose status is closed (not included in Active businesses).", where=(W("status", "tutup"),)),
    M("remittance_total_all_placements", "Remitansi per bulan, semua penempatan tercatat (jumlah)",
      "Monthly remittances of every recorded placement (total)", "placements", A.SUM,
      "Jumlah remitansi per bulan dari semua penempatan yang pernah dicatat, termasuk yang sudah selesai dan "
      "milik PMI purna (Rp). Bukan remitansi saat ini.", "Sum of the monthly remittance of every placement ever "
      "recorded, finished ones and those of returned workers included (IDR). Not the current remittance.",
      field="monthly_remittance", money=True),
    _areas("provinces", "province", "Provinsi", "Provinces"),
    _areas("regencies", "regency", "Kabupaten/kota", "Regencies/cities"),
    _areas("districts", "district", "Kecamatan", "Districts"),
    _areas("villages", "village", "Desa/kelurahan", "Villages"),
    *PROGRAMME_METRICS,
)
del M, A, W

METRIC: dict[str, Metric] = {m.key: m for m in METRICS}
REPORT_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS)
DESIGN_KEYS: tuple[str, ...] = ("households", "members", "pmi_active", "pmi_returned", "pmi_prospective",
                                "households_with_business", "businesses", "businesses_by_kbli", "export_ready")
# Whole-number figures (one value per row): the columns of a plain table.
SCALAR_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS if not m.is_map and m.aggregate is not Aggregate.TOP)
# The additive ones among them: a region's figure is the sum of its parts' (no median, no area count).
COUNT_KEYS: tuple[str, ...] = tuple(k for k in SCALAR_KEYS if METRIC[k].additive)
# The areas holding data, from the largest level down ("4 provinsi · 9 kabupaten/kota · …").
AREA_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS if m.aggregate is Aggregate.AREAS)

# What the report screens select, declared here once for the desktop dashboard (its cards, table
# and village PDF), the HQ web dashboard (tiles, table, downloads) and both CLIs.
# The region table's figure columns, in reading order: people first, then businesses, then money.
TABLE_KEYS: tuple[str, ...] = (
    "households", "members", "pmi_active", "pmi_returned", "pmi_prospective", "households_with_business",
    "businesses", "businesses_closed", "export_ready", "exporting", "remittance_total", "remittance_median",
)
# The headline figures above the table: eight counts and two sums of money ("members" and
# "exporting" are in the table).
SUMMARY_KEYS: tuple[str, ...] = (
    "households", "pmi_active", "pmi_returned", "pmi_prospective", "households_with_business", "businesses",
    "businesses_closed", "export_ready", "remittance_total", "remittance_median",
)
# Downloads of the table add the figures behind its columns and the areas holding data.
DOWNLOAD_EXTRA_KEYS: tuple[str, ...] = ("remittance_placements", "remittance_total_all_placements", *AREA_KEYS)
# A plain-text table (``desmig report``, ``desmig-hq report``): every whole, additive figure,
# then the areas holding data — no median, so no cell is ever empty.
TEXT_TABLE_KEYS: tuple[str, ...] = (*COUNT_KEYS, *AREA_KEYS)
# The programme figures (issue 15), in the order the dashboards and the monthly report show them.
PROGRAMME_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS if m.programme)
PROGRAMME_SCALAR_KEYS: tuple[str, ...] = tuple(k for k in PROGRAMME_KEYS if k in SCALAR_KEYS)
# The programme's headline figures: the second row of the officer's cards and of HQ's tiles.
PROGRAMME_SUMMARY_KEYS: tuple[str, ...] = (
    "service_records", "open_cases", "children_of_pmi", "children_in_parenting", "parenting_activities",
    "cooperatives", "cooperative_members", "households_trained", "officer_activities",
)


def areas_held(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, int]]:
    """``(key, count)`` of the areas finer than ``prefix`` ("" = Indonesia) that hold data, largest
    level first; keys a report does not carry are left out."""
    return [(k, int(figures[k] or 0)) for k in AREA_KEYS
            if k in figures and LEVELS[METRIC[k].level or ""] > len(prefix)]


def area_phrase(key: str, count: int) -> str:
    """``"4 provinsi"``: one part of the line "4 provinsi · 9 kabupaten/kota · …"."""
    n = grouped(count)
    phrases = {"provinces": _("{count} provinsi", count=n), "regencies": _("{count} kabupaten/kota", count=n),
               "districts": _("{count} kecamatan", count=n), "villages": _("{count} desa/kelurahan", count=n)}
    return phrases[key]


def areas_line(figures: dict[str, Any], prefix: str = "") -> str:
    """The areas holding data as one line, e.g. ``"4 provinsi · 9 kabupaten/kota · 12 kecamatan · 23
    desa/kelurahan"`` ("" when none is finer than ``prefix``)."""
    return " · ".join(area_phrase(k, n) for k, n in areas_held(figures, prefix))


def ancestors(entity_name: str) -> tuple[tuple[str, str], ...]:
    """``(parent_key, parent_entity)`` from ``entity_name`` up to households (empty for households)."""
    out: list[tuple[str, str]] = []
    spec = ENTITIES[entity_name]
    while spec.parent_key and spec.parent_entity:
        out.append((spec.parent_key, spec.parent_entity))
        spec = ENTITIES[spec.parent_entity]
    return tuple(out)


def entities() -> tuple[str, ...]:
    """Entities some metric reads, households first."""
    seen = dict.fromkeys(["households", *(m.entity for m in METRICS if m.aggregate is not Aggregate.TOP)])
    return tuple(seen)


def metrics_of(entity_name: str, *aggregates: Aggregate, programme: bool | None = None) -> tuple[Metric, ...]:
    """The metrics of ``entity_name`` with one of ``aggregates`` (only programme figures, or only
    the others, when ``programme`` says so)."""
    return tuple(m for m in METRICS if m.entity == entity_name and m.aggregate in aggregates
                 and (programme is None or m.programme == programme))


def condition_entities(metric: Metric) -> tuple[str, ...]:
    """The ancestors whose fields ``metric``'s conditions read (checked against the entity tree)."""
    parents = {parent for _key, parent in ancestors(metric.entity)}
    named = [*(w.of for w in metric.where), metric.dated_of, metric.distinct_of]
    owners = tuple(dict.fromkeys(o for o in named if o is not None))
    for owner in owners:
        if owner not in parents:
            raise ValueError(f"{metric.key}: {owner} is not an ancestor of {metric.entity}")
    return owners


def empty_row() -> dict[str, Any]:
    """The figures of a region without records (maps with fixed keys list them all at 0)."""
    row: dict[str, Any] = {}
    for m in METRICS:
        if m.aggregate in (Aggregate.COUNT_BY, Aggregate.AGE_BY):
            row[m.key] = dict.fromkeys((*m.keys, *([m.other_key] if m.other_key else [])), 0)
        elif m.aggregate is Aggregate.COUNT_DISTINCT_BY:
            row[m.key] = {}
        elif m.aggregate is Aggregate.TOP:
            row[m.key] = []
        elif m.aggregate is Aggregate.MEDIAN:
            row[m.key] = None
        else:
            row[m.key] = 0
    return row


def add_count_by(row: dict[str, Any], metric: Metric, value: Any, n: int) -> None:
    """Count ``n`` records whose ``metric.field`` is ``value`` (unknown values go to ``other_key``)."""
    target = row[metric.key]
    if metric.aggregate in (Aggregate.COUNT_BY, Aggregate.AGE_BY):
        key = value if value in metric.keys else metric.other_key
        if key is not None:
            target[key] += int(n)
    elif value is not None:
        target[str(value)] = target.get(str(value), 0) + int(n)


def add_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The additive figures of a union of disjoint regions; medians stay ``None`` (compute them
    over all records), area counts 0 (``count_areas``), top lists empty (``finish_row`` ranks
    them from the summed maps)."""
    total = empty_row()
    for row in rows:
        for m in METRICS:
            if m.key not in row:  # HQ's stored aggregates hold no programme figure
                continue
            if m.is_map:
                for key, n in row[m.key].items():
                    total[m.key][key] = total[m.key].get(key, 0) + n
            elif m.additive:
                total[m.key] += row[m.key]
    return total


def count_areas(by_code: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The areas holding data in the union of the regions ``by_code`` (rows of one level).

    An area finer than the regions lies in exactly one of them, so the rows' counts add up; a
    region or a larger area is counted once, from the regions' codes (no query needed).
    """
    out: dict[str, int] = {}
    for m in METRICS:
        if m.aggregate is Aggregate.AREAS:
            n = LEVELS[m.level or ""]
            finer = any(len(code) < n for code in by_code)
            out[m.key] = sum(row[m.key] for row in by_code.values()) if finer else len({c[:n] for c in by_code})
    return out


def finish_row(row: dict[str, Any]) -> dict[str, Any]:
    """Order open maps (largest first, ties by key) and derive the top lists from them."""
    for m in METRICS:
        if m.aggregate is Aggregate.COUNT_DISTINCT_BY:
            row[m.key] = dict(sorted(row[m.key].items(), key=lambda kv: (-kv[1], kv[0])))
    for m in METRICS:
        if m.aggregate is Aggregate.TOP and m.source:
            name, value = m.top_item
            row[m.key] = [{name: k, value: n} for k, n in list(row[m.source].items())[:m.top_n]]
    return row


def child_level(prefix: str) -> str:
    """The level a drill-down shows under ``prefix`` ("" = national: provinces; a village: itself)."""
    order = list(LEVELS)
    if not prefix:
        return order[0]
    level = LEVEL_OF_LENGTH[len(prefix)]
    return order[min(order.index(level) + 1, len(order) - 1)]


def valid_prefix(level: str, prefix: str) -> bool:
    """Whether ``prefix`` ("" or a Kemendagri code) can restrict a report at ``level``."""
    return level in LEVELS and (prefix == "" or (is_kemendagri_code(prefix) and len(prefix) <= LEVELS[level]))


def median_middle(rank: int, count: int) -> bool:
    """Whether the ``rank``-th (1-based) of ``count`` sorted values is a middle one.

    The SQL of both sides uses the same test, ``count <= 2 * rank <= count + 2``: one middle
    value for an odd count, two for an even one; the median is their mean rounded half up,
    ``(sum + n // 2) // n`` in integer arithmetic.
    """
    return count <= 2 * rank <= count + 2


def median(values: list[int]) -> int | None:
    """The median of the definition in Python (for tests and documentation)."""
    ordered = sorted(values)
    middle = [v for i, v in enumerate(ordered, start=1) if median_middle(i, len(ordered))]
    return (sum(middle) + len(middle) // 2) // len(middle) if middle else None
