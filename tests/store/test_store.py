"""The local store: round trips, outbox atomicity, AUTOINCREMENT op_seq, migrations."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.ops import op_hash
from desmig_desktop.services.households import HouseholdGraph, delete_household, load_household, save_household, undo
from desmig_desktop.store import records
from desmig_desktop.store.db import connect
from desmig_desktop.store.queries import HouseholdFilter, count_households, search_households
from desmig_desktop.store.schema import SEARCH_ROWS_SQL, migrations

VILLAGE = "32.01.05.2003"


def full_graph() -> HouseholdGraph:
    """A household in which every questionnaire field has a value."""
    household = {"village_code": VILLAGE, "hamlet": "Dusun Kaler", "rt": "003", "rw": "001",
                 "address": "Jl. Melati No. 5", "kk_number": "3201050101200001", "head_name": "Siti Aminah",
                 "phone": "081234567890", "latitude": -6.55, "longitude": 106.8, "visited_on": "2026-01-02",
                 "consent": True, "notes": "Catatan — dengan é dan 漢字", "location_accuracy_m": 12.5,
                 "location_at": "2026-01-02T03:04:05Z", "interview_started_at": "2026-01-02T02:30:00Z",
                 "interview_ended_at": "2026-01-02T03:15:00Z"}
    head = {"id": "m-head", "nik": "3201054512900001", "name": "Siti Aminah", "sex": "P", "birth_place": "Bogor",
            "birth_date": "1990-12-05", "relationship": "kepala", "education": "sma", "marital_status": "kawin",
            "occupation": "Wiraswasta", "migration_status": "pmi_purna", "phone": "+6281234567891"}
    child = {"id": "m-child", "nik": "3201050101150002", "name": "Andi", "sex": "L", "birth_date": "2015-01-01",
             "relationship": "anak", "migration_status": "bukan"}
    placement = {"id": "p-1", "member_id": "m-head", "country": "HK", "job": "prt", "sector": "informal",
                 "scheme": "p3mi", "agency_name": "PT Maju", "departed_on": "2015-03-01", "returned_on": "2019-03-01",
                 "monthly_remittance": 6_500_000, "remittance_use": "modal_usaha,pendidikan", "had_problem": True,
                 "problem_kind": "gaji", "bpjs_ketenagakerjaan": True}
    business = {"id": "b-1", "owner_member_id": "m-head", "name": "Keripik Siti", "kbli_category": "C",
                "kbli_code": "10710", "products": "Keripik singkong", "started_year": 2019, "workers": 3,
                "capital": 40_000_000, "annual_turnover": 150_000_000, "capital_source": "remitansi",
                "nib": "1234567890123", "export_ready": True, "exporting": False, "cooperative_member": True,
                "received_support": False, "status": "aktif"}
    return HouseholdGraph(household, [head, child], [placement], [business])


def outbox(db: Database) -> list[dict[str, Any]]:
    return list(db["sync_outbox"].rows_where(order_by="op_seq"))


def test_round_trip_of_every_field(db: Database) -> None:
    graph = full_graph()
    result = save_household(db, graph, confirm_warnings=True)
    loaded = load_household(db, result.household_id)
    pairs = [("households", graph.household, loaded.household)]
    stored_members = {m["id"]: m for m in loaded.members}
    pairs += [("members", m, stored_members[m["id"]]) for m in graph.members]
    pairs += [("placements", graph.placements[0], loaded.placements[0]),
              ("businesses", graph.businesses[0], loaded.businesses[0])]
    for name, saved, stored in pairs:
        for key in ENTITIES[name].keys:
            if key in saved:
                assert stored[key] == saved[key], (name, key)
    assert loaded.businesses[0]["umkm_class"] == "mikro" and loaded.businesses[0]["umkm_basis"] == "modal"
    filled = {k for k, v in loaded.household.items() if v is not None}
    assert set(ENTITIES["households"].keys) <= filled


def test_every_save_writes_records_and_ops_with_changed_fields_only(db: Database) -> None:
    graph = full_graph()
    save_household(db, graph, confirm_warnings=True)
    ops = outbox(db)
    assert [o["entity"] for o in ops] == ["households", "members", "members", "placements", "businesses"]
    for op in ops:
        fields = json.loads(op["fields"])
        assert op["kind"] == "upsert" and op["base_version"] == 0
        assert op["op_hash"] == op_hash(op["entity"], op["record_id"], "upsert", 0, fields)
    graph = load_household(db, graph.household["id"])
    next(m for m in graph.members if m["id"] == "m-child")["occupation"] = "Pelajar"
    save_household(db, graph, confirm_warnings=True)
    last = outbox(db)[-1]
    assert (last["entity"], last["record_id"], json.loads(last["fields"])) == ("members", "m-child",
                                                                               {"occupation": "Pelajar"})
    assert len(outbox(db)) == 6  # unchanged records produced no ops


def test_exception_mid_save_leaves_neither_records_nor_ops(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = records.enqueue

    def failing_enqueue(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:  # after the household and one member were written
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "enqueue", failing_enqueue)
    with pytest.raises(OSError):
        save_household(db, full_graph(), confirm_warnings=True)
    for name in ("households", "members", "placements", "businesses", "sync_outbox"):
        assert db.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == 0, name
    assert db.execute("SELECT count(*) FROM household_search").fetchone()[0] == 0


def test_op_seq_keeps_growing_after_the_outbox_empties(db: Database) -> None:
    save_household(db, full_graph(), confirm_warnings=True)
    last = outbox(db)[-1]["op_seq"]
    with db.atomic():
        db.execute("DELETE FROM sync_outbox")  # as after a full ack
    graph = full_graph()
    graph.household["head_name"] = "Rumah kedua"
    for values in (*graph.members, *graph.placements, *graph.businesses):
        values["id"] = values["id"] + "-2"
    graph.members[0]["nik"], graph.members[1]["nik"] = "3201054512900009", "3201050101150008"
    graph.placements[0]["member_id"] = graph.businesses[0]["owner_member_id"] = "m-head-2"
    save_household(db, graph, confirm_warnings=True)
    assert outbox(db)[0]["op_seq"] == last + 1


def test_delete_and_undo(db: Database) -> None:
    result = save_household(db, full_graph(), confirm_warnings=True)
    hid = result.household_id
    back = delete_household(db, hid)
    assert count_households(db, HouseholdFilter()) == 0
    assert db.execute("SELECT count(*) FROM members WHERE deleted = 1").fetchone()[0] == 2
    assert [o["kind"] for o in outbox(db)][-5:] == ["delete"] * 5
    undo(db, back)
    restored = load_household(db, hid)
    assert len(restored.members) == 2 and len(restored.businesses) == 1 and len(restored.placements) == 1


def test_undo_of_a_save_restores_previous_values(db: Database) -> None:
    first = save_household(db, full_graph(), confirm_warnings=True)
    graph = load_household(db, first.household_id)
    graph.household["head_name"] = "Nama Salah"
    graph.members = [m for m in graph.members if m["id"] != "m-child"]
    second = save_household(db, graph, confirm_warnings=True)
    undo(db, second.undo)
    back = load_household(db, first.household_id)
    assert back.household["head_name"] == "Siti Aminah" and len(back.members) == 2
    undo(db, first.undo)  # undo of the creating save deletes everything it created
    assert count_households(db, HouseholdFilter()) == 0


def test_search_by_name_prefix_nik_kk_and_village(db: Database) -> None:
    save_household(db, full_graph(), confirm_warnings=True)
    for text in ("siti", "Ami", "andi", "3201054512900001", "3201050101200001"):
        assert [r["head_name"] for r in search_households(db, HouseholdFilter(text=text))] == ["Siti Aminah"], text
    assert search_households(db, HouseholdFilter(text="budi")) == []
    assert count_households(db, HouseholdFilter(villages=(VILLAGE,))) == 1
    assert count_households(db, HouseholdFilter(villages=("32.01.05.2004",))) == 0
    assert count_households(db, HouseholdFilter(migration_status="pmi_purna", has_business=True)) == 1
    assert count_households(db, HouseholdFilter(has_business=False)) == 0
    page = search_households(db, HouseholdFilter(), limit=10)
    assert page[0]["members"] == 2 and page[0]["businesses"] == 1 and page[0]["village"]


def test_migrations_applied_to_an_existing_db_keep_its_data(tmp_path: Path, template_db: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before="m002_search_index")  # a DB written by the first release
    assert "household_search" not in old.table_names()
    old["households"].insert({"id": "h-old", "deleted": 0, "server_version": 0, "created_at": "x", "updated_at": "x",
                              "village_code": VILLAGE, "head_name": "Warga Lama", "visited_on": "2025-01-01",
                              "consent": 1})
    old.conn.commit()
    old.conn.close()
    db = connect(path)
    assert db.execute("SELECT head_name FROM households").fetchall() == [("Warga Lama",)]
    assert [r["head_name"] for r in search_households(db, HouseholdFilter(text="lama"))] == ["Warga Lama"]
    assert {m.name for m in migrations.applied(db)} >= {"m001_initial", "m002_search_index"}


def test_search_index_rebuilt_without_positions_keeps_every_household(tmp_path: Path, template_db: Path) -> None:
    """m005 rebuilds the full-text index with ``detail=none`` from the records of an older DB;
    searches with several words, underscores and diacritics still work on it."""
    path = tmp_path / "m4.db"
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before="m005_search_index_without_positions")
    for hid, name in (("h1", "Siti Aminah"), ("h2", "Budi Santoso"), ("h3", "Siti Rahayu")):
        old["households"].insert({"id": hid, "deleted": 0, "server_version": 0, "created_at": "x", "updated_at": "x",
                                  "village_code": VILLAGE, "head_name": name, "visited_on": "2025-01-01",
                                  "consent": 1})
    # indexed as the releases before m005 did; h3 never was (written by a bulk import, say)
    old.execute("INSERT INTO search_keys(household_id) VALUES ('h1'), ('h2')")
    old.execute(SEARCH_ROWS_SQL + " WHERE h.id IN ('h1', 'h2')")
    old.conn.commit()
    old.conn.close()
    db = connect(path)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'household_search'").fetchone()[0]
    assert "detail = none" in sql
    assert db.execute("SELECT count(*) FROM household_search").fetchone()[0] == 3
    assert db.execute("SELECT household_id, head FROM search_keys ORDER BY household_id").fetchall() == [
        ("h1", "Siti Aminah"), ("h2", "Budi Santoso"), ("h3", "Siti Rahayu")]

    def names(text: str) -> list[str]:
        return sorted(r["head_name"] for r in search_households(db, HouseholdFilter(text=text)))

    assert names("siti") == ["Siti Aminah", "Siti Rahayu"]
    assert names("si ami") == names("ami_si") == names("Sïtï, Amînah!") == ["Siti Aminah"]
    assert names("budi rahayu") == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hs.lists(hs.sampled_from([*'ab1_ -"*^:()+.éİ\u0301', "NEAR", "OR", "NOT"]) | hs.characters(),
                max_size=12).map("".join))
def test_any_typed_text_is_a_valid_search(db: Database, text: str) -> None:
    """Whatever an officer types (any Unicode, punctuation, quotes, FTS syntax) searches without
    an SQLite error: every quoted prefix is exactly one token of the index's tokenizer."""
    if not db.execute("SELECT 1 FROM household_search LIMIT 1").fetchone():  # FTS5 parses queries on a non-empty index
        records.apply_changes(db, [records.Change("households", "h1", {
            "village_code": VILLAGE, "head_name": "Siti ab_1", "visited_on": "2025-01-01", "consent": True})])
    search_households(db, HouseholdFilter(text=text), limit=5)
    count_households(db, HouseholdFilter(text=text))


def test_text_search_pages_equal_the_general_plan_after_renames_and_deletes(db: Database) -> None:
    """A text-only search sorts its matches by the head name kept beside the search keys; its
    pages (both directions, every offset) are exactly those of the general plan (the same search
    narrowed to the one village), also after households were renamed or deleted."""
    first = ["Siti", "Sri", "Slamet", "Rahmat", "Rina", "Agus"]
    changes = [records.Change("households", f"h{i:02d}", {
        "village_code": VILLAGE, "head_name": f"{first[i % 6]} {'Aminah' if i % 4 else 'Santoso'}",
        "visited_on": "2025-01-01", "consent": True}) for i in range(36)]
    records.apply_changes(db, changes)
    records.apply_changes(db, [records.Change("households", "h07", {"head_name": "Zainal Santoso"}),
                               records.Change("households", "h12", {"head_name": "Aan Aminah"}),
                               records.Change("households", "h30", delete=True)])

    def pages(flt: HouseholdFilter, descending: bool) -> list[tuple[str, str]]:
        return [(r["head_name"], r["id"]) for offset in range(0, 40, 7)
                for r in search_households(db, flt, offset=offset, limit=7, descending=descending)]

    for text in ("san", "s", "aminah", "rin"):
        for descending in (False, True):
            fast = pages(HouseholdFilter(text=text), descending)
            assert fast == pages(HouseholdFilter(text=text, villages=(VILLAGE,)), descending), (text, descending)
            by_id = sorted(fast, key=lambda r: r[1])  # ties by id, ascending either way
            assert fast == sorted(by_id, key=lambda r: r[0].lower(), reverse=descending)
    names = [name for name, _ in pages(HouseholdFilter(text="san"), False)]
    assert "Zainal Santoso" in names and all(hid != "h30" for _, hid in pages(HouseholdFilter(text="s"), False))


def test_pragmas(db: Database) -> None:
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_template_copy_is_isolated(template_db: Path, tmp_path: Path) -> None:
    shutil.copy(template_db, tmp_path / "a.db")
    assert connect(tmp_path / "a.db").execute("SELECT count(*) FROM regions").fetchone()[0] == 91_599


def test_a_text_count_reused_for_the_page_is_never_stale_after_a_write(db: Database) -> None:
    flt = HouseholdFilter(text="Sit")
    assert count_households(db, flt) == 0  # remembered for this query...
    save_household(db, full_graph(), confirm_warnings=True)
    assert count_households(db, flt) == 1  # ...until anything is written on this connection
    other = connect(Path(db.execute("PRAGMA database_list").fetchone()[2]))
    try:
        graph = full_graph()
        graph.household["head_name"] = "Sitti Rahma"
        for m in graph.members:
            m["id"] += "-2"
            m["nik"] = m["nik"][:-1] + "9"
        graph.placements[0]["id"], graph.placements[0]["member_id"] = "p-2", "m-head-2"
        graph.businesses[0]["id"], graph.businesses[0]["owner_member_id"] = "b-2", "m-head-2"
        save_household(other, graph, confirm_warnings=True)
    finally:
        other.conn.close()
    assert count_households(db, flt) == 2  # or on another connection (the GUI's and the sync's)
    assert [r["head_name"] for r in search_households(db, flt)] == ["Siti Aminah", "Sitti Rahma"]
