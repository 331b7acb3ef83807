"""The HQ's SQLite write-ahead log is checkpointed by its writers at a bound of our own
(``engine.SQLITE_WAL_AUTOCHECKPOINT_PAGES``, raised from SQLite's 1,000 pages for the push's
commits, issue 21) and never grows without end: after each checkpoint it starts again from its
beginning, so its file stays near the bound plus one transaction, however much is written.
Negative control: with the writers' checkpoints off, the same writes grow it past that."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from desmig_server.db import engine as engine_module
from desmig_server.db.engine import Database

ROW_BYTES = 4_000
ROWS_PER_WRITE = 100  # ~0.4 MB of rows, and about as much of index and log overhead
ONE_WRITE = 3 * ROW_BYTES * ROWS_PER_WRITE  # the rows, their pages' slack and the log's frame headers


def _writes_for(bound_pages: int) -> int:
    """Enough writes for ten times the log's bound in rows alone."""
    return 10 * bound_pages * 4096 // (ROW_BYTES * ROWS_PER_WRITE) + 1


def _write_a_lot(path: Path, writes: int) -> tuple[int, int]:
    """``writes`` transactions through ``Database.write``; the log file's largest size seen after
    a commit, and the rows read back."""
    db = Database(f"sqlite:///{path}", pool_size=1, max_overflow=0)
    try:
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        largest = 0
        for _ in range(writes):
            with db.write() as conn:
                conn.exec_driver_sql("INSERT INTO blobs (body) VALUES (?)",
                                     [(os.urandom(ROW_BYTES),) for _ in range(ROWS_PER_WRITE)])
            largest = max(largest, Path(f"{path}-wal").stat().st_size)
        with db.read() as conn:
            rows = int(conn.execute(text("SELECT count(*) FROM blobs")).scalar_one())
        return largest, rows
    finally:
        db.dispose()


def test_every_connection_checkpoints_at_the_projects_bound(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hq.db'}")
    try:
        with db.write() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 10_000
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 10_000
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    finally:
        db.dispose()


@pytest.mark.parametrize("bound_pages", [200, 1_000])
def test_the_log_stays_near_its_bound_however_much_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              bound_pages: int) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", bound_pages)
    writes = _writes_for(bound_pages)
    largest, rows = _write_a_lot(tmp_path / "hq.db", writes)
    assert rows == writes * ROWS_PER_WRITE
    assert largest <= bound_pages * 4096 + ONE_WRITE, (largest, bound_pages)


def test_the_bound_check_catches_a_log_never_checkpointed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", 0)  # 0: the writers never checkpoint
    bound_pages = 200
    largest, _ = _write_a_lot(tmp_path / "hq.db", _writes_for(bound_pages))
    assert largest > bound_pages * 4096 + ONE_WRITE
