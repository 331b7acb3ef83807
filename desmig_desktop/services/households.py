"""Use cases on one household and everything under it: load, validate, save, delete, undo.

The form, the importer and the demo generator all save through ``save_household`` so every
path applies the same rules and writes the same outbox ops.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, PLACEMENT_STATUSES
from desmig_desktop.domain.household_checks import household_issues
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.validation import Issue, validate
from desmig_desktop.errors import KnownError, NeedsConfirmation, RecordIssue, ValidationFailed
from desmig_desktop.store import records
from desmig_desktop.store.queries import StoreLookup, children
from desmig_desktop.store.records import Change

Values = dict[str, Any]


@dataclass
class HouseholdGraph:
    """A household with its members, their placements and its businesses, as plain value dicts.

    Every dict carries an ``id`` (made here when missing). Children stored under the household
    but absent from the graph are soft-deleted on save.
    """

    household: Values
    members: list[Values] = field(default_factory=list)
    placements: list[Values] = field(default_factory=list)
    businesses: list[Values] = field(default_factory=list)

    def ensure_ids(self) -> None:
        for values in (self.household, *self.members, *self.placements, *self.businesses):
            values.setdefault("id", None)
            if not values["id"]:
                values["id"] = new_id()
        hid = self.household["id"]
        for values in (*self.members, *self.businesses):
            values["household_id"] = hid


@dataclass(frozen=True)
class SaveResult:
    household_id: str
    op_seqs: list[int]
    warnings: list[RecordIssue]
    undo: list[Change]  # applying these restores the state before the save


_META = ("id", "deleted", "server_version", "created_at", "updated_at", "extra")


def _fields_only(entity_name: str, values: Values) -> Values:
    spec = ENTITIES[entity_name]
    return {k: v for k, v in values.items() if spec.has(k)}


def load_household(db: Database, household_id: str) -> HouseholdGraph:
    """The stored graph of a live household; ``KnownError`` if it does not exist."""
    household = records.get(db, "households", household_id)
    if household is None or household["deleted"]:
        raise KnownError(_("Rumah tangga tidak ditemukan."))
    members = children(db, "members", "household_id", [household_id])
    placements = children(db, "placements", "member_id", [m["id"] for m in members])
    businesses = children(db, "businesses", "household_id", [household_id])
    return HouseholdGraph(household, members, placements, businesses)


def validate_graph(db: Database, graph: HouseholdGraph) -> tuple[list[tuple[str, Values]], list[RecordIssue]]:
    """Validate every record; return the normalised ``(entity, values)`` list and all issues."""
    graph.ensure_ids()
    lookup = StoreLookup(db)
    out: list[tuple[str, Values]] = []
    issues: list[RecordIssue] = []

    def check(entity_name: str, values: Values, parent: Values | None = None) -> Values:
        result = validate(entity_name, _fields_only(entity_name, values), record_id=values["id"],
                          lookup=lookup, parent=parent)
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


def _undo_for(db: Database, change: Change) -> Change | None:
    current = records.get(db, change.entity, change.id)
    if current is None:
        return Change(change.entity, change.id, delete=True)
    if change.delete:
        return None if current["deleted"] else Change(change.entity, change.id, undelete=True)
    if current["deleted"]:
        return None  # saving never revives a deleted record, so there is nothing to undo
    return Change(change.entity, change.id, {k: current.get(k) for k in change.values})


def save_household(db: Database, graph: HouseholdGraph, *, confirm_warnings: bool = False) -> SaveResult:
    """Validate and save the whole graph in one transaction, with its outbox ops.

    Raises ``ValidationFailed`` on any hard error and ``NeedsConfirmation`` when only soft
    warnings remain and ``confirm_warnings`` is false; nothing is written in either case.
    """
    normalised, issues = validate_graph(db, graph)
    errors = [i for i in issues if i.issue.hard]
    if errors:
        raise ValidationFailed(_("Data belum bisa disimpan: {count} kesalahan.", count=len(errors)), errors)
    warnings = [i for i in issues if not i.issue.hard]
    if warnings and not confirm_warnings:
        raise NeedsConfirmation(_("Ada {count} peringatan yang perlu dikonfirmasi.", count=len(warnings)), warnings)
    changes = [Change(name, values["id"], {k: v for k, v in values.items() if k != "id"})
               for name, values in normalised]
    changes.extend(_removed_children(db, graph))
    undo = [u for u in (_undo_for(db, c) for c in changes) if u is not None]
    seqs = records.apply_changes(db, changes)
    return SaveResult(graph.household["id"], seqs, warnings, list(reversed(undo)))


def _removed_children(db: Database, graph: HouseholdGraph) -> list[Change]:
    hid = graph.household["id"]
    kept = {v["id"] for v in (*graph.members, *graph.placements, *graph.businesses)}
    stored_members = children(db, "members", "household_id", [hid])
    stored = [("placements", p) for p in children(db, "placements", "member_id", [m["id"] for m in stored_members])]
    stored += [("members", m) for m in stored_members]
    stored += [("businesses", b) for b in children(db, "businesses", "household_id", [hid])]
    return [Change(name, row["id"], delete=True) for name, row in stored if row["id"] not in kept]


def delete_household(db: Database, household_id: str) -> list[Change]:
    """Soft-delete the household and everything under it; return the changes that undo it."""
    graph = load_household(db, household_id)
    changes = [Change("placements", p["id"], delete=True) for p in graph.placements]
    changes += [Change("members", m["id"], delete=True) for m in graph.members]
    changes += [Change("businesses", b["id"], delete=True) for b in graph.businesses]
    changes.append(Change("households", household_id, delete=True))
    undo = [Change(c.entity, c.id, undelete=True) for c in reversed(changes)]
    records.apply_changes(db, changes)
    return undo


def undo(db: Database, changes: list[Change]) -> list[int]:
    """Apply the inverse changes of an earlier save or delete (a new edit, synced like any other)."""
    return records.apply_changes(db, changes)
