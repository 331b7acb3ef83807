"""Where the household editor shows each issue of a refused save (``ui.issue_routing``, no widgets):
beside which field, which records' lines are marked, the summary's words, where the cursor goes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.domain.issues import Issue
from desmig_desktop.errors import RecordIssue
from desmig_desktop.services.households import HouseholdGraph
from desmig_desktop.ui.issue_routing import CHILD_ENTITIES, FieldTarget, PanelItem, route_issues, target_of


@pytest.fixture(autouse=True)
def indonesian() -> Any:
    set_language("id")
    yield
    set_language("id")


def graph() -> HouseholdGraph:
    return HouseholdGraph(
        {"id": "h1", "head_name": "Siti"},
        [{"id": "m1", "name": "Siti", "nik": "3201055203850002"},
         {"id": "m2", "name": None, "nik": "3201051201800003"}],
        [{"id": "p1", "member_id": "m2", "country": "MY"}, {"id": "p2", "member_id": "m1", "country": None}],
        [{"id": "b1", "name": "Warung Siti"}, {"id": "b2", "name": ""}])


def issue(entity: str, record_id: str, field: str, *, hard: bool = True, code: str = "x",
          ref: str | None = None, message: str = "Salah.") -> RecordIssue:
    return RecordIssue(entity, record_id, Issue(field, code, message, hard, ref))


# (issue, the summary's line)
DESCRIBED = [
    (issue("households", "h1", "rt"), "Rumah tangga — RT: Salah."),
    (issue("members", "m1", "nik"), "Siti — NIK: Salah."),
    (issue("members", "m2", "nik"), "Anggota ke-2 — NIK: Salah."),  # no name yet: its line in the form
    (issue("placements", "p1", "job"), "Penempatan Anggota ke-2 — Jabatan/pekerjaan: Salah."),
    (issue("businesses", "b1", "name"), "Usaha Warung Siti — Nama usaha: Salah."),
    (issue("businesses", "b2", "name"), "Usaha unit usaha — Nama usaha: Salah."),
    (issue("members", "m1", "household_size"), "Siti — household_size: Salah."),  # a check on no field of the spec
    (issue("members", "gone", "name"), "Anggota rumah tangga — Nama: Salah."),  # a record no longer in the form
]


@pytest.mark.parametrize(("ri", "text"), DESCRIBED, ids=[t for _ri, t in DESCRIBED])
def test_each_summary_line_names_the_record_as_the_form_shows_it(ri: RecordIssue, text: str) -> None:
    [item] = route_issues(graph(), [ri]).items
    assert item == PanelItem(ri.entity, ri.record_id, ri.issue.field, text, ri.issue.hard)


def test_issues_go_beside_their_fields_and_a_placement_marks_its_member() -> None:
    issues = [issue("households", "h1", "rt"), issue("households", "other", "rw"),
              issue("placements", "p1", "job", hard=False), issue("placements", "p1", "country"),
              issue("businesses", "b2", "name")]
    routed = route_issues(graph(), issues)
    assert routed.household == [issues[0].issue]  # an issue of another household is not this form's
    assert routed.children == {"members": {"m2": []}, "placements": {"p1": [issues[2].issue, issues[3].issue]},
                               "businesses": {"b2": [issues[4].issue]}}
    assert [i.hard for i in routed.items] == [True, True, False, True, True]  # every issue listed, in order


def test_a_nik_used_by_another_household_gets_a_link_naming_the_nik() -> None:
    issues = [issue("members", "m2", "nik", code="nik_duplicate", ref="h9", hard=False),
              issue("members", "m1", "nik", code="nik_duplicate"),  # no household to open: no link
              issue("members", "m1", "nik", code="nik_twice", ref="h8")]
    assert route_issues(graph(), issues).duplicates == [
        ("h9", "Buka rumah tangga yang sudah memakai NIK 3201051201800003")]


TARGETS = [
    (PanelItem("households", "h1", "rt", "", True), FieldTarget("households", None, "rt")),
    (PanelItem("members", "m2", "nik", "", True), FieldTarget("members", "m2", "nik")),
    (PanelItem("placements", "p1", "job", "", True), FieldTarget("placements", "p1", "job", member_id="m2")),
    (PanelItem("placements", "gone", "job", "", True), None),  # removed from the form since
    (PanelItem("businesses", "b1", "name", "", False), FieldTarget("businesses", "b1", "name")),
]


@pytest.mark.parametrize(("item", "target"), TARGETS)
def test_choosing_a_line_goes_to_its_record_and_field(item: PanelItem, target: FieldTarget | None) -> None:
    assert target_of(graph(), item) == target


def _fields(entity: str) -> list[str]:
    return [f.key for f in ENTITIES[entity].fields]


@hs.composite
def graphs_with_issues(draw: Any) -> tuple[HouseholdGraph, list[RecordIssue]]:
    members = [{"id": f"m{n}", "name": draw(hs.none() | hs.just(f"Nama {n}"))} for n in range(draw(hs.integers(0, 4)))]
    placements = [{"id": f"p{n}", "member_id": draw(hs.sampled_from([m["id"] for m in members]))}
                  for n in range(draw(hs.integers(0, 4) if members else hs.just(0)))]
    businesses = [{"id": f"b{n}", "name": None} for n in range(draw(hs.integers(0, 2)))]
    g = HouseholdGraph({"id": "h1"}, members, placements, businesses)
    targets = [(name, str(v["id"])) for name, v in g.records()]
    issues = draw(hs.lists(hs.builds(
        lambda target, field, hard: issue(target[0], target[1], field, hard=hard),
        hs.sampled_from(targets), hs.sampled_from(_fields("members")), hs.booleans()), max_size=8))
    return g, issues


@given(graphs_with_issues())
def test_every_issue_is_shown_once_beside_its_record_and_in_the_summary(case: tuple[HouseholdGraph,
                                                                                    list[RecordIssue]]) -> None:
    g, issues = case
    routed = route_issues(g, issues)
    assert [(i.entity, i.record_id, i.field, i.hard) for i in routed.items] == \
        [(ri.entity, ri.record_id, ri.issue.field, ri.issue.hard) for ri in issues]
    shown = [(name, rid, i) for name in CHILD_ENTITIES for rid, found in routed.children[name].items() for i in found]
    shown += [("households", "h1", i) for i in routed.household]
    assert sorted(shown, key=repr) == sorted(((ri.entity, ri.record_id, ri.issue) for ri in issues), key=repr)
    for ri in issues:
        if ri.entity == "placements":  # the member it is listed under is marked, so the officer finds it
            member_id = next(p["member_id"] for p in g.placements if p["id"] == ri.record_id)
            assert member_id in routed.children["members"]
        target = target_of(g, routed.items[issues.index(ri)])
        assert target is not None and target.field == ri.issue.field
        assert target.record_id == (None if ri.entity == "households" else ri.record_id)
