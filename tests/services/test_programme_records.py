"""The programme pages' service (``services.programme``, ``services.programme_lists``) without the GUI:
save through the domain's validation with the outbox op in the same transaction, references kept
inside the record's village, one profile per village, delete and undo, the open-cases list, and
who counts as a child of PMI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlite_utils import Database

from desmig_desktop.domain.programme import children_of_pmi as children_of_pmi_ids
from desmig_desktop.errors import NeedsConfirmation, ValidationFailed
from desmig_desktop.services import programme as prog
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.services.programme_lists import (
    ProgrammeFilter,
    business_options,
    children_of_pmi,
    count_records,
    list_records,
    member_options,
)
from desmig_desktop.services.undo import UndoHistory
from desmig_desktop.store import settings

VILLAGE = "32.01.05.2001"
OTHER_VILLAGE = "32.01.05.2002"
TODAY = dt.date(2026, 12, 5)


def household(db: Database, village: str = VILLAGE, head: str = "Sri Lestari") -> HouseholdGraph:
    graph = HouseholdGraph(
        {"village_code": village, "head_name": head, "visited_on": "2025-03-04", "consent": True},
        [{"name": head, "sex": "P", "relationship": "kepala", "migration_status": "pmi_aktif",
          "nik": "3201054101900001" if village == VILLAGE else None},
         {"name": f"Anak {head}", "sex": "L", "relationship": "anak", "migration_status": "bukan",
          "birth_date": "2016-01-02"},
         {"name": f"Nenek {head}", "sex": "P", "relationship": "orang_tua", "migration_status": "bukan"}],
        businesses=[{"name": f"Warung {head}", "kbli_category": "G", "status": "aktif"}])
    save_household(db, graph, confirm_warnings=True)
    return graph


@pytest.fixture
def mine(db: Database) -> Database:
    settings.put(db, "villages", [VILLAGE, OTHER_VILLAGE])
    return db


def outbox(db: Database) -> list[tuple[str, str, str]]:
    return [(e, r, k) for e, r, k in db.execute("SELECT entity, record_id, kind FROM sync_outbox ORDER BY op_seq")]


def test_a_service_is_saved_with_its_op_and_listed_as_an_open_case(mine: Database) -> None:
    graph = household(mine)
    before = len(outbox(mine))
    rec = prog.new_record("services", {"village_code": VILLAGE, "served_on": "2026-11-01",
                                       "member_id": graph.members[0]["id"], "service_type": "pengaduan",
                                       "case_kind": "gaji", "status": "terbuka"})
    with pytest.raises(NeedsConfirmation) as asked:  # the domain's soft rule: an open case wants a follow-up date
        prog.save_record(mine, rec)
    assert [i.issue.code for i in asked.value.issues] == ["open_without_follow_up"]
    assert len(outbox(mine)) == before
    result = prog.save_record(mine, rec, confirm_warnings=True)
    assert outbox(mine)[before:] == [("services", result.record_id, "upsert")]
    open_cases = ProgrammeFilter(villages=(VILLAGE,), open_only=True)
    listed = list_records(mine, "services", open_cases, today=TODAY)
    assert [(r["id"], r["person"], r["age_days"]) for r in listed] == [(result.record_id, "Sri Lestari", 34)]
    loaded = prog.load_record(mine, "services", result.record_id)
    loaded.values["status"] = "selesai"
    prog.save_record(mine, loaded)
    assert count_records(mine, "services", open_cases) == 0
    assert count_records(mine, "services", ProgrammeFilter(villages=(VILLAGE,))) == 1
    sent = json.loads(mine.execute("SELECT fields FROM sync_outbox ORDER BY op_seq DESC LIMIT 1").fetchone()[0])
    assert sent == {"status": "selesai"}  # only the edit is sent, as for households


def test_open_cases_come_oldest_first_and_dates_filter(mine: Database) -> None:
    for day, status in (("2026-10-03", "terbuka"), ("2026-09-01", "ditindaklanjuti"), ("2026-08-01", "selesai")):
        prog.save_record(mine, prog.new_record("services", {
            "village_code": VILLAGE, "served_on": day, "walk_in_name": "Tamu", "service_type": "informasi",
            "status": status}), confirm_warnings=True)
    listed = list_records(mine, "services", ProgrammeFilter(open_only=True), today=TODAY)
    assert [r["served_on"] for r in listed] == ["2026-09-01", "2026-10-03"]
    assert count_records(mine, "services", ProgrammeFilter(date_from="2026-09-01", date_to="2026-09-30")) == 1


# Each hostile or incomplete record is refused with the field named, and nothing is written.
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    # neither a member nor a walk-in: the domain's rule names the walk-in's name (the one left to type)
    ("services", {"served_on": "2026-11-01", "service_type": "informasi", "status": "terbuka"}, "walk_in_name"),
    ("services", {"served_on": "31/02/2026", "walk_in_name": "A", "service_type": "informasi",
                  "status": "terbuka"}, "served_on"),
    ("services", {"served_on": "2026-11-01", "walk_in_name": "A", "service_type": "sulap", "status": "terbuka"},
     "service_type"),
    ("services", {"served_on": "2026-11-01", "walk_in_name": "A", "walk_in_nik": "123", "service_type": "informasi",
                  "status": "terbuka"}, "walk_in_nik"),
    ("officer_activities", {"held_on": "2026-11-01", "activity_kind": "sosialisasi", "topic": "Migrasi aman",
                            "attendance": -3, "partners": ["pemdes"]}, "attendance"),
    ("officer_activities", {"held_on": "2026-11-01", "activity_kind": "sosialisasi", "topic": "Migrasi aman"},
     "partners"),
    ("cooperatives", {"name": "", "group_kind": "koperasi", "legal_status": "belum", "status": "aktif"}, "name"),
    ("parenting_activities", {"held_on": "2026-11-01", "activity_type": "kelompok_belajar",
                              "walk_in_children": 100_000}, "walk_in_children"),
    ("village_profiles", {"joined_year": 2010, "status": "aktif"}, "joined_year"),
]


@pytest.mark.parametrize(("entity", "values", "bad_field"), REFUSED, ids=[f"{e}-{f}-{n}" for n, (e, _v, f)
                                                                           in enumerate(REFUSED)])
def test_bad_input_is_refused_and_nothing_is_written(mine: Database, entity: str, values: dict[str, Any],
                                                     bad_field: str) -> None:
    before = len(outbox(mine))
    with pytest.raises(ValidationFailed) as caught:
        prog.save_record(mine, prog.new_record(entity, {"village_code": VILLAGE, **values}))
    assert bad_field in {i.issue.field for i in caught.value.issues}
    assert len(outbox(mine)) == before


def test_references_must_be_live_records_of_the_same_village(mine: Database) -> None:
    here, there = household(mine), household(mine, OTHER_VILLAGE, "Dewi")
    activity = prog.new_record("parenting_activities", {"village_code": VILLAGE, "held_on": "2026-11-02",
                                                        "activity_type": "kelompok_belajar"})
    activity.children["parenting_attendance"] = [{"member_id": there.members[1]["id"], "role": "anak"}]
    with pytest.raises(ValidationFailed) as caught:
        prog.save_record(mine, activity)
    assert [(i.entity, i.issue.code) for i in caught.value.issues] == [("parenting_attendance", "ref_village")]
    child = here.members[1]["id"]
    activity.children["parenting_attendance"] = [{"member_id": child, "role": "anak"},
                                                 {"member_id": child, "role": "anak"}]
    with pytest.raises(ValidationFailed) as caught:
        prog.save_record(mine, activity)
    assert [i.issue.code for i in caught.value.issues] == ["listed_twice"]
    activity.children["parenting_attendance"] = [{"member_id": child, "role": "anak"}]
    saved = prog.save_record(mine, activity)
    assert [r["member_id"] for r in prog.load_record(mine, "parenting_activities", saved.record_id)
            .children["parenting_attendance"]] == [child]


def test_one_profile_per_village_with_the_same_id_everywhere(mine: Database) -> None:
    profile = prog.profile_for_village(mine, VILLAGE)
    assert profile.is_new and profile.id == prog.village_profile_id(VILLAGE)
    profile.values.update(joined_year=2017, status="aktif")
    prog.save_record(mine, profile)
    again = prog.new_record("village_profiles", {"village_code": VILLAGE, "joined_year": 2018, "status": "aktif"})
    with pytest.raises(ValidationFailed) as caught:
        prog.save_record(mine, again)
    assert [i.issue.code for i in caught.value.issues] == ["profile_exists"]
    assert not prog.profile_for_village(mine, VILLAGE).is_new


def test_delete_takes_the_children_and_undo_brings_all_back(mine: Database) -> None:
    graph = household(mine)
    coop = prog.new_record("cooperatives", {"village_code": VILLAGE, "name": "Koperasi Maju", "group_kind": "koperasi",
                                            "legal_status": "belum", "status": "aktif"})
    coop.children["cooperative_members"] = [{"member_id": graph.members[0]["id"], "role": "ketua"}]
    coop.children["cooperative_businesses"] = [{"business_id": graph.businesses[0]["id"], "support": "Modal"}]
    saved = prog.save_record(mine, coop)
    history = UndoHistory(mine)
    history.record("hapus", saved.record_id, prog.delete_record(mine, "cooperatives", saved.record_id),
                   entity="cooperatives")
    assert count_records(mine, "cooperatives", ProgrammeFilter()) == 0
    assert mine.execute("SELECT count(*) FROM cooperative_members WHERE deleted = 0").fetchone()[0] == 0
    undone = history.undo()
    assert undone is not None and undone.live
    back = prog.load_record(mine, "cooperatives", saved.record_id)
    assert len(back.children["cooperative_members"]) == len(back.children["cooperative_businesses"]) == 1


def test_undo_of_a_first_save_removes_the_record(mine: Database) -> None:
    rec = prog.new_record("officer_activities", {"village_code": VILLAGE, "held_on": "2026-11-01",
                                                 "activity_kind": "rapat_koordinasi", "partners": ["dinaker"],
                                                 "topic": "Data PMI"})
    saved = prog.save_record(mine, rec)
    history = UndoHistory(mine)
    history.record("simpan", saved.record_id, saved.undo, entity="officer_activities")
    undone = history.undo()
    assert undone is not None and not undone.live


# (relationship, birth date, who in the household is PMI aktif (relationship), child of PMI?)
CHILDREN: list[tuple[str, str | None, str, bool]] = [
    ("anak", "2016-01-01", "kepala", True),
    ("anak", None, "suami_istri", True),  # age unknown: counted
    ("anak", "2000-01-01", "kepala", False),  # 26: an adult
    ("anak", "2008-12-06", "kepala", True),  # 17, turning 18 tomorrow
    ("anak", "2008-12-05", "kepala", False),  # 18 today
    ("anak", "2016-01-01", "anak", False),  # a sibling abroad is not a parent
    ("cucu", "2018-01-01", "anak", True),
    ("cucu", "2018-01-01", "menantu", True),
    ("cucu", "2018-01-01", "kepala", False),  # the grandparent abroad: not the parent
    ("kepala", "2016-01-01", "anak", False),
]


@pytest.mark.parametrize(("relationship", "birth", "pmi", "expected"), CHILDREN)
def test_who_is_a_child_of_pmi(relationship: str, birth: str | None, pmi: str, expected: bool) -> None:
    member = {"id": "c", "relationship": relationship, "birth_date": birth, "migration_status": "bukan"}
    others = [{"id": "p", "relationship": pmi, "migration_status": "pmi_aktif"},
              {"id": "q", "relationship": "kepala" if pmi != "kepala" else "suami_istri", "migration_status": "bukan"}]
    household = [{**m, "household_id": "h"} for m in (member, *others)]
    assert (children_of_pmi_ids(household, TODAY) == ["c"]) is expected
    household[1]["migration_status"] = "pmi_purna"  # back home: no longer a child of a PMI abroad
    assert children_of_pmi_ids(household, TODAY) == []


def test_pickers_name_people_without_nik_and_list_children_of_pmi_first(mine: Database) -> None:
    graph = household(mine)  # the head has a NIK
    options = member_options(mine, VILLAGE, today=TODAY)
    assert [o.label for o in options] == ["Anak Sri Lestari — keluarga Sri Lestari (anak PMI)",
                                          "Nenek Sri Lestari — keluarga Sri Lestari", "Sri Lestari — keluarga Sri Lestari"]
    assert not any(ch.isdigit() for o in options for ch in o.label)
    assert [o.id for o in children_of_pmi(mine, VILLAGE, today=TODAY)] == [graph.members[1]["id"]]
    assert [o.label for o in business_options(mine, [VILLAGE])] == ["Warung Sri Lestari — keluarga Sri Lestari"]
    assert member_options(mine, OTHER_VILLAGE, today=TODAY) == []
