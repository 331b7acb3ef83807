"""An officer's copy of a household (an open form, a draft) against what the database holds now.

A copy keeps what each record was when read (``HouseholdGraph.loaded``). A sync may pull a
correction while a form stays open for hours, or a draft waits for days: ``changed_underneath``
tells the form, ``refresh_untouched`` takes the new values in while keeping the officer's edits,
``has_unsaved`` says whether a draft still holds anything. A save is correct without them (it
sends only the edits, see ``households``). ``loaded`` travels with a draft as JSON.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.errors import KnownError
from desmig_desktop.services.households import HouseholdGraph, Values, load_household
from desmig_desktop.services.record_edits import differs, edited_keys
from desmig_desktop.store import questionnaire_store, records
from desmig_desktop.store.records import Base


def changed_underneath(db: Database, graph: HouseholdGraph) -> bool:
    """Whether the database now holds something this copy shows otherwise in a part the officer
    did not change (a sync pulled a correction, deleted an untouched child, added a child) —
    what ``refresh_untouched`` would take in. A field the officer changed is not compared: if
    someone else changed it too, the server's merge decides and records the losing value."""
    if not graph.loaded:
        return False
    now = _stored_graph(db, graph.household["id"])
    if now is None:
        return ("households", graph.household["id"]) in graph.loaded
    current = {(name, v["id"]): v for name, v in now.records()}
    if any(key not in graph.loaded for key in current):
        return True
    q = questionnaire_store.active(db)  # a question added since the form opened counts too
    for name, values in graph.records():
        base = graph.loaded.get((name, values["id"]))
        if base is None:
            continue
        spec = q.entity(name)
        keys = edited_keys(name, values, base, spec)
        row = current.get((name, values["id"]))
        if row is None:
            if not keys:
                return True
            continue
        if any(row.get(k) != base.values.get(k) for k in spec.keys if k not in keys):
            return True
    return False


def refresh_untouched(db: Database, graph: HouseholdGraph) -> HouseholdGraph:
    """The copy with the current values of every field the officer did not change.

    Edited fields keep the officer's value and the loaded value as base (the server must still
    see that someone else may have changed them); a record with no edit becomes the current one,
    version included. Children added meanwhile appear; untouched children deleted meanwhile go;
    children the officer removed stay removed.
    """
    now = _stored_graph(db, graph.household["id"])
    if now is None:
        return graph
    current = {(name, v["id"]): v for name, v in now.records()}
    out = HouseholdGraph({}, loaded={})

    def refreshed(name: str, values: Values) -> Values | None:
        key = (name, values["id"])
        base = graph.loaded.get(key)
        row = current.get(key)
        if base is None:
            return values  # new in this copy
        keys = edited_keys(name, values, base)
        if row is None:  # deleted meanwhile: gone from the copy unless the officer changed it
            if not keys:
                return None
            out.loaded[key] = base
            return values
        if not keys:
            out.loaded[key] = records.base_of(row)
            return dict(row)
        seen = {**records.base_of(row).values, **{k: base.values.get(k) for k in keys}}
        out.loaded[key] = Base(base.version, seen)
        return {**row, **{k: values[k] for k in keys}}

    def merge_list(name: str, mine: list[Values], theirs: list[Values]) -> list[Values]:
        result = [r for r in (refreshed(name, v) for v in mine) if r is not None]
        have = {v["id"] for v in mine} | {rid for (n, rid) in graph.loaded if n == name}
        for row in theirs:
            if row["id"] not in have:
                result.append(dict(row))
                out.loaded[(name, row["id"])] = records.base_of(row)
        return result

    out.household = refreshed("households", graph.household) or graph.household
    out.members = merge_list("members", graph.members, now.members)
    out.placements = merge_list("placements", graph.placements, now.placements)
    out.businesses = merge_list("businesses", graph.businesses, now.businesses)
    for key, base in graph.loaded.items():  # removed by the officer: still removed, deleted on save
        if key in current and key not in out.loaded:
            out.loaded[key] = base
    return out


def has_unsaved(db: Database, graph: HouseholdGraph) -> bool:
    """Whether this copy holds anything the database does not: a record not stored, an edited
    field whose stored value differs, a removed child still stored. A draft written just before
    its household's save committed (the app killed in between) holds nothing unsaved."""
    now = _stored_graph(db, str(graph.household.get("id")))
    if now is None:
        return True
    stored = {(name, v["id"]): v for name, v in now.records()}
    mine = graph.records()
    q = questionnaire_store.active(db)
    for name, values in mine:
        row = stored.get((name, str(values.get("id"))))
        if row is None:
            return True
        base = graph.loaded.get((name, row["id"])) or records.base_of(row)
        spec = q.entity(name)
        if any(differs(name, k, values[k], row.get(k), spec) for k in edited_keys(name, values, base, spec)):
            return True
    kept = {(name, str(v.get("id"))) for name, v in mine}
    removable = graph.loaded if graph.loaded else stored
    return any(key in stored and key not in kept for key in removable)


def _stored_graph(db: Database, household_id: str) -> HouseholdGraph | None:
    try:
        return load_household(db, household_id)
    except KnownError:
        return None


def loaded_to_json(loaded: dict[tuple[str, str], Base]) -> list[list[Any]]:
    """``HouseholdGraph.loaded`` as JSON-safe lists (a draft keeps it, so a save days later still
    knows what the officer was shown)."""
    return [[name, record_id, base.version, dict(base.values)] for (name, record_id), base in loaded.items()]


def loaded_from_json(items: Any) -> dict[tuple[str, str], Base]:
    out: dict[tuple[str, str], Base] = {}
    for name, record_id, version, values in items:
        if name not in ENTITIES or not isinstance(values, dict):
            raise ValueError("unreadable loaded copy")
        out[(str(name), str(record_id))] = Base(int(version), values)
    return out


def loaded_of_old_draft(db: Database, graph: HouseholdGraph) -> dict[tuple[str, str], Base]:
    """``loaded`` for a draft written before drafts kept it: its records carry the version they
    were read at, not the values. Taken as loaded: the stored values with that version, so every
    field the draft holds otherwise is sent as an edit — and with the old version as base, the
    server records a conflict, instead of taking it as an ordinary edit, where someone else
    changed that field since. (Only such old drafts; new ones keep exactly what was loaded.)"""
    stored = _stored_graph(db, str(graph.household.get("id")))
    if stored is None:
        return {}
    drafted = {(name, str(v.get("id"))): v for name, v in graph.records()}
    return {key: Base(int(drafted[key].get("server_version") or 0) if key in drafted else base.version, base.values)
            for key, base in stored.loaded.items()}
