"""Open the local database with the pragmas the design requires, and migrate it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from desmig_desktop.store.schema import migrations


def connect(path: Path | str) -> Database:
    """Open (creating if needed) and migrate the local DB. One connection per thread."""
    conn = sqlite3.connect(str(path), timeout=30)
    db = Database(conn)
    # WAL: readers never block the writer. FULL: a power cut must not lose the last commits.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=30000")
    migrations.apply(db)
    return db


def memory() -> Database:
    """A migrated in-memory DB (tests)."""
    db = Database(sqlite3.connect(":memory:"))
    db.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)
    return db
