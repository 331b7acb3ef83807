"""The HQ's SQLite write-ahead log is checkpointed by its writers at a bound of our own
(``engine.SQLITE_WAL_AUTOCHECKPOINT_PAGES``, raised from SQLite's 1,000 pages for the push's
commits, issue 21) and never grows without end: after each checkpoint it starts again from its
beginning, so its file stays near the bound plus one transaction, however much is written.
Negative control: with the writers' checkpoints off, the same writes grow it past that.

The serving process also copies the log after each commit on a thread of its own
(``db.checkpoint``): with the writers' checkpoints off, that thread alone keeps the log to about
one transaction; stalled or failing, it delays no writer and the writers' bound still holds.
Negative control: a thread that runs but does not checkpoint lets the log grow."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from desmig_server.context import HqContext
from desmig_server.db import checkpoint as checkpoint_module
from desmig_server.db import engine as engine_module
from desmig_server.db.engine import Database
from desmig_server.settings import Settings

ROW_BYTES = 4_000
ROWS_PER_WRITE = 100  # ~0.4 MB of rows, and about as much of index and log overhead
ONE_WRITE = 3 * ROW_BYTES * ROWS_PER_WRITE  # the rows, their pages' slack and the log's frame headers


def _writes_for(bound_pages: int) -> int:
    """Enough writes for ten times the log's bound in rows alone."""
    return 10 * bound_pages * 4096 // (ROW_BYTES * ROWS_PER_WRITE) + 1


def _write_a_lot(path: Path, writes: int, *, background: bool = False, settle: bool = False) -> tuple[int, int]:
    """``writes`` transactions through ``Database.write``; the log file's largest size seen after
    a commit, and the rows read back. ``background``: the serving process's checkpoint thread
    too; ``settle``: each write waits for that thread to have copied the log."""
    db = Database(f"sqlite:///{path}", pool_size=1, max_overflow=0, background_checkpoint=background)
    try:
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        largest = 0
        for _ in range(writes):
            with db.write() as conn:
                conn.exec_driver_sql("INSERT INTO blobs (body) VALUES (?)",
                                     [(os.urandom(ROW_BYTES),) for _ in range(ROWS_PER_WRITE)])
            largest = max(largest, Path(f"{path}-wal").stat().st_size)
            if settle:
                assert db.checkpoint is not None and db.checkpoint.wait_idle(30)
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


@pytest.mark.parametrize("background", [False, True], ids=["writers", "writers+thread"])
@pytest.mark.parametrize("bound_pages", [200, 1_000])
def test_the_log_stays_near_its_bound_however_much_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              bound_pages: int, background: bool) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", bound_pages)
    writes = _writes_for(bound_pages)
    largest, rows = _write_a_lot(tmp_path / "hq.db", writes, background=background)
    assert rows == writes * ROWS_PER_WRITE
    assert largest <= bound_pages * 4096 + ONE_WRITE, (largest, bound_pages)


def test_the_bound_check_catches_a_log_never_checkpointed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", 0)  # 0: the writers never checkpoint
    bound_pages = 200
    largest, _ = _write_a_lot(tmp_path / "hq.db", _writes_for(bound_pages))
    assert largest > bound_pages * 4096 + ONE_WRITE


SETTLED_LOG = 2 * ONE_WRITE  # the log restarts at each write once the thread has copied the last


def test_the_thread_alone_restarts_the_log_after_each_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", 0)  # the writers never checkpoint
    writes = _writes_for(200)
    largest, rows = _write_a_lot(tmp_path / "hq.db", writes, background=True, settle=True)
    assert rows == writes * ROWS_PER_WRITE
    assert largest <= SETTLED_LOG, largest


def test_the_restart_check_catches_a_thread_that_does_not_checkpoint(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", 0)
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_SQL", "SELECT 1")  # runs, copies nothing
    largest, _ = _write_a_lot(tmp_path / "hq.db", _writes_for(200), background=True, settle=True)
    assert largest > SETTLED_LOG


def test_a_stalled_thread_delays_no_writer_and_the_writers_bound_holds(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bound_pages = 200
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", bound_pages)
    release = threading.Event()
    connect = checkpoint_module.BackgroundCheckpoint._connect

    def stalled(self: checkpoint_module.BackgroundCheckpoint) -> sqlite3.Connection:
        release.wait(60)
        return connect(self)

    monkeypatch.setattr(checkpoint_module.BackgroundCheckpoint, "_connect", stalled)
    try:
        writes = _writes_for(bound_pages)
        largest, rows = _write_a_lot(tmp_path / "hq.db", writes, background=True)  # ends while the thread waits
    finally:
        release.set()
    assert rows == writes * ROWS_PER_WRITE
    assert largest <= bound_pages * 4096 + ONE_WRITE


def test_a_failing_thread_warns_once_and_nothing_written_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WAL_AUTOCHECKPOINT_PAGES", 0)
    monkeypatch.setattr(checkpoint_module, "RETRY_AFTER_S", 0.01)
    failures = {"left": 5}
    connect = checkpoint_module.BackgroundCheckpoint._connect

    def flaky(self: checkpoint_module.BackgroundCheckpoint) -> sqlite3.Connection:
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return connect(self)

    monkeypatch.setattr(checkpoint_module.BackgroundCheckpoint, "_connect", flaky)
    path = tmp_path / "hq.db"
    db = Database(f"sqlite:///{path}", pool_size=1, max_overflow=0, background_checkpoint=True)
    try:
        with caplog.at_level(logging.WARNING, logger=checkpoint_module.__name__):
            with db.write() as conn:
                conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            for i in range(40):
                with db.write() as conn:
                    conn.exec_driver_sql("INSERT INTO t (id) VALUES (?)", (i,))
                if failures["left"]:
                    time.sleep(0.02)  # commits go on while the thread fails
            assert db.checkpoint is not None and db.checkpoint.wait_idle(30)
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 40
        warnings = [r.getMessage() for r in caplog.records]
        assert failures["left"] == 0
        assert sum("checkpoint failed" in m for m in warnings) == 1, warnings
        assert sum("works again" in m for m in warnings) == 1, warnings
        assert db.checkpoint.runs > 0
    finally:
        db.dispose()


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == checkpoint_module.THREAD_NAME]


def test_the_thread_starts_with_a_write_and_ends_with_dispose_or_when_idle(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    before = len(_checkpoint_threads())
    db = Database(f"sqlite:///{tmp_path / 'hq.db'}", background_checkpoint=True)
    try:
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert len(_checkpoint_threads()) == before  # reads start nothing
        monkeypatch.setattr(checkpoint_module, "IDLE_EXIT_S", 0.05)
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        assert db.checkpoint is not None and db.checkpoint.wait_idle(30)
        deadline = time.monotonic() + 30
        while len(_checkpoint_threads()) > before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(_checkpoint_threads()) == before  # idle: ended
        runs = db.checkpoint.runs
        monkeypatch.setattr(checkpoint_module, "IDLE_EXIT_S", 30.0)
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO t (id) VALUES (1)")
        assert db.checkpoint.wait_idle(30) and db.checkpoint.runs > runs  # a write starts it again
        assert len(_checkpoint_threads()) == before + 1
    finally:
        db.dispose()
    assert len(_checkpoint_threads()) == before
    db.checkpoint.nudge()  # after dispose: starts nothing, owes nothing
    assert db.checkpoint.wait_idle(1) and len(_checkpoint_threads()) == before


def test_only_the_serving_process_on_sqlite_has_the_thread(tmp_path: Path) -> None:
    ctx = HqContext.open(f"sqlite:///{tmp_path / 'hq.db'}", Settings(argon2_fast=True))
    try:
        assert ctx.db.checkpoint is not None
    finally:
        ctx.db.dispose()
    plain = Database(f"sqlite:///{tmp_path / 'other.db'}")
    assert plain.checkpoint is None
    plain.dispose()
    postgres = Database("postgresql+psycopg://nobody@127.0.0.1:9/none", background_checkpoint=True)  # never connects
    assert postgres.checkpoint is None
    postgres.dispose()
