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
  (``add_rows``). A median is not: the SQL computes it again over every matching record. Top
  lists are ranked again from the summed map.

The first keys are those of DESIGN §6 (stable); later keys were added by issue 6, none renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from desmig_desktop.domain.fields import ENTITIES, KBLI_CATEGORY, UMKM_CLASS
from desmig_desktop.domain.i18n import pick
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


@dataclass(frozen=True)
class Where:
    """Keep records whose ``field`` equals ``value`` (a yes/no field: ``True`` only, so a missing
    answer never counts as "no"); with ``value=None``, whose ``field`` has any value."""

    field: str
    value: str | bool | None = None


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

    @property
    def is_map(self) -> bool:
        return self.aggregate in (Aggregate.COUNT_BY, Aggregate.COUNT_DISTINCT_BY)

    @property
    def additive(self) -> bool:
        """Whether a region's figure is the sum of its sub-regions' (areas never overlap)."""
        return self.aggregate not in (Aggregate.MEDIAN, Aggregate.TOP)

    @property
    def label(self) -> str:
        return pick(self.label_id, self.label_en)

    @property
    def counted(self) -> str:
        return pick(self.counted_id, self.counted_en)


M, A, W = Metric, Aggregate, Where
_LIVE_ID = "Rumah tangga yang tercatat dan tidak dihapus."
_LIVE_EN = "Households recorded and not deleted."

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
    M("households_with_business", "Rumah tangga dengan usaha", "Households with a business", "businesses",
      A.COUNT_DISTINCT, "Rumah tangga yang punya sedikitnya satu unit usaha (aktif atau tutup).",
      "Households with at least one business (active or closed).", distinct="household_id"),
    M("businesses", "Unit usaha", "Businesses", "businesses", A.COUNT,
      "Semua unit usaha (aktif atau tutup).", "Every business (active or closed)."),
    M("businesses_by_kbli", "Unit usaha per kategori KBLI", "Businesses by KBLI category", "businesses",
      A.COUNT_BY, "Unit usaha per kategori KBLI 2020 (A–U; selalu 21 kategori).",
      "Businesses per KBLI 2020 category (A–U; always all 21).", field="kbli_category", keys=KBLI_CODES),
    M("export_ready", "Usaha layak ekspor", "Export-ready businesses", "businesses", A.COUNT,
      "Unit usaha yang dinyatakan layak ekspor.", "Businesses marked export-ready.",
      where=(W("export_ready", True),)),
    # -- added by issue 6 ---------------------------------------------------------------------
    M("exporting", "Usaha sudah ekspor", "Exporting businesses", "businesses", A.COUNT,
      "Unit usaha yang sudah mengekspor.", "Businesses marked as already exporting.",
      where=(W("exporting", True),)),
    M("businesses_by_umkm", "Unit usaha per kelas UMKM", "Businesses by MSME class", "businesses", A.COUNT_BY,
      "Unit usaha per kelas UMKM (PP 7/2021); 'unknown' bila modal dan omzet tidak diisi.",
      "Businesses per MSME class (PP 7/2021); 'unknown' when capital and sales are both missing.",
      field="umkm_class", keys=tuple(c.value for c in UMKM_CLASS), other_key=UMKM_UNKNOWN),
    M("pmi_by_country", "PMI per negara tujuan", "Migrant workers by destination country", "placements",
      A.COUNT_DISTINCT_BY, "Anggota dengan sedikitnya satu penempatan di negara itu (dihitung sekali per negara).",
      "Members with at least one placement in that country (counted once per country).",
      field="country", distinct="member_id"),
    M("top_countries", "Negara tujuan teratas", "Top destination countries", "placements", A.TOP,
      "Lima negara dengan PMI terbanyak (seri: kode negara).", "The five countries with most workers "
      "(ties: by country code).", source="pmi_by_country", top_n=TOP_COUNTRIES, top_item=("country", "pmi")),
    M("remittance_total", "Remitansi per bulan (jumlah)", "Monthly remittances (total)", "placements", A.SUM,
      "Jumlah remitansi per bulan dari semua penempatan yang mengisinya (Rp).",
      "Sum of the monthly remittance of every placement that reports one (IDR).",
      field="monthly_remittance", money=True),
    M("remittance_median", "Remitansi per bulan (median)", "Monthly remittance (median)", "placements", A.MEDIAN,
      "Median remitansi per bulan atas penempatan yang mengisinya; dibulatkan ke rupiah (setengah ke atas).",
      "Median monthly remittance over placements that report one; rounded to the rupiah (half up).",
      field="monthly_remittance", money=True),
    M("remittance_placements", "Penempatan dengan data remitansi", "Placements with remittance data",
      "placements", A.COUNT, "Penempatan yang mengisi remitansi per bulan (dasar median).",
      "Placements that report a monthly remittance (the median's base).", where=(W("monthly_remittance"),)),
)
del M, A, W

METRIC: dict[str, Metric] = {m.key: m for m in METRICS}
REPORT_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS)
DESIGN_KEYS: tuple[str, ...] = ("households", "members", "pmi_active", "pmi_returned", "pmi_prospective",
                                "households_with_business", "businesses", "businesses_by_kbli", "export_ready")
# Whole-number figures (one value per row): the columns of a plain table.
SCALAR_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS if not m.is_map and m.aggregate is not Aggregate.TOP)
COUNT_KEYS: tuple[str, ...] = tuple(k for k in SCALAR_KEYS if METRIC[k].aggregate is not Aggregate.MEDIAN)


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


def metrics_of(entity_name: str, *aggregates: Aggregate) -> tuple[Metric, ...]:
    return tuple(m for m in METRICS if m.entity == entity_name and m.aggregate in aggregates)


def empty_row() -> dict[str, Any]:
    """The figures of a region without records (maps with fixed keys list them all at 0)."""
    row: dict[str, Any] = {}
    for m in METRICS:
        if m.aggregate is Aggregate.COUNT_BY:
            row[m.key] = {k: 0 for k in (*m.keys, *([m.other_key] if m.other_key else []))}
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
    if metric.aggregate is Aggregate.COUNT_BY:
        key = value if value in metric.keys else metric.other_key
        if key is not None:
            target[key] += int(n)
    elif value is not None:
        target[str(value)] = target.get(str(value), 0) + int(n)


def add_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The additive figures of a union of disjoint regions; medians stay ``None`` (compute them
    over all records), top lists empty (``finish_row`` ranks them from the summed maps)."""
    total = empty_row()
    for row in rows:
        for m in METRICS:
            if m.is_map:
                for key, n in row[m.key].items():
                    total[m.key][key] = total[m.key].get(key, 0) + n
            elif m.additive:
                total[m.key] += row[m.key]
    return total


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
