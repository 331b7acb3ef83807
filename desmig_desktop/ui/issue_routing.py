"""Where each issue of a refused (or to-be-confirmed) save goes in the household editor.

A validation or household-check issue names a record and a field; the editor shows it beside
that field, marks the record's line in its section (a placement's member too, since the
placements are shown under the selected member), lists it in the summary with words the officer
knows ("Anggota ke-2 — NIK: …"), and takes the cursor to the field when its line is chosen.
This module decides all of that from plain data (the form's graph and the issues), without Qt,
so the routing is tested without widgets; the editor only applies the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.issues import Issue
from desmig_desktop.errors import RecordIssue
from desmig_desktop.services.households import HouseholdGraph, Values

CHILD_ENTITIES = ("members", "placements", "businesses")


@dataclass(frozen=True)
class PanelItem:
    """One line of the summary, pointing at the record and field it is about."""

    entity: str
    record_id: str
    field: str
    text: str
    hard: bool


@dataclass(frozen=True)
class RoutedIssues:
    """The issues of one save, sorted for the places the editor shows them."""

    household: list[Issue]  # beside the household form's fields
    children: dict[str, dict[str, list[Issue]]]  # per child entity, per record id (an entry may be empty: marked only)
    items: list[PanelItem]  # the summary's lines, in the order the issues came
    duplicates: list[tuple[str, str]]  # (household id, link text): NIKs another household already uses


@dataclass(frozen=True)
class FieldTarget:
    """Where the cursor goes for a summary line: ``record_id`` in ``entity``'s section (``None``
    for the household form), after selecting ``member_id`` when the record is a placement."""

    entity: str
    record_id: str | None
    field: str
    member_id: str | None = None


def route_issues(graph: HouseholdGraph, issues: list[RecordIssue]) -> RoutedIssues:
    """Sort ``issues`` (of the household ``graph`` as the form holds it) for the editor."""
    children: dict[str, dict[str, list[Issue]]] = {name: {} for name in CHILD_ENTITIES}
    household: list[Issue] = []
    for ri in issues:
        if ri.entity == "households":
            if ri.record_id == graph.household.get("id"):
                household.append(ri.issue)
        else:
            children[ri.entity].setdefault(ri.record_id, []).append(ri.issue)
    for placement_id in children["placements"]:  # flag the member a placement problem belongs to
        placement = find_record(graph, "placements", placement_id)
        if placement is not None:
            children["members"].setdefault(placement["member_id"], [])
    items = [PanelItem(ri.entity, ri.record_id, ri.issue.field, describe_issue(graph, ri), ri.issue.hard)
             for ri in issues]
    duplicates = [(str(ri.issue.ref), _("Buka rumah tangga yang sudah memakai NIK {nik}",
                                   nik=str((find_record(graph, "members", ri.record_id) or {}).get("nik") or "")))
                  for ri in issues if ri.issue.code == "nik_duplicate" and ri.issue.ref]
    return RoutedIssues(household, children, items, duplicates)


def describe_issue(graph: HouseholdGraph, ri: RecordIssue) -> str:
    """``"{where} — {field}: {message}"``, naming the record as the form shows it."""
    spec = ENTITIES[ri.entity]
    where = pick(spec.label_id, spec.label_en)
    record = find_record(graph, ri.entity, ri.record_id)
    if ri.entity == "members" and record is not None:
        where = graph.member_label(record)
    elif ri.entity == "placements" and record is not None:
        owner = find_record(graph, "members", str(record.get("member_id")))
        where = _("Penempatan {member}", member=graph.member_label(owner) if owner else "")
    elif ri.entity == "businesses" and record is not None:
        where = _("Usaha {name}", name=graph.business_label(record))
    label = pick(spec.field(ri.issue.field).label_id, spec.field(ri.issue.field).label_en) \
        if spec.has(ri.issue.field) else ri.issue.field
    return _("{where} — {field}: {message}", where=where, field=label, message=ri.issue.message)


def find_record(graph: HouseholdGraph, entity: str, record_id: str) -> Values | None:
    """The record of ``graph`` an issue names (the household for any household issue)."""
    if entity == "households":
        return graph.household
    rows = {"members": graph.members, "placements": graph.placements, "businesses": graph.businesses}[entity]
    return next((r for r in rows if r.get("id") == record_id), None)


def target_of(graph: HouseholdGraph, item: PanelItem) -> FieldTarget | None:
    """Where the cursor goes for ``item``; ``None`` when its placement is no longer in the form."""
    if item.entity == "households":
        return FieldTarget("households", None, item.field)
    if item.entity == "placements":
        placement = find_record(graph, "placements", item.record_id)
        if placement is None:
            return None
        return FieldTarget("placements", item.record_id, item.field, member_id=str(placement["member_id"]))
    return FieldTarget(item.entity, item.record_id, item.field)
