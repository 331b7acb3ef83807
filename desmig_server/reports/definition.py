"""What the report counts: re-exported from ``desmig_desktop.domain.report_spec``, the one
definition the desktop and HQ share (labels, rules and the SQL-shaped declarations)."""

from __future__ import annotations

from typing import Any

from desmig_desktop.domain.report_spec import (
    COUNT_KEYS,
    DESIGN_KEYS,
    KBLI_CODES,
    LEVEL_OF_LENGTH,
    LEVELS,
    METRIC,
    METRICS,
    REPORT_KEYS,
    SCALAR_KEYS,
    empty_row,
)

# report key -> members.migration_status value it counts (kept for callers of the first version)
MIGRATION_COUNTS: dict[str, str] = {
    key: str(METRIC[key].where[0].value) for key in ("pmi_active", "pmi_returned", "pmi_prospective")
}

__all__ = ["COUNT_KEYS", "DESIGN_KEYS", "KBLI_CODES", "LEVELS", "LEVEL_OF_LENGTH", "METRIC", "METRICS",
           "MIGRATION_COUNTS", "REPORT_KEYS", "SCALAR_KEYS", "empty_counts"]


def empty_counts() -> dict[str, Any]:
    """A zero row (without code/name)."""
    return empty_row()
