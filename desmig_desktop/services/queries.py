"""Read-only queries the ui shows: the household list (filtered, counted, paged) and a record's history.

The SQL lives in the store (``store.queries``: a search bounded by indexes and FTS, never
loading all households; ``store.records.history``: the append-only audit trail); the ui
reaches it through this module so it never imports the store.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from desmig_desktop.store import records
from desmig_desktop.store.queries import HouseholdFilter, count_households, search_households

__all__ = ["HouseholdFilter", "count_households", "record_history", "search_households"]


def record_history(db: Database, entity: str, record_id: str) -> list[dict[str, Any]]:
    """The field changes of one record, oldest first: ``at``, ``op_seq``, ``actor``, ``source``,
    ``field``, ``old``, ``new`` (values decoded)."""
    return records.history(db, entity, record_id)
