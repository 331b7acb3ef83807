"""Use cases on one household and everything under it: load, validate, save, delete, undo.

The form, the importer and the demo generator all save through ``save_household`` so every
path applies the same rules and writes the same outbox ops.

**A graph is a copy.** ``load_household`` records in ``HouseholdGraph.loaded`` the version and
values each record had when it was read (``records.Base``). A save sends, per record, only the
fields the officer changed relative to that copy, with the copy's version as base — never the
copy's stale values of fields someone else changed meanwhile (a sync may pull a correction
while a form stays open for hours, or a draft waits for days). The record is validated as it
will be stored: the current row with the officer's changes on top (``record_edits``).
``household_copy`` lets a form tell the officer and take the new values in; correctness does
not depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import PLACEMENT_STATUSES
from desmig_desktop.domain.household_checks import household_issues
from desmig_desktop.domain.i18n import _, country_name
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.issues import Issue
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.domain.validation import validate
from desmig_desktop.errors import KnownError, RecordIssue
from desmig_desktop.services.record_edits import (
    Plan,
    check_savable,
    newer_answers_kept,
    on_current_row,
    planned_changes,
    undo_for,
)
from desmig_desktop.store import questionnaire_store, records
from desmig_desktop.store.queries import StoreLookup, children
from desmig_desktop.store.records import Base as Base  # re-exported: the ui names these through services
from desmig_desktop.store.records import Change as Change

Values = dict[str, Any]


@dataclass
class HouseholdGraph:
    """A household with its members, their placements and its businesses, as plain value dicts.

    Every dict carries an ``id`` (made here when missing). ``loaded``: what each stored record
    was when this copy was read, by ``(entity, id)`` (empty for a graph made from scratch, which
    is taken as the whole household as it should be now). On save, a loaded child absent from
    the graph is soft-deleted; without ``loaded``, every stored child absent from it is.
    """

    household: Values
    members: list[Values] = field(default_factory=list)
    placements: list[Values] = field(default_factory=list)
    businesses: list[Values] = field(default_factory=list)
    loaded: dict[tuple[str, str], Base] = field(default_factory=dict)

    def records(self) -> list[tuple[str, Values]]:
        return [("households", self.household), *(("members", v) for v in self.members),
                *(("placements", v) for v in self.placements), *(("businesses", v) for v in self.businesses)]

    def ensure_ids(self) -> None:
        for values in (self.household, *self.members, *self.placements, *self.businesses):
            values.setdefault("id", None)
            if not values["id"]:
                values["id"] = new_id()
        hid = self.household["id"]
        for values in (*self.members, *self.businesses):
            values["household_id"] = hid

    def member_label(self, member: Values) -> str:
        """How a member is named to the officer: the name, else the line on the form (1-based)."""
        if member.get("name"):
            return str(member["name"])
        number = next((n for n, m in enumerate(self.members, 1) if m is member), 0)
        return _("Anggota ke-{number}", number=number)

    def placement_label(self, placement: Values) -> str:
        return country_name(placement["country"]) if placement.get("country") else _("riwayat penempatan")

    def business_label(self, business: Values) -> str:
        return str(business["name"]) if business.get("name") else _("unit usaha")


@dataclass(frozen=True)
class SaveResult:
    household_id: str
    op_seqs: list[int]
    warnings: list[RecordIssue]
    undo: list[Change]  # applying these restores the state before the save


def _fields_only(q: Questionnaire, entity_name: str, values: Values) -> Values:
    spec = q.entity(entity_name)
    return {k: v for k, v in values.items() if spec.has(k)}


def load_household(db: Database, household_id: str) -> HouseholdGraph:
    """The stored graph of a live household; ``KnownError`` if it does not exist."""
    household = records.get(db, "households", household_id)
    if household is None or household["deleted"]:
        raise KnownError(_("Rumah tangga tidak ditemukan."))
    members = children(db, "members", "household_id", [household_id])
    placements = children(db, "placements", "member_id", [m["id"] for m in members])
    businesses = children(db, "businesses", "household_id", [household_id])
    graph = HouseholdGraph(household, members, placements, businesses)
    graph.loaded = {(name, str(v["id"])): records.base_of(v) for name, v in graph.records()}
    return graph


def find_household(db: Database, household_id: str) -> Values | None:
    """The stored household row (a deleted one too: ``deleted`` says so); ``None`` if never stored."""
    return records.get(db, "households", household_id)


def validate_graph(db: Database, graph: HouseholdGraph) -> tuple[list[tuple[str, Values]], list[RecordIssue]]:
    """Validate every record; return the normalised ``(entity, values)`` list and all issues."""
    graph.ensure_ids()
    lookup = StoreLookup(db)
    q = questionnaire_store.active(db)  # the version this database is on validates the save
    out: list[tuple[str, Values]] = []
    issues: list[RecordIssue] = []

    def check(entity_name: str, values: Values, parent: Values | None = None) -> Values:
        result = validate(entity_name, _fields_only(q, entity_name, values), record_id=values["id"],
                          lookup=lookup, parent=parent, questionnaire=q)
        issues.extend(RecordIssue(entity_name, values["id"], i) for i in result.issues)
        normalised = {**result.values, "id": values["id"]}
        out.append((entity_name, normalised))
        return normalised

    check("households", graph.household)
    members = {m["id"]: check("members", m) for m in graph.members}
    issues[:] = _explain_stored_niks(db, members, issues)
    issues.extend(RecordIssue(g.entity, g.record_id, Issue(g.field, g.code, g.message, False))
                  for g in household_issues(graph.household["id"], list(members.values())))
    niks: dict[str, str] = {}
    for m in members.values():
        if m.get("nik"):
            if m["nik"] in niks:
                issues.append(RecordIssue("members", m["id"], Issue(
                    "nik", "nik_twice", _("NIK yang sama dipakai dua kali dalam rumah tangga ini."), True)))
            niks[m["nik"]] = m["id"]
    for p in graph.placements:
        member = members.get(p.get("member_id") or "")
        if member is None:
            raise KnownError(_("Riwayat penempatan merujuk anggota yang tidak ada."))
        if member.get("migration_status") not in PLACEMENT_STATUSES:
            issues.append(RecordIssue("placements", p["id"], Issue("member_id", "placement_not_pmi", _(
                "Riwayat penempatan hanya untuk anggota berstatus PMI aktif atau PMI purna."), True)))
        check("placements", p, parent=member)
    for b in graph.businesses:
        owner = b.get("owner_member_id")
        if owner and owner not in members:
            issues.append(RecordIssue("businesses", b["id"], Issue(
                "owner_member_id", "owner", _("Pemilik usaha harus anggota rumah tangga ini."), True)))
        check("businesses", b)
    return out, issues


def _explain_stored_niks(db: Database, members: dict[str, Values], issues: list[RecordIssue]) -> list[RecordIssue]:
    """A NIK refused although it is stored unchanged (saved or pulled before a rule was added) gets
    a sentence saying so: the officer did not just mistype it, and must check the KTP or KK before
    the household can be saved again. The value itself is never put in the message."""
    refused = {ri.record_id for ri in issues if _is_nik_error(ri)}
    if not refused:
        return issues
    marks = ", ".join("?" * len(refused))
    stored = dict(db.execute(f"SELECT id, nik FROM members WHERE id IN ({marks}) AND deleted = 0",
                             sorted(refused)).fetchall())
    unchanged = {mid for mid in refused if stored.get(mid) and stored[mid] == members[mid].get("nik")}
    hint = _("NIK ini sudah tersimpan sebelum aturan pemeriksaan ini berlaku; cocokkan dengan KTP/KK lalu perbaiki.")
    return [RecordIssue(ri.entity, ri.record_id, replace(ri.issue, message=f"{ri.issue.message} {hint}"))
            if _is_nik_error(ri) and ri.record_id in unchanged else ri for ri in issues]


def _is_nik_error(ri: RecordIssue) -> bool:
    return ri.entity == "members" and ri.issue.field == "nik" and ri.issue.hard


def _on_current(db: Database, graph: HouseholdGraph) -> tuple[HouseholdGraph, Plan]:
    """The graph as it will be stored: each loaded record is its current row with the officer's
    edits on top. Also returns, per loaded record, ``(edited keys, current row)``."""
    graph.ensure_ids()
    plan: Plan = {}
    q = questionnaire_store.active(db)

    def on_current(entity_name: str, values: Values) -> Values:
        base = graph.loaded.get((entity_name, values["id"]))
        current = records.get(db, entity_name, values["id"]) if base is not None else None
        if base is None or current is None:
            return values
        merged, keys = on_current_row(entity_name, values, base, current, q.entity(entity_name))
        plan[(entity_name, values["id"])] = (keys, current)
        return {**merged, "id": values["id"]}

    stored = HouseholdGraph(on_current("households", graph.household),
                            [on_current("members", v) for v in graph.members],
                            [on_current("placements", v) for v in graph.placements],
                            [on_current("businesses", v) for v in graph.businesses], dict(graph.loaded))
    return stored, plan


def save_household(db: Database, graph: HouseholdGraph, *, confirm_warnings: bool = False) -> SaveResult:
    """Validate and save the whole graph in one transaction, with its outbox ops.

    A record the graph loaded gets only the fields changed relative to what was loaded, on top
    of its current row, with the loaded version as base (see the module docstring).

    Raises ``ValidationFailed`` on any hard error and ``NeedsConfirmation`` when only soft
    warnings remain and ``confirm_warnings`` is false; nothing is written in either case.
    """
    stored, plan = _on_current(db, graph)
    normalised, issues = validate_graph(db, stored)
    issues = newer_answers_kept(questionnaire_store.active(db), {(name, str(v["id"])): v for name, v in stored.records()},
                                plan, issues)
    warnings = check_savable(issues, confirm_warnings)
    changes = planned_changes(normalised, plan, graph.loaded)
    changes.extend(_removed_children(db, graph))
    undo = [u for u in (undo_for(db, c) for c in changes) if u is not None]
    seqs = records.apply_changes(db, changes)
    return SaveResult(graph.household["id"], seqs, warnings, list(reversed(undo)))


def _removed_children(db: Database, graph: HouseholdGraph) -> list[Change]:
    """Deletes of the children the officer removed: loaded but no longer in the graph (a child a
    sync added meanwhile was never shown, so it stays); without ``loaded``, every stored child
    absent from the graph."""
    kept = {v["id"] for v in (*graph.members, *graph.placements, *graph.businesses)}
    if graph.loaded:
        return [Change(name, record_id, delete=True, base=base) for (name, record_id), base in graph.loaded.items()
                if name != "households" and record_id not in kept]
    hid = graph.household["id"]
    stored_members = children(db, "members", "household_id", [hid])
    stored = [("placements", p) for p in children(db, "placements", "member_id", [m["id"] for m in stored_members])]
    stored += [("members", m) for m in stored_members]
    stored += [("businesses", b) for b in children(db, "businesses", "household_id", [hid])]
    return [Change(name, row["id"], delete=True) for name, row in stored if row["id"] not in kept]


def delete_household(db: Database, household_id: str, *,
                     loaded: dict[tuple[str, str], Base] | None = None) -> list[Change]:
    """Soft-delete the household and everything under it; return the changes that undo it.

    ``loaded``: the copy the officer decided on (an open form's); each delete then has the
    version that copy loaded as base, so an edit a sync brought in since makes it a conflict.
    """
    graph = load_household(db, household_id)
    seen = {**graph.loaded, **(loaded or {})}
    order = [("placements", graph.placements), ("members", graph.members), ("businesses", graph.businesses),
             ("households", [graph.household])]
    changes = [Change(name, v["id"], delete=True, base=seen[(name, v["id"])]) for name, rows in order for v in rows]
    undo = [Change(c.entity, c.id, undelete=True, base=Base(graph.loaded[(c.entity, c.id)].version))
            for c in reversed(changes)]
    records.apply_changes(db, changes)
    return undo


def undo(db: Database, changes: list[Change]) -> list[int]:
    """Apply the inverse changes of an earlier save or delete (a new edit, synced like any other).

    Each carries the state it undoes as its base, so a field a sync changed since is not touched
    unless the save being undone changed it too (then the server sees both and merges them).
    """
    return records.apply_changes(db, changes)

