"""m012 (issue 20 §7): households of a database from before it gain the location-fix and interview
columns, keeping their data. A database whose m001 already made them (the releases from m012 until
m001 was frozen built it from the live specs) with m012 still pending: tests/store/test_schema_drift.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from desmig_desktop.services.households import load_household, save_household
from desmig_desktop.store.db import connect
from desmig_desktop.store.schema import migrations

VILLAGE = "32.01.05.2003"
NEW = ("location_accuracy_m", "location_at", "interview_started_at", "interview_ended_at")


def test_a_database_from_before_gains_the_columns_and_keeps_its_households(tmp_path: Path,
                                                                            template_db: Path) -> None:
    path = tmp_path / "m011.db"
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before="m012_location_fix_and_interview_times")
    assert not set(NEW) & {c.name for c in old["households"].columns}  # m001 is frozen without them
    old["households"].insert({"id": "h-old", "deleted": 0, "server_version": 3, "created_at": "x", "updated_at": "x",
                              "village_code": VILLAGE, "head_name": "Warga Lama", "visited_on": "2025-01-01",
                              "consent": 1, "latitude": -6.6, "longitude": 106.8})
    old.conn.commit()
    old.conn.close()
    db = connect(path)
    columns = {c.name: c.type for c in db["households"].columns}
    assert {k: columns[k] for k in NEW} == {"location_accuracy_m": "REAL", "location_at": "TEXT",
                                            "interview_started_at": "TEXT", "interview_ended_at": "TEXT"}
    graph = load_household(db, "h-old")
    assert (graph.household["head_name"], graph.household["latitude"], graph.household["location_at"]) == (
        "Warga Lama", -6.6, None)
    graph.household.update(location_accuracy_m=15.0, location_at="2026-02-03T04:05:06Z")
    save_household(db, graph, confirm_warnings=True)
    assert load_household(db, "h-old").household["location_at"] == "2026-02-03T04:05:06Z"


def test_a_new_database_is_migrated_once(tmp_path: Path, template_db: Path) -> None:
    db = connect(tmp_path / "new.db")
    assert "m012_location_fix_and_interview_times" in {m.name for m in migrations.applied(db)}
    assert set(NEW) <= {c.name for c in db["households"].columns}
    db.close()
    again = connect(tmp_path / "new.db")  # reopening applies nothing twice
    assert set(NEW) <= {c.name for c in again["households"].columns}
