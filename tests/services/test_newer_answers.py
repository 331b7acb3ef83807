"""A laptop still on questionnaire version 1 holds answers another device gave under a later
version (pulled as stored: a new choice of a choice or multi question, a loosened bound or
length). Editing another field of such a record — a household's or a programme record — saves,
sends only the edit, and keeps the later answer; typing a value version 1 does not allow is still
refused. A table over both services (``households``, ``programme``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlite_utils import Database

from desmig_desktop.errors import ValidationFailed
from desmig_desktop.services import programme as prog
from desmig_desktop.services.households import HouseholdGraph, load_household, save_household
from desmig_desktop.store import settings

VILLAGE = "32.01.05.2001"


@pytest.fixture
def mine(db: Database) -> Database:
    settings.put(db, "villages", [VILLAGE])
    return db


def _household(db: Database) -> str:
    graph = HouseholdGraph(
        {"village_code": VILLAGE, "head_name": "Sri Lestari", "visited_on": "2025-03-04", "consent": True},
        [{"name": "Sri Lestari", "sex": "P", "relationship": "kepala", "migration_status": "pmi_aktif"}],
        businesses=[{"name": "Warung Sri", "kbli_category": "G", "status": "aktif", "workers": 2}])
    graph.ensure_ids()
    graph.placements.append({"member_id": graph.members[0]["id"], "country": "MY", "job": "prt"})
    save_household(db, graph, confirm_warnings=True)
    return str(graph.household["id"])


def _service(db: Database) -> str:
    rec = prog.new_record("services", {"village_code": VILLAGE, "served_on": "2025-03-04", "walk_in_name": "Rina",
                                       "service_type": "informasi", "status": "selesai"})
    return prog.save_record(db, rec, confirm_warnings=True).record_id


def _activity(db: Database) -> str:
    rec = prog.new_record("officer_activities", {"village_code": VILLAGE, "held_on": "2025-03-04",
                                                 "activity_kind": "sosialisasi", "partners": "pemdes",
                                                 "topic": "Migrasi aman", "attendance": 20})
    return prog.save_record(db, rec, confirm_warnings=True).record_id


def _household_record(entity: str) -> Any:
    def edit(db: Database, hid: str, changes: dict[str, Any]) -> None:
        graph = load_household(db, hid)
        target = {"households": [graph.household], "members": graph.members, "placements": graph.placements,
                  "businesses": graph.businesses}[entity][0]
        target.update(changes)
        save_household(db, graph, confirm_warnings=True)

    def record_id(db: Database, hid: str) -> str:
        if entity == "households":
            return hid
        column = "member_id IN (SELECT id FROM members WHERE household_id = ?)" if entity == "placements" else \
            "household_id = ?"
        return str(db.execute(f"SELECT id FROM {entity} WHERE {column}", [hid]).fetchone()[0])
    return _household, edit, record_id


def _programme_record(entity: str, make: Any) -> Any:
    def edit(db: Database, record_id: str, changes: dict[str, Any]) -> None:
        rec = prog.load_record(db, entity, record_id)
        rec.values.update(changes)
        prog.save_record(db, rec, confirm_warnings=True)
    return make, edit, lambda _db, made: made


# (what a later version allows, entity, how to make/edit/find the record, the later answer as
#  stored, the officer's edit of another field, a value version 1 refuses when typed)
LATER: list[tuple[str, str, Any, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("new choice", "businesses", _household_record("businesses"), {"capital_source": "koperasi"},
     {"workers": 6}, {"capital_source": "arisan"}),
    ("new multi choice", "placements", _household_record("placements"), {"remittance_use": "kesehatan,rumah"},
     {"sector": "formal"}, {"remittance_use": ["arisan"]}),
    ("maximum raised", "businesses", _household_record("businesses"), {"workers": 200_000},
     {"name": "Warung Sri Jaya"}, {"workers": 200_001}),
    ("minimum lowered", "businesses", _household_record("businesses"), {"started_year": 1930},
     {"name": "Warung Sri Jaya"}, {"started_year": 1931}),
    ("longer text", "households", _household_record("households"), {"hamlet": "Krajan" * 25},
     {"head_name": "Sri L."}, {"hamlet": "Kulon" * 25}),
    ("new choice of a service", "services", _programme_record("services", _service), {"referral": "lsm"},
     {"notes": "Sudah dihubungi"}, {"referral": "ormas"}),
    ("new multi choice of an activity", "officer_activities", _programme_record("officer_activities", _activity),
     {"partners": "kades,pemdes"}, {"topic": "Migrasi aman dan sehat"}, {"partners": ["puskesmas"]}),
    ("maximum raised of an activity", "officer_activities", _programme_record("officer_activities", _activity),
     {"attendance": 150_000}, {"topic": "Migrasi aman dan sehat"}, {"attendance": 150_001}),
]


def _last_op(db: Database, entity: str) -> dict[str, Any]:
    row = db.execute("SELECT fields FROM sync_outbox WHERE entity = ? ORDER BY op_seq DESC LIMIT 1", [entity]).fetchone()
    return dict(json.loads(row[0]))


@pytest.mark.parametrize("entity, how, later, edit, refused", [t[1:] for t in LATER], ids=[t[0] for t in LATER])
def test_an_edit_keeps_a_later_versions_answer_it_did_not_touch(mine: Database, entity: str, how: Any,
                                                                later: dict[str, Any], edit: dict[str, Any],
                                                                refused: dict[str, Any]) -> None:
    make, change, find = how
    made = make(mine)
    record_id = find(mine, made)
    # as a pull stores another device's answers: written as they are, not validated here
    mine.execute(f"UPDATE {entity} SET {', '.join(f'{k} = ?' for k in later)} WHERE id = ?",
                 [*later.values(), record_id])
    mine.conn.commit()
    change(mine, made, edit)
    assert _last_op(mine, entity) == edit  # only the officer's edit is sent
    row = mine.execute(f"SELECT {', '.join([*later, *edit])} FROM {entity} WHERE id = ?", [record_id]).fetchone()
    assert row == (*later.values(), *edit.values())
    with pytest.raises(ValidationFailed) as caught:
        change(mine, made, refused)
    assert [ri.issue.field for ri in caught.value.issues if ri.issue.hard] == list(refused)
