"""The officer's at-a-glance figures (``desmig status``)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITY_ORDER
from desmig_desktop.services.questionnaire import active_version
from desmig_desktop.store import settings
from desmig_desktop.store.queries import entity_counts
from desmig_desktop.store.records import pending_ops


def status(db: Database) -> dict[str, Any]:
    """Live record counts of every entity (the programme's records too), pending outbox ops, open
    conflicts, the last successful sync and the questionnaire version the database is on (the
    one its forms ask and its ops are validated under: what HQ support asks an officer first)."""
    out: dict[str, Any] = dict(entity_counts(db, ENTITY_ORDER))
    out["pending_ops"] = pending_ops(db)
    out["open_conflicts"] = int(db.execute("SELECT count(*) FROM sync_conflicts WHERE status = 'open'").fetchone()[0])
    out["last_sync_at"] = settings.get(db, "last_success", table="sync_state")
    out["questionnaire_version"] = active_version(db)
    return out


def live_households(db: Database) -> int:
    """How many households the officer has (deleted ones not counted)."""
    return entity_counts(db)["households"]
