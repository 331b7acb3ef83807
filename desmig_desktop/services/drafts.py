"""Unsaved form contents kept so nothing typed is lost (autosave, close, crash).

Drafts hold personal data (NIK, names), so they live in the local database — encrypted with it
— not in plain files. Each write is its own committed transaction (``synchronous=FULL``), so a
power cut leaves either the previous draft or the new one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from desmig_desktop.domain.ids import utc_now

log = logging.getLogger(__name__)
DRAFT_VERSION = 1


@dataclass(frozen=True)
class Draft:
    """One saved snapshot of an editor: ``data`` is whatever the editor needs to rebuild itself."""

    key: str
    saved_at: str
    data: dict[str, Any]


def save_draft(db: Any, key: str, data: dict[str, Any]) -> None:
    """Write (or replace) the draft ``key`` durably."""
    payload = json.dumps({"version": DRAFT_VERSION, "data": data}, ensure_ascii=False, default=str)
    with db.atomic():
        db.execute("INSERT INTO drafts(key, saved_at, data) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE"
                   " SET saved_at = excluded.saved_at, data = excluded.data", [key, utc_now(), payload])


def discard_draft(db: Any, key: str) -> None:
    """Forget the draft ``key`` (after a save or an explicit discard)."""
    with db.atomic():
        db.execute("DELETE FROM drafts WHERE key = ?", [key])


def load_drafts(db: Any) -> list[Draft]:
    """Every readable draft, oldest first; unreadable ones are logged and left in place."""
    found: list[Draft] = []
    for key, saved_at, text in db.execute("SELECT key, saved_at, data FROM drafts ORDER BY saved_at, key"):
        try:
            payload = json.loads(text)
            if payload.get("version") != DRAFT_VERSION or not isinstance(payload.get("data"), dict):
                raise ValueError("unknown draft layout")
            found.append(Draft(key, saved_at, payload["data"]))
        except ValueError as exc:
            log.warning("a draft could not be read: %s", exc)
    return found
