"""HQ databases for the report tests: SQLite (a migrated template copied per module) and, when
``DESMIG_TEST_PG_URL`` is set, a PostgreSQL schema private to this package and session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DESMIG_HQ_ARGON2_FAST", "1")  # before any app is built

from desmig_server.db.engine import Database
from tests.server.conftest import make_sqlite_template, private_pg_schema
from tests.server.support import reset_data

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def reports_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_template(tmp_path_factory, "hq-reports-template")


@pytest.fixture(scope="session")
def reports_pg() -> Iterator[Database]:
    # not tests/server's schema: both may run in one session
    yield from private_pg_schema("hq_reports")


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
