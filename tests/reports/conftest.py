"""HQ databases for the report tests: SQLite (a migrated template copied per module) and, when
``DESMIG_TEST_PG_URL`` is set, a PostgreSQL schema private to this package and session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

os.environ.setdefault("DESMIG_HQ_ARGON2_FAST", "1")  # before any app is built

from desmig_server.db.engine import Database  # noqa: E402
from desmig_server.db.migrations import migrate  # noqa: E402
from tests.server.conftest import PG_ENV, make_sqlite_template, pg_schema_url  # noqa: E402
from tests.server.support import reset_data  # noqa: E402

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def reports_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_template(tmp_path_factory, "hq-reports-template")


@pytest.fixture(scope="session")
def reports_pg() -> Iterator[Database]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL variant skipped: set {PG_ENV}, e.g. "
                    "postgresql+psycopg:///desmig_test?host=/var/run/postgresql (scripts/test.sh does)")
    schema = f"hq_reports_{os.getpid()}"  # not tests/server's schema: both may run in one session
    admin = Database(base, pool_size=1, max_overflow=0)
    with admin.write() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = Database(pg_schema_url(base, schema), pool_size=2, max_overflow=2)
    migrate(db)
    yield db
    db.dispose()
    with admin.write() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A clean, migrated HQ database for one test module, on each backend."""
    if request.param == "sqlite":
        directory = tmp_path_factory.mktemp("hq-reports")
        shutil.copy(request.getfixturevalue("reports_sqlite_template"), directory / "hq.db")
        return f"sqlite:///{directory / 'hq.db'}"
    pg: Database = request.getfixturevalue("reports_pg")
    with pg.write() as conn:
        reset_data(conn)
    return pg.url
