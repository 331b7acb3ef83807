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

from sqlite_utils import Database

from desmig_desktop.domain.ids import utc_now
from desmig_desktop.services.household_copy import has_unsaved, loaded_from_json, loaded_of_old_draft, loaded_to_json
from desmig_desktop.services.households import HouseholdGraph, find_household

log = logging.getLogger(__name__)
DRAFT_VERSION = 1
PROGRAMME_PREFIX = "programme/"  # key prefix of a programme form's draft (``services.programme``); others: household ids


@dataclass(frozen=True)
class Draft:
    """One saved snapshot of an editor: ``data`` is whatever the editor needs to rebuild itself."""

    key: str
    saved_at: str
    data: dict[str, Any]


def save_draft(db: Database, key: str, data: dict[str, Any]) -> None:
    """Write (or replace) the draft ``key`` durably."""
    payload = json.dumps({"version": DRAFT_VERSION, "data": data}, ensure_ascii=False, default=str)
    with db.atomic():
        db.execute("INSERT INTO drafts(key, saved_at, data) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE"
                   " SET saved_at = excluded.saved_at, data = excluded.data", [key, utc_now(), payload])


def discard_draft(db: Database, key: str) -> None:
    """Forget the draft ``key`` (after a save or an explicit discard)."""
    with db.atomic():
        db.execute("DELETE FROM drafts WHERE key = ?", [key])


def load_drafts(db: Database, *, programme: bool = False) -> list[Draft]:
    """Every readable draft of a household form (``programme``: of a programme form), oldest first;
    unreadable ones are logged and left in place."""
    found: list[Draft] = []
    which = "LIKE" if programme else "NOT LIKE"
    for key, saved_at, text in db.execute(f"SELECT key, saved_at, data FROM drafts WHERE key {which} ?"
                                          " ORDER BY saved_at, key", [PROGRAMME_PREFIX + "%"]):
        try:
            payload = json.loads(text)
            if payload.get("version") != DRAFT_VERSION or not isinstance(payload.get("data"), dict):
                raise ValueError("unknown draft layout")
            found.append(Draft(key, saved_at, payload["data"]))
        except ValueError as exc:
            log.warning("a draft could not be read: %s", exc)
    return found


def graph_of(db: Database, data: dict[str, Any]) -> HouseholdGraph:
    """The household a form's draft holds, with the copy it was loaded from (``loaded``; a draft
    from before drafts kept it gets the one it implies). ``KeyError``/``ValueError`` if unreadable
    (a form built from records of the wrong shape would fail deep inside its widgets)."""
    household, children = data["household"], [data.get(name, []) for name in ("members", "placements", "businesses")]
    if not isinstance(household, dict) or not all(isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
                                                  for rows in children):
        raise ValueError("a draft's records are not value dicts")
    graph = HouseholdGraph(household, *children)
    graph.loaded = loaded_from_json(data["loaded"]) if "loaded" in data else loaded_of_old_draft(db, graph)
    return graph


def snapshot(graph: HouseholdGraph, *, is_new: bool, title: str) -> dict[str, Any]:
    """A form's draft: its graph with the copy it loaded (JSON-safe; ``graph_of`` reads it back)."""
    return {"is_new": is_new, "title": title, "household": graph.household, "members": graph.members,
            "placements": graph.placements, "businesses": graph.businesses, "loaded": loaded_to_json(graph.loaded)}


def restored(db: Database, data: dict[str, Any]) -> tuple[HouseholdGraph, bool]:
    """The graph a draft holds and whether its household was never saved (then a save creates it).
    ``KeyError``/``TypeError``/``ValueError`` if the draft is unreadable."""
    graph = graph_of(db, data)
    return graph, bool(data.get("is_new")) or find_household(db, str(graph.household["id"])) is None


class DraftWriter:
    """Writes one form's drafts, sparing the disk a write (and its fsync) when nothing changed."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._written = ""

    def write(self, key: str, data: dict[str, Any]) -> bool:
        """Keep ``data`` as the draft ``key``; False if it could not be written (logged: the
        officer keeps typing, the next change tries again) or was written already."""
        text = json.dumps(data, sort_keys=True, default=str)
        if text == self._written:
            return False
        try:
            save_draft(self._db, key, data)
        except Exception as exc:  # noqa: BLE001 — disk full or a locked DB: a draft is never in the officer's way
            log.warning("draft could not be written: %s", type(exc).__name__)
            return False
        self._written = text
        return True

    def discard(self, key: str) -> None:
        discard_draft(self._db, key)
        self._written = ""


def drop_saved(db: Database, *, skip: set[str] | frozenset[str] = frozenset()) -> list[Draft]:
    """Forget the drafts that hold nothing unsaved (their household was saved anyway, e.g. the app
    was killed between the save and forgetting the draft); returns the drafts that remain, but
    those in ``skip`` (forms open now, which keep their own drafts)."""
    remaining: list[Draft] = []
    dropped = 0
    for draft in load_drafts(db):
        if draft.key in skip:
            continue
        try:
            unsaved = has_unsaved(db, graph_of(db, draft.data))
        except (KeyError, TypeError, ValueError, AttributeError):
            unsaved = True  # unreadable: kept (the chooser offers to discard it)
        if unsaved:
            remaining.append(draft)
        else:
            discard_draft(db, draft.key)
            dropped += 1
    if dropped:
        log.info("%d drafts of households saved meanwhile were forgotten", dropped)
    return remaining
