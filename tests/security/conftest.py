"""The security tests run on the HQ server fixtures: SQLite always, PostgreSQL with ``DESMIG_TEST_PG_URL``.

They live in their own PostgreSQL schema (``hq_sec_<pid>``), so running them in one session with
``tests/server`` never drops or truncates that suite's tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desmig_server.db.engine import Database
from tests.server.conftest import (  # noqa: F401 — fixtures, registered by being imported here
    db_url,
    hq_app,
    hq_sqlite_template,
    module_db_url,
    private_pg_schema,
)


@pytest.fixture(scope="session")
def hq_pg() -> Iterator[Database]:
    yield from private_pg_schema("hq_sec")
