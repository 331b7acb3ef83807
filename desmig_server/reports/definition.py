"""What the report counts — one definition, free of any storage code, so the desktop report
(issue 6) can share it (ideally by moving this module into ``desmig_desktop.domain``).

Every count excludes deleted records. Members are counted per migration status; a household
"with business" has at least one live business (whatever its ``status``); "export ready" counts
live businesses whose ``export_ready`` is true.
"""

from __future__ import annotations

from typing import Any

from desmig_desktop.domain.fields import KBLI_CATEGORY

# report level -> length of the Kemendagri code prefix that groups it
LEVELS: dict[str, int] = {"province": 2, "regency": 5, "district": 8, "village": 13}
LEVEL_OF_LENGTH = {length: level for level, length in LEVELS.items()}

# report key -> members.migration_status value it counts
MIGRATION_COUNTS: dict[str, str] = {
    "pmi_active": "pmi_aktif",
    "pmi_returned": "pmi_purna",
    "pmi_prospective": "calon_pmi",
}
KBLI_CODES: tuple[str, ...] = tuple(c.value for c in KBLI_CATEGORY)
COUNT_KEYS: tuple[str, ...] = (
    "households", "members", *MIGRATION_COUNTS, "households_with_business", "businesses", "export_ready",
)


def empty_counts() -> dict[str, Any]:
    """A zero row (without code/name); ``businesses_by_kbli`` always lists all 21 categories."""
    counts: dict[str, Any] = {key: 0 for key in COUNT_KEYS}
    counts["businesses_by_kbli"] = {code: 0 for code in KBLI_CODES}
    return counts
