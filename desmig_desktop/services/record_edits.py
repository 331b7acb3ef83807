"""What an officer changed on a copy of one record, and the record as it will then be stored.

A form (or an import row) edits a copy read earlier (``records.Base``: the version and values it
had); meanwhile a sync may have changed the stored row. Only the fields that differ from the copy
once both are normalised are the officer's edits; they go on top of the current row, and only
they (with what they imply) are written. Used by ``households`` (a save), ``household_copy``
(comparing a copy with the database), ``exchange`` (an import of an exported file) and
``programme`` (the programme's records); ``undo_for`` makes the undo of a change before it is applied;
``newer_answers_kept`` lets a save through a stored answer the officer did not touch that a later
questionnaire version allows.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.coercion import CoerceError, coerce
from desmig_desktop.domain.fields import ENTITIES, EntitySpec, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.errors import NeedsConfirmation, RecordIssue, ValidationFailed
from desmig_desktop.store import records
from desmig_desktop.store.records import Base, Change


def differs(entity_name: str, key: str, value: Any, seen: Any, entity_spec: EntitySpec | None = None) -> bool:
    """Whether a form value differs from the loaded one once both are normalised (a form gives
    text where the row held a number, an empty string where it held nothing). ``entity_spec``:
    the entity under the database's active questionnaire (default: version 1's)."""
    if value == seen:
        return False
    spec = (entity_spec or ENTITIES[entity_name]).field(key)
    try:
        return bool(coerce(spec, value) != coerce(spec, seen))
    except CoerceError:
        return bool(_as_stored(spec.kind, value) != _as_stored(spec.kind, seen))


def _as_stored(kind: Kind, value: Any) -> Any:
    """A value this version cannot read, as it would be stored: a multi answer holding a later
    version's choice is the same answer whether a form gives it as a list or the row as text."""
    if kind is Kind.MULTI and isinstance(value, (list, tuple, set, str)):
        parts = value.split(",") if isinstance(value, str) else value
        return ",".join(sorted({str(p).strip() for p in parts if str(p).strip()})) or None
    return value


def edited_keys(entity_name: str, values: dict[str, Any], base: Base, spec: EntitySpec | None = None) -> set[str]:
    """The fields of one record the officer changed relative to the copy they were shown."""
    spec = spec or ENTITIES[entity_name]
    return {f.key for f in spec.fields if f.kind is not Kind.DERIVED and f.key in values
            and differs(entity_name, f.key, values[f.key], base.values.get(f.key), spec)}


def on_current_row(entity_name: str, values: dict[str, Any], base: Base, current: dict[str, Any],
                   spec: EntitySpec | None = None) -> tuple[dict[str, Any], set[str]]:
    """A record edited on a copy (``base``) as it will be stored: the current row with the
    fields changed relative to the copy on top. Returns it (not yet validated) and those keys.
    ``spec``: the entity under the database's active questionnaire, so a question added since
    the copy was made (a form opened before the sync that brought it) keeps its stored answer."""
    spec = spec or ENTITIES[entity_name]
    keys = edited_keys(entity_name, values, base, spec)
    return {**{k: current.get(k) for k in spec.keys}, **{k: values[k] for k in keys}}, keys


def changed_values(normalised: dict[str, Any], keys: set[str], current: dict[str, Any]) -> dict[str, Any]:
    """What to write of a validated record edited on a copy: the officer's edits and what they
    imply (a derived class, an answer that no longer applies) — never an untouched field,
    whatever the row now holds."""
    return {k: v for k, v in normalised.items() if k != "id" and (k in keys or current.get(k) != v)}


Plan = dict[tuple[str, str], tuple[set[str], dict[str, Any]]]  # per loaded record: (edited keys, current row)

# What a later questionnaire version may allow that this one refuses (``questionnaire_compat``'s
# compatible changes): a new choice (a choice question: "choice"; a multi one: "format" from
# coercion), a loosened bound or length ("min", "max", "too_long").
_LATER_CHOICE_CODES = frozenset({"choice", "format"})
_LATER_BOUND_CODES = frozenset({"min", "max", "too_long"})


def newer_answers_kept(q: Questionnaire, stored: dict[tuple[str, str], dict[str, Any]], plan: Plan,
                       issues: list[RecordIssue]) -> list[RecordIssue]:
    """``issues`` without the errors on a stored answer the officer did not touch that this
    database's version ``q`` refuses but a later one allows: another device gave it under a newer
    version HQ published (this one has not applied it yet, or is an older app). It is kept as it
    is — never refused, never sent again (``changed_values`` writes only what changed) — instead of
    blocking every save of the record; HQ validates it under its newest version.

    ``stored``: each record as it will be stored, by ``(entity, id)``; ``plan``: per loaded record,
    the keys the officer edited and the current row."""
    kept: set[int] = set()
    for ri in issues:
        issue = ri.issue
        if not issue.hard or issue.code not in _LATER_CHOICE_CODES | _LATER_BOUND_CODES:
            continue
        key = (ri.entity, ri.record_id)
        spec = q.entity(ri.entity)
        if key not in plan or not spec.has(issue.field):
            continue
        edited, current = plan[key]
        field = issue.field
        later = (spec.field(field).kind in (Kind.CHOICE, Kind.MULTI) if issue.code in _LATER_CHOICE_CODES
                 else True)
        if later and field not in edited and current.get(field) is not None \
                and stored[key].get(field) == current.get(field):
            kept.add(id(ri))
    return [ri for ri in issues if id(ri) not in kept]


def check_savable(issues: list[RecordIssue], confirm_warnings: bool) -> list[RecordIssue]:
    """The warnings a save goes through with. Raises ``ValidationFailed`` on any hard error and
    ``NeedsConfirmation`` when only warnings remain and ``confirm_warnings`` is false: the gate of
    every save (households, programme records)."""
    errors = [i for i in issues if i.issue.hard]
    if errors:
        raise ValidationFailed(_("Data belum bisa disimpan: {count} kesalahan.", count=len(errors)), errors)
    warnings = [i for i in issues if not i.issue.hard]
    if warnings and not confirm_warnings:
        raise NeedsConfirmation(_("Ada {count} peringatan yang perlu dikonfirmasi.", count=len(warnings)), warnings)
    return warnings


def planned_changes(normalised: list[tuple[str, dict[str, Any]]], plan: Plan,
                    loaded: dict[tuple[str, str], Base]) -> list[Change]:
    """The changes that store ``normalised`` records: one loaded earlier (in ``plan``) gets only
    its edited fields on top of its current row, with the loaded version as base; a new one all
    its fields."""
    changes: list[Change] = []
    for name, values in normalised:
        key = (name, values["id"])
        if key in plan:
            keys, current = plan[key]
            changes.append(Change(name, values["id"], changed_values(values, keys, current), base=loaded[key]))
        else:
            changes.append(Change(name, values["id"], {k: v for k, v in values.items() if k != "id"}))
    return changes


def undo_for(db: Database, change: Change) -> Change | None:
    """The change that restores the state before ``change`` (called before it is applied), as an
    edit made on the state after it (so undoing later sends only these fields, with this version as base)."""
    current = records.get(db, change.entity, change.id)
    if current is None:
        return Change(change.entity, change.id, delete=True, base=Base(0))
    version = int(current["server_version"])
    if change.delete:
        return None if current["deleted"] else Change(change.entity, change.id, undelete=True, base=Base(version))
    if current["deleted"]:
        return None  # saving never revives a deleted record, so there is nothing to undo
    keys = records.edited(change)
    return Change(change.entity, change.id, {k: current.get(k) for k in keys},
                  base=Base(version, {k: change.values[k] for k in keys}))
