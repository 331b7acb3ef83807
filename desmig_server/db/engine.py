"""Engine creation and the two transaction shapes every request uses: write and snapshot read.

SQLite: WAL (readers never block the writer), ``synchronous=FULL`` (an acknowledged push must
survive a power cut), and writes start with ``BEGIN IMMEDIATE`` so two writers queue on the
busy timeout instead of deadlocking on a read-to-write lock upgrade. Python's sqlite3 would
otherwise emit its own deferred BEGIN only before DML, so we take over BEGIN entirely.

PostgreSQL: writes run in READ COMMITTED and serialise on the ``seq_counter`` row lock (see
``sync.push``); snapshot reads run in REPEATABLE READ so a pull page and the device watermark
come from one snapshot.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from desmig_server.db.checkpoint import BackgroundCheckpoint

_SQLITE_BEGIN_OPTION = "desmig_sqlite_begin"
SQLITE_BUSY_TIMEOUT_S = 30.0
# Pages of write-ahead log after which a committing writer copies the log into the database file
# (SQLite's default: 1,000 pages, 4 MB). A push of 5,000 ops writes more log than that, so at the
# default every large push paid a checkpoint inside its commit while the device waited for the
# answer. At 10,000 pages (~40 MB) about one push in three does, and a page changed by several
# pushes (an index's inner pages, the tails of the history and applied-op tables) is copied once
# per checkpoint, not once per push. Measured (issue 21): `desmig sync` of 100,000 households end
# to end 14,663-14,733 -> 15,260-15,408 records/s. After each checkpoint the log starts again from
# its beginning, so its file stays near this size plus one push (``tests/server/test_hq_wal.py``).
# The serving process copies the log after each commit on a thread of its own (``db.checkpoint``);
# this bound is then what holds when that thread falls behind.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """Create an engine for ``sqlite:///FILE`` or ``postgresql+psycopg://...``.

    Raises:
        ValueError: for an in-memory SQLite URL (each pooled connection would see its own
            empty database) or an unsupported backend.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:") or "mode=memory" in str(parsed):
            raise ValueError("in-memory SQLite is not supported; give a file, e.g. sqlite:///hq.db")
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=max_overflow,
            hide_parameters=True,  # SQL errors must not carry record values (NIK) into logs
        )
        _install_sqlite_hooks(engine)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True,
                             hide_parameters=True)
    raise ValueError(f"unsupported database backend {backend!r}; use sqlite:/// or postgresql+psycopg://")


def _set_wal(cursor: Any) -> None:
    """Switch to WAL, retrying: on a brand-new file several starters race for the exclusive lock
    this needs, and SQLite answers "database is locked" at once instead of waiting on the busy
    timeout (seen in CI with three concurrent migrators)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module doc)
        cursor = dbapi_connection.cursor()
        _set_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint={int(SQLITE_WAL_AUTOCHECKPOINT_PAGES)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The server's one handle on its database; safe to share between request threads."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 20,
                 background_checkpoint: bool = False) -> None:
        """``background_checkpoint`` (SQLite, the serving process): copy the write-ahead log into
        the database file on a thread of its own after each write (``db.checkpoint``)."""
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.dialect = self.engine.dialect.name
        self.checkpoint: BackgroundCheckpoint | None = None
        if background_checkpoint and not self.is_postgres:
            self.checkpoint = BackgroundCheckpoint(str(make_url(url).database), busy_timeout_s=SQLITE_BUSY_TIMEOUT_S)
        # SQLite has one writer at a time. Left to SQLite, request threads queue on the busy
        # timeout, polling, each holding a pooled connection: 50 devices pushing at once made the
        # last ones fail with "database is locked" after 30 s, and the waiting writers could
        # drain the pool. Writers of this process queue here instead, before taking a connection;
        # BEGIN IMMEDIATE and the busy timeout still order them against other processes.
        self._write_turn: threading.RLock | None = None if self.is_postgres else threading.RLock()

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One read-write transaction; committed on normal exit, rolled back on any exception."""
        with self._write_turn or nullcontext(), self.engine.connect() as conn:
            if not self.is_postgres:
                conn.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                yield conn
        if self.checkpoint is not None:
            self.checkpoint.nudge()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction whose statements all see the same snapshot."""
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            # SQLite: a deferred BEGIN takes its WAL snapshot at the first read and keeps it.
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.close()
        self.engine.dispose()
