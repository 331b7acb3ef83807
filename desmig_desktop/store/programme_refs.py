"""The laptop's side of the programme records' references (``domain.programme``): the village a
stored record belongs to, and whether the member or business a record names may be named there.

The HQ decides (``desmig_server.sync.apply``); checking here first lets a form or an import say
so before anything is saved, in the same words. A record this laptop does not hold (a member
whose household moved to a village it does not sync) is "not found" here as at HQ — but only a
reference being *set* is checked: a kept link to a moved member is left alone (see the module
docstring of ``domain.programme``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.programme import reference_refusal, side_references

_MAX_DEPTH = 8  # a parent chain is at most four records long; a cycle (hostile data) ends here


def village_of(db: Database, entity_name: str, record_id: str) -> str | None:
    """The village of a stored record: its own ``village_code``, else its parent's, up the chain."""
    for _step in range(_MAX_DEPTH):
        spec = ENTITIES[entity_name]  # only known table names reach SQL
        columns = [k for k in ("village_code", spec.parent_key) if k and spec.has(k)]
        if not columns:
            return None
        row = db.execute(f"SELECT {', '.join(columns)} FROM {entity_name} WHERE id = ?", [record_id]).fetchone()
        if row is None:
            return None
        found = dict(zip(columns, row))
        if found.get("village_code"):
            return str(found["village_code"])
        if not spec.parent_key or not spec.parent_entity or not found.get(spec.parent_key):
            return None
        entity_name, record_id = spec.parent_entity, str(found[spec.parent_key])
    return None


def record_village(db: Database, entity_name: str, values: Mapping[str, Any]) -> str | None:
    """The village a record with ``values`` belongs to: its ``village_code``, else its parent's."""
    spec = ENTITIES[entity_name]
    if spec.parent_key is None:
        code = values.get("village_code")
        return str(code) if code else None
    parent = values.get(spec.parent_key)
    return village_of(db, spec.parent_entity or "", str(parent)) if parent and spec.parent_entity else None


def reference_problems(db: Database, entity_name: str, values: Mapping[str, Any],
                       current: Mapping[str, Any] | None = None, *,
                       unsaved: Collection[str] = (), village: str | None = None) -> list[tuple[str, str]]:
    """``(field, message)`` for each side reference of a record that is set (new, or changed from
    ``current``, the stored row) to a member or business it may not name: missing, of another
    village than the record's, or deleted. ``unsaved``: ids of records about to be saved with
    this one (an import's): neither they nor a record whose village they decide can be checked
    here, so they are left to the HQ. ``village``: the record's village when the caller knows it
    (a form's child of a parent not saved yet), else read from the record and its parent."""
    refs = side_references(entity_name)
    if not refs:
        return []
    village = village or record_village(db, entity_name, {**(current or {}), **values})
    if village is None:  # a parent saved with it (or none): its village is not known yet
        return []
    moved = current is not None and village != record_village(db, entity_name, current)
    out: list[tuple[str, str]] = []
    for key, target in refs:
        ref = values.get(key)
        if not ref or ref in unsaved or (current is not None and not moved and current.get(key) == ref):
            continue
        row = db.execute(f"SELECT deleted FROM {target} WHERE id = ?", [ref]).fetchone()
        why = reference_refusal(row is not None, village is not None and village_of(db, target, str(ref)) == village,
                                bool(row and row[0]))
        if why is not None:
            out.append((key, why))
    return out
