"""Fixtures for the HQ server tests, each run on SQLite and (when available) PostgreSQL.

SQLite: a migrated template (91,599 regions, ~1 s) is built once per session and copied per
test. PostgreSQL (``DESMIG_TEST_PG_URL``): a schema private to the session is migrated once and
its data tables are truncated before each test (reference data kept), which keeps each test
clean without re-loading regions.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

os.environ.setdefault("DESMIG_HQ_ARGON2_FAST", "1")  # set before any app is built; inherited by subprocesses

from desmig_server.app import create_app
from desmig_server.db.engine import Database
from desmig_server.db.migrations import migrate
from desmig_server.settings import Settings

from .support import Hq, reset_data

with warnings.catch_warnings():
    # starlette suggests httpx2 for its TestClient; httpx is what the project pins.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PG_ENV = "DESMIG_TEST_PG_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def make_sqlite_template(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A migrated, checkpointed HQ SQLite file to copy per test (migrating loads 91k regions)."""
    path = tmp_path_factory.mktemp(name) / "hq.db"
    db = Database(f"sqlite:///{path}")
    migrate(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def hq_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_template(tmp_path_factory, "hq-template")


def pg_schema_url(base_url: str, schema: str) -> str:
    """``base_url`` restricted to one PostgreSQL schema (libpq ``options=-csearch_path=...``)."""
    return base_url + ("&" if "?" in base_url else "?") + f"options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def hq_pg() -> Iterator[Database]:
    """A migrated schema private to this test session (so parallel sessions on one server,
    e.g. two engineers' runs, never truncate each other's tables), dropped at the end."""
    yield from private_pg_schema("hq_test")


@contextmanager
def empty_pg_schema(schema: str) -> Iterator[str]:
    """An empty PostgreSQL schema ``schema``, dropped afterwards: its URL (skips without PostgreSQL)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL variant skipped: set {PG_ENV}, e.g. "
                    "postgresql+psycopg:///desmig_test?host=/var/run/postgresql (scripts/test.sh does)")
    admin = Database(base, pool_size=1, max_overflow=0)
    try:
        with admin.write() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        yield pg_schema_url(base, schema)
    finally:
        with admin.write() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def private_pg_schema(prefix: str) -> Iterator[Database]:
    """A migrated PostgreSQL schema ``{prefix}_{pid}``, dropped afterwards (skips without PostgreSQL)."""
    with empty_pg_schema(f"{prefix}_{os.getpid()}") as url:
        db = Database(url, pool_size=2, max_overflow=2)
        migrate(db)
        try:
            yield db
        finally:
            db.dispose()


def fresh_db_url(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    """A clean, migrated database of ``backend`` for one test (or one module)."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("hq_sqlite_template")
        shutil.copy(template, directory / "hq.db")
        return f"sqlite:///{directory / 'hq.db'}"
    pg: Database = request.getfixturevalue("hq_pg")
    with pg.write() as conn:
        reset_data(conn)
    return pg.url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_db_url(request.param, request, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return fresh_db_url(request.param, request, tmp_path_factory.mktemp("hq-module"))


def open_hq(db_url: str, settings: Settings | None = None) -> Iterator[Hq]:
    app = create_app(db_url, settings)
    with TestClient(app) as client:
        yield Hq(app.state.hq, client)


@pytest.fixture
def hq_app(db_url: str) -> Iterator[Hq]:
    """The HQ app on a clean database, driven in-process through FastAPI's TestClient (no server
    process: for that, ``hq_server`` of tests/sync/fixtures.py)."""
    yield from open_hq(db_url)
