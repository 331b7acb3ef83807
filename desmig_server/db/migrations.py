"""Versioned schema migrations: an ordered list of steps, each applied once in its own transaction.

Why our own steps rather than Alembic: the schema is a dozen Core tables, one step loads
91,600 reference rows, and the whole history must run identically on SQLite and PostgreSQL
inside tests and at ``serve`` start-up. A 100-line runner does that with no extra dependency
(Alembic brings Mako and an ``env.py``/``alembic.ini`` layout whose value — autogenerate,
branches — we would not use).

Rules: never edit a released step; add a new one. Step 1 creates tables from ``tables.py``; when
a later step alters a table, first freeze step 1 by copying the v1 definition of that table
into it (the drift test, which migrates a fresh DB and compares it with ``tables.metadata``,
fails until you do). Concurrent starters (several workers) serialise on a PostgreSQL advisory
lock or SQLite's ``BEGIN IMMEDIATE`` and re-check the applied version inside the lock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, text

from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.reference import REGIONS_CSV, iter_regions
from desmig_server.db import tables as t
from desmig_server.db.engine import Database

log = logging.getLogger(__name__)

_ADVISORY_LOCK_KEY = 0x6465736D6967  # "desmig"
_REGION_BATCH = 5_000


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _create_tables(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[tb for tb in t.metadata.sorted_tables if tb is not t.schema_migrations])
    conn.execute(insert(t.seq_counter).values(id=1, value=0))


def _load_regions(conn: Connection) -> None:
    """Kemendagri regions, for village existence checks, scopes and report names."""
    conn.execute(t.regions.delete())
    batch: list[dict[str, object]] = []
    for region in iter_regions():
        batch.append({"code": region.code, "name": region.name, "level": region.level,
                      "parent_code": region.parent_code, "kind": region.kind})
        if len(batch) >= _REGION_BATCH:
            conn.execute(insert(t.regions), batch)
            batch = []
    if batch:
        conn.execute(insert(t.regions), batch)
    digest = hashlib.sha256(REGIONS_CSV.read_bytes()).hexdigest()[:16]
    conn.execute(t.meta.delete().where(t.meta.c.key == "regions_version"))
    conn.execute(insert(t.meta).values(key="regions_version", value=digest))


STEPS: tuple[Step, ...] = (
    Step(1, "create_tables", _create_tables),
    Step(2, "load_regions_kepmendagri_2025", _load_regions),
)
LATEST = STEPS[-1].version


def current_version(conn: Connection) -> int:
    """Highest applied step, 0 for an empty database."""
    t.schema_migrations.create(conn, checkfirst=True)
    return conn.execute(select(t.schema_migrations.c.version).order_by(
        t.schema_migrations.c.version.desc()).limit(1)).scalar() or 0


def migrate(db: Database) -> int:
    """Apply every pending step; return the number applied. Safe to call from several processes."""
    applied = 0
    for step in STEPS:
        with db.write() as conn:
            if db.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
            if current_version(conn) >= step.version:
                continue
            log.info("applying migration %d %s", step.version, step.name)
            step.apply(conn)
            conn.execute(insert(t.schema_migrations).values(
                version=step.version, name=step.name, applied_at=utc_now()))
            applied += 1
    return applied
