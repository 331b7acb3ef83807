"""The figures HQ asked for, per province / regency / district / village, computed in SQL.

Shape (DESIGN §6): ``{"level", "rows": [{"code", "name", "households", "members", "pmi_active",
"pmi_returned", "pmi_prospective", "households_with_business", "businesses",
"businesses_by_kbli": {"A": n, ...}, "export_ready"}], "totals": {...}}``.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.store.queries import rows

LEVELS = {"province": 2, "regency": 5, "district": 8, "village": 13}
COUNT_KEYS = ("households", "members", "pmi_active", "pmi_returned", "pmi_prospective",
              "households_with_business", "businesses", "export_ready")

_REPORT_SQL = """
WITH hh AS (
  SELECT id, substr(village_code, 1, :n) AS code FROM households
  WHERE deleted = 0 AND (:prefix = '' OR village_code LIKE :prefix || '%')
),
m AS (
  SELECT hh.code, count(*) AS members,
         sum(m.migration_status = 'pmi_aktif') AS pmi_active,
         sum(m.migration_status = 'pmi_purna') AS pmi_returned,
         sum(m.migration_status = 'calon_pmi') AS pmi_prospective
  FROM members m JOIN hh ON hh.id = m.household_id WHERE m.deleted = 0 GROUP BY hh.code
),
b AS (
  SELECT hh.code, count(*) AS businesses, count(DISTINCT b.household_id) AS households_with_business,
         sum(coalesce(b.export_ready, 0)) AS export_ready
  FROM businesses b JOIN hh ON hh.id = b.household_id WHERE b.deleted = 0 GROUP BY hh.code
)
SELECT hh.code, coalesce(r.name, hh.code) AS name, count(*) AS households,
       coalesce(m.members, 0) AS members, coalesce(m.pmi_active, 0) AS pmi_active,
       coalesce(m.pmi_returned, 0) AS pmi_returned, coalesce(m.pmi_prospective, 0) AS pmi_prospective,
       coalesce(b.households_with_business, 0) AS households_with_business,
       coalesce(b.businesses, 0) AS businesses, coalesce(b.export_ready, 0) AS export_ready
FROM hh LEFT JOIN m ON m.code = hh.code LEFT JOIN b ON b.code = hh.code LEFT JOIN regions r ON r.code = hh.code
GROUP BY hh.code ORDER BY hh.code
"""

_KBLI_SQL = """
SELECT substr(h.village_code, 1, :n) AS code, b.kbli_category AS kbli, count(*) AS n
FROM businesses b JOIN households h ON h.id = b.household_id
WHERE b.deleted = 0 AND h.deleted = 0 AND (:prefix = '' OR h.village_code LIKE :prefix || '%')
GROUP BY 1, 2
"""


def build_report(db: Database, level: str = "province", prefix: str = "") -> dict[str, Any]:
    """Aggregate live records by ``level``, optionally inside the region code ``prefix``."""
    if level not in LEVELS:
        raise KnownError(_("Tingkat laporan tidak dikenal: {level}", level=level))
    params = {"n": LEVELS[level], "prefix": prefix}
    out = rows(db, _REPORT_SQL, params)
    by_code = {r["code"]: r for r in out}
    for r in out:
        r["businesses_by_kbli"] = {}
    for r in rows(db, _KBLI_SQL, params):
        by_code[r["code"]]["businesses_by_kbli"][r["kbli"]] = r["n"]
    return {"level": level, "rows": out, "totals": totals(out)}


def totals(report_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum rows of one level (areas do not overlap, so every count is additive)."""
    result: dict[str, Any] = {k: sum(r[k] for r in report_rows) for k in COUNT_KEYS}
    kbli: dict[str, int] = {}
    for r in report_rows:
        for code, n in r["businesses_by_kbli"].items():
            kbli[code] = kbli.get(code, 0) + n
    result["businesses_by_kbli"] = dict(sorted(kbli.items()))
    return result
