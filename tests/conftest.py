"""Shared fixtures. A migrated template DB is built once per session and copied per test,
because creating one loads 91,599 regions (~1 s)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.run_summary"]  # the run_summary fixture and its lines at the end

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("DESMIG_HOME", None)  # tests always pass their own data dir
os.environ.pop("DESMIG_PASSPHRASE", None)
# Tests use unencrypted databases unless they test encryption; production requires a passphrase.
os.environ["DESMIG_ALLOW_PLAINTEXT"] = "1"


@pytest.fixture(autouse=True)
def _log_files_end_with_their_test() -> Iterator[None]:
    """A test that runs the desktop CLI or opens a profile in-process gets the app's rotating log
    file on the root logger (``services.paths.setup_logging``); that file lives in the test's
    tmp_path, deleted at teardown, so the handler must not outlive the test: a later test's log
    record would otherwise be written into a deleted folder ("--- Logging error ---" on stderr)."""
    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler) and h not in before]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from desmig_desktop.store.db import connect

    path = tmp_path_factory.mktemp("template") / "desmig.db"
    db = connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture
def data_dir(tmp_path: Path, template_db: Path) -> Path:
    """A data dir holding a copy of the migrated, empty template database."""
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(template_db, root / "desmig.db")
    return root


@pytest.fixture
def db(data_dir: Path) -> Iterator[object]:
    from desmig_desktop.store.db import connect

    database = connect(data_dir / "desmig.db")
    yield database
    database.conn.close()
