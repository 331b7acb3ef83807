"""Use cases on one programme record (village profile, migration service, business support,
parenting activity, cooperative, officer's activity) with its children: new, load, save, delete.

A record and its children (a parenting activity's attendance, a cooperative's members and
supported businesses) are edited together on one form and saved together, like a household
with its members: ``ProgrammeRecord`` is the copy the form edits, ``loaded`` what each stored
record was when it was read (``records.Base``), so a save sends only the officer's edits, on
top of the current row, with the loaded version as base (see ``services.households``). Every
write goes through ``records.apply_changes``: the record, its outbox op and its history in one
transaction. Validation is the domain's ``validate`` per record, as for households, plus the
checks that need the database: a referenced member or business exists and lies in the record's
village, nobody is listed twice, one profile per village.

Lists and the pickers' options are in ``programme_lists``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, PROGRAMME_ENTITIES, EntitySpec, Kind
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.issues import Issue
from desmig_desktop.domain.programme import village_profile_id
from desmig_desktop.domain.validation import validate
from desmig_desktop.errors import KnownError, RecordIssue
from desmig_desktop.services import drafts
from desmig_desktop.services.household_copy import loaded_from_json, loaded_to_json
from desmig_desktop.services.record_edits import (
    Plan,
    check_savable,
    newer_answers_kept,
    on_current_row,
    planned_changes,
    undo_for,
)
from desmig_desktop.store import questionnaire_store, records
from desmig_desktop.store.programme_refs import reference_problems
from desmig_desktop.store.queries import StoreLookup, children
from desmig_desktop.store.records import Base, Change

Values = dict[str, Any]

# The programme entities that a page lists (the others are children edited on their parent's form).
_PROGRAMME_NAMES = tuple(e.name for e in PROGRAMME_ENTITIES)
TOP_LEVEL: tuple[str, ...] = tuple(n for n in _PROGRAMME_NAMES if ENTITIES[n].parent_entity not in _PROGRAMME_NAMES)


def child_entities(entity_name: str) -> tuple[str, ...]:
    """The programme entities whose records hang under a record of ``entity_name`` (declared by their ``parent_key``)."""
    return tuple(n for n in _PROGRAMME_NAMES if ENTITIES[n].parent_entity == entity_name)


@dataclass
class ProgrammeRecord:
    """One record of a top-level programme entity with its children, as plain value dicts.

    ``children``: per child entity, its records (each with an ``id``). ``loaded``: what each
    stored record was when this copy was read, by ``(entity, id)``; empty for a new record. On
    save, a loaded child absent from ``children`` is deleted.
    """

    entity: str
    values: Values
    children: dict[str, list[Values]] = field(default_factory=dict)
    loaded: dict[tuple[str, str], Base] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.values["id"])

    @property
    def is_new(self) -> bool:
        return (self.entity, self.id) not in self.loaded

    def all_records(self) -> list[tuple[str, Values]]:
        return [(self.entity, self.values), *((name, v) for name in child_entities(self.entity)
                                             for v in self.children.get(name, []))]

    def ensure_ids(self) -> None:
        spec = ENTITIES[self.entity]
        if self.entity == "village_profiles" and self.is_new and self.values.get("village_code"):
            self.values["id"] = village_profile_id(str(self.values["village_code"]))
        for _name, values in self.all_records():
            if not values.get("id"):
                values["id"] = new_id()
        for name in child_entities(spec.name):
            parent_key = ENTITIES[name].parent_key
            assert parent_key is not None
            for values in self.children.get(name, []):
                values[parent_key] = self.id


@dataclass(frozen=True)
class SaveResult:
    record_id: str
    op_seqs: list[int]
    warnings: list[RecordIssue]
    undo: list[Change]  # applying these restores the state before the save


def _spec(entity_name: str) -> EntitySpec:
    if entity_name not in TOP_LEVEL:
        raise KeyError(f"not a programme page entity: {entity_name}")
    return ENTITIES[entity_name]


def new_record(entity_name: str, defaults: Values | None = None) -> ProgrammeRecord:
    """An empty record of ``entity_name`` (``defaults`` typed in: the village, today's date)."""
    _spec(entity_name)
    return ProgrammeRecord(entity_name, {"id": new_id(), **(defaults or {})},
                           {name: [] for name in child_entities(entity_name)})


def load_record(db: Database, entity_name: str, record_id: str) -> ProgrammeRecord:
    """The stored record with its live children; ``KnownError`` if it does not exist (any more)."""
    spec = _spec(entity_name)
    row = records.get(db, entity_name, record_id)
    if row is None or row["deleted"]:
        raise KnownError(_("Data {what} tidak ditemukan (mungkin sudah dihapus).", what=pick(spec.label_id,
                                                                                             spec.label_en)))
    rec = ProgrammeRecord(entity_name, row)
    for name in child_entities(entity_name):
        parent_key = ENTITIES[name].parent_key
        assert parent_key is not None
        rec.children[name] = children(db, name, parent_key, [record_id])
    rec.loaded = {(name, str(v["id"])): records.base_of(v) for name, v in rec.all_records()}
    return rec


def profile_for_village(db: Database, village_code: str) -> ProgrammeRecord:
    """The village's profile if it has one, else a new one for it (one profile per village)."""
    record_id = village_profile_id(village_code)
    row = records.get(db, "village_profiles", record_id)
    if row is not None and not row["deleted"]:
        return load_record(db, "village_profiles", record_id)
    return ProgrammeRecord("village_profiles", {"id": record_id, "village_code": village_code})


def _fields_only(spec: EntitySpec, values: Values) -> Values:
    return {k: v for k, v in values.items() if spec.has(k)}


def _on_current(db: Database, rec: ProgrammeRecord) -> tuple[ProgrammeRecord, Plan]:
    """The record as it will be stored: each loaded record is its current row with the officer's
    edits on top; also, per loaded record, ``(edited keys, current row)``. Read under the
    database's active questionnaire version, as a household's save is (``households``)."""
    rec.ensure_ids()
    plan: Plan = {}
    q = questionnaire_store.active(db)

    def on_current(entity_name: str, values: Values) -> Values:
        base = rec.loaded.get((entity_name, values["id"]))
        current = records.get(db, entity_name, values["id"]) if base is not None else None
        if base is None or current is None:
            return dict(values)
        merged, keys = on_current_row(entity_name, values, base, current, q.entity(entity_name))
        plan[(entity_name, values["id"])] = (keys, current)
        return {**merged, "id": values["id"]}

    stored = ProgrammeRecord(rec.entity, on_current(rec.entity, rec.values),
                             {name: [on_current(name, v) for v in rows] for name, rows in rec.children.items()},
                             dict(rec.loaded))
    return stored, plan


def _record_village(db: Database, entity_name: str, values: Values) -> str | None:
    """The village a top-level record belongs to: its own, or its business's household's."""
    if ENTITIES[entity_name].has("village_code"):
        return values.get("village_code")
    if entity_name == "business_supports" and values.get("business_id"):
        row = db.execute("SELECT h.village_code FROM businesses b JOIN households h ON h.id = b.household_id"
                         " WHERE b.id = ? AND b.deleted = 0 AND h.deleted = 0", [values["business_id"]]).fetchone()
        return row[0] if row else None
    return None


def validate_record(db: Database, rec: ProgrammeRecord) -> tuple[list[tuple[str, Values]], list[RecordIssue]]:
    """Validate the record and its children; return the normalised ``(entity, values)`` list and all issues."""
    rec.ensure_ids()
    lookup = StoreLookup(db)
    q = questionnaire_store.active(db)  # the version this database is on validates the save
    out: list[tuple[str, Values]] = []
    issues: list[RecordIssue] = []

    def check(entity_name: str, values: Values, village: str | None, parent: Values | None = None) -> Values:
        result = validate(entity_name, _fields_only(q.entity(entity_name), values), record_id=values["id"],
                          lookup=lookup, parent=parent, questionnaire=q)
        found = list(result.issues)
        fields_with_errors = {i.field for i in found if i.hard}
        current = records.get(db, entity_name, values["id"]) if (entity_name, values["id"]) in rec.loaded else None
        found += [Issue(key, "ref_village", why, True) for key, why in reference_problems(
            db, entity_name, result.values, current, village=village) if key not in fields_with_errors]
        issues.extend(RecordIssue(entity_name, values["id"], i) for i in found)
        normalised = {**result.values, "id": values["id"]}
        out.append((entity_name, normalised))
        return normalised

    village = _record_village(db, rec.entity, rec.values)
    main = check(rec.entity, rec.values, village)
    issues.extend(RecordIssue(rec.entity, rec.id, i) for i in _record_issues(db, rec, main))
    for name in child_entities(rec.entity):
        seen: dict[Any, str] = {}
        unique = next(f.key for f in ENTITIES[name].fields if f.kind is Kind.REF and f.key != ENTITIES[name].parent_key)
        for values in rec.children.get(name, []):
            child = check(name, values, village, parent=main)
            key = child.get(unique)
            if key and key in seen:
                issues.append(RecordIssue(name, values["id"], Issue(unique, "listed_twice", _(
                    "Sudah ada di daftar ini; hapus salah satunya."), True)))
            seen.setdefault(key, values["id"])
    return out, issues


def _record_issues(db: Database, rec: ProgrammeRecord, values: Values) -> list[Issue]:
    """Rules of one page's record that need the database (the rules on its own fields, such as
    "a member or a walk-in is served", are the domain's: ``domain.programme``)."""
    found: list[Issue] = []
    if rec.entity == "business_supports" and values.get("business_id"):
        village = _record_village(db, rec.entity, values)
        if village is not None and not StoreLookup(db).village_assigned(village):
            found.append(Issue("business_id", "village_not_assigned", _(
                "Unit usaha ini di luar desa tugas Anda."), True))
    if rec.entity == "village_profiles" and values.get("village_code") and rec.is_new:
        # A profile under another id (or a changed village) is the domain's rule ("profile_id");
        # a new profile of a village that has one needs the database.
        row = records.get(db, "village_profiles", rec.id)
        if row is not None and not row["deleted"]:
            found.append(Issue("village_code", "profile_exists", _(
                "Desa ini sudah punya profil Desmigratif; buka profil itu untuk mengubahnya."), True))
    return found


def save_record(db: Database, rec: ProgrammeRecord, *, confirm_warnings: bool = False) -> SaveResult:
    """Validate and save the record with its children in one transaction, with their outbox ops.

    Raises ``ValidationFailed`` on any hard error and ``NeedsConfirmation`` when only warnings
    remain and ``confirm_warnings`` is false; nothing is written in either case.
    """
    stored, plan = _on_current(db, rec)
    normalised, issues = validate_record(db, stored)
    issues = newer_answers_kept(questionnaire_store.active(db), {(name, str(v["id"])): v for name, v in stored.all_records()},
                                plan, issues)
    warnings = check_savable(issues, confirm_warnings)
    changes = planned_changes(normalised, plan, rec.loaded)
    kept = {v["id"] for _name, v in stored.all_records()}
    changes += [Change(name, record_id, delete=True, base=base) for (name, record_id), base in rec.loaded.items()
                if name != rec.entity and record_id not in kept]
    undo = [u for u in (undo_for(db, c) for c in changes) if u is not None]
    seqs = records.apply_changes(db, changes)
    return SaveResult(rec.id, seqs, warnings, list(reversed(undo)))


def delete_record(db: Database, entity_name: str, record_id: str, *,
                  loaded: dict[tuple[str, str], Base] | None = None) -> list[Change]:
    """Soft-delete the record and its children; return the changes that undo it.

    ``loaded``: the copy the officer decided on (an open form's), whose versions become the bases.
    """
    rec = load_record(db, entity_name, record_id)
    seen = {**rec.loaded, **(loaded or {})}
    order = sorted(rec.all_records(), key=lambda item: -ENTITY_ORDER.index(item[0]))  # children first
    changes = [Change(name, v["id"], delete=True, base=seen[(name, v["id"])]) for name, v in order]
    undo = [Change(c.entity, c.id, undelete=True, base=Base(rec.loaded[(c.entity, c.id)].version))
            for c in reversed(changes)]
    records.apply_changes(db, changes)
    return undo


def describe(entity_name: str, values: Values) -> str:
    """How a record is named to the officer (in "simpan …", "hapus …")."""
    spec = ENTITIES[entity_name]
    label = pick(spec.label_id, spec.label_en)
    for key in ("name", "topic", "walk_in_name"):
        if spec.has(key) and values.get(key):
            return f"{label}: {values[key]}"
    return label


# --- drafts: a form's unsaved record kept like a household form's (``services.drafts``) ----------

def draft_key(entity_name: str, record_id: str) -> str:
    return f"{drafts.PROGRAMME_PREFIX}{entity_name}/{record_id}"


def snapshot(rec: ProgrammeRecord) -> dict[str, Any]:
    """A form's draft: the record, its children and the copy it loaded (JSON-safe)."""
    return {"entity": rec.entity, "values": rec.values, "children": rec.children,
            "loaded": loaded_to_json(rec.loaded)}


def restored(data: dict[str, Any]) -> ProgrammeRecord:
    """The record a draft holds; ``KeyError``/``TypeError``/``ValueError`` if unreadable."""
    entity_name, values, kids = data["entity"], data["values"], data["children"]
    _spec(entity_name)
    if not isinstance(values, dict) or not isinstance(kids, dict) or not all(
            name in child_entities(entity_name) and isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
            for name, rows in kids.items()):
        raise ValueError("a draft's records are not value dicts")
    return ProgrammeRecord(entity_name, values, kids, loaded_from_json(data["loaded"]))


def programme_drafts(db: Database) -> list[drafts.Draft]:
    """The drafts of programme forms, oldest first."""
    return drafts.load_drafts(db, programme=True)
