"""The HQ's SQLite write-ahead log, copied into the database file on a thread of its own.

A writer that finds ``wal_autocheckpoint`` pages of log after its commit copies them into the
database file inside that commit, while the device whose push it is waits for the answer (issue
21: about 4 % of a 100,000-household ``desmig sync`` end to end). ``BackgroundCheckpoint`` makes
that copy after each commit instead, on one thread with a connection of its own, in SQLite's
PASSIVE mode: it never takes the writers' lock and never waits for readers; it copies what
committed transactions wrote, up to the first frame a reader still needs. Once it has copied the
whole log and no reader holds it, the next writer starts the log again from its beginning.

The writers' own checkpoint at ``engine.SQLITE_WAL_AUTOCHECKPOINT_PAGES`` stays: it bounds the
log when this thread falls behind or has failed (a failure is logged once, retried at a later
commit after a pause, and never reaches a request). A checkpoint cut short by a crash or a kill
is one SQLite recovers from: the log still holds every committed frame until a later checkpoint
copies it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

THREAD_NAME = "desmig-checkpoint"
# Shortest time between two checkpoints: a burst of small commits (many devices' day of work)
# is copied with one pair of fsyncs, not a pair per commit. A 5,000-op push takes longer.
MIN_INTERVAL_S = 0.05
RETRY_AFTER_S = 1.0  # after a failed checkpoint
IDLE_EXIT_S = 30.0  # the thread ends after this long without a commit
CHECKPOINT_SQL = "PRAGMA wal_checkpoint(PASSIVE)"


class BackgroundCheckpoint:
    """One thread that checkpoints ``path`` after ``nudge``: started by a nudge, ended by ``close``
    or after ``IDLE_EXIT_S`` without one (an app a test never shut down keeps no thread or file open)."""

    def __init__(self, path: str, *, busy_timeout_s: float) -> None:
        self.path, self.busy_timeout_s = path, busy_timeout_s
        self.runs = 0  # checkpoints completed (tests read it)
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def nudge(self) -> None:
        """A transaction committed: copy the log when the thread is next free."""
        with self._start_lock:  # the thread, idle, may be ending (``_run``): it sees this or is gone
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                self._thread.start()
            with self._idle:
                self._busy = True  # a checkpoint is owed from here on (``wait_idle``)
                self._wanted.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every nudge so far has been followed by a checkpoint (tests only: ``close``
        does not wait for one)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy or self._thread is None, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (a checkpoint under way finishes first)."""
        self._stopping.set()
        self._wanted.set()
        with self._start_lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: a database file removed meanwhile is an error here, never a new empty file
        conn = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=rw", uri=True,
                               timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=FULL")  # the copy is synced as the writers' own is
        return conn

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        failing = False
        try:
            while not self._stopping.is_set():
                if not self._wanted.wait(IDLE_EXIT_S):
                    with self._start_lock:  # idle: end, holding no connection (the next nudge restarts)
                        if not self._wanted.is_set():
                            self._thread = None
                            return
                if self._stopping.is_set():
                    return
                self._wanted.clear()
                try:
                    if conn is None:
                        conn = self._connect()
                    conn.execute(CHECKPOINT_SQL).fetchall()
                    self.runs += 1
                except sqlite3.Error as exc:  # the writers' own checkpoints still bound the log
                    if not failing:  # once per run of failures, not once per commit
                        log.warning("background checkpoint failed (%s: %s); the next commit retries",
                                    type(exc).__name__, exc)
                    failing = True
                    if conn is not None:
                        conn.close()
                        conn = None
                    self._stopping.wait(RETRY_AFTER_S)
                    continue
                if failing:
                    log.warning("background checkpoint works again")
                    failing = False
                with self._idle:
                    if not self._wanted.is_set():
                        self._busy = False
                        self._idle.notify_all()
                self._stopping.wait(MIN_INTERVAL_S)
        finally:
            if conn is not None:
                conn.close()
            with self._start_lock:  # stopped: a nudge after ``close`` starts nothing, waits for nothing
                if self._thread is threading.current_thread():
                    self._thread = None
            with self._idle:
                self._busy = False
                self._idle.notify_all()
