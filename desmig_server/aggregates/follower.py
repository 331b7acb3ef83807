"""A serving process's background catch-up of the aggregates, so a dashboard rarely waits for it.

Each worker runs one thread that checks every ``Settings.aggregates_follow_s`` seconds whether
the counter moved past the watermark and, if so, catches up (the advisory lock / SQLite's write
transaction make concurrent workers take turns; the second finds nothing left). Reports catch up
by themselves before reading, so the thread only moves that work off the request; with it off
(0) every figure is still exact.

While pushes keep committing (the counter moved since the previous check) it waits for them to
pause, at most ``MAX_DEFER_INTERVALS`` checks in a row. A catch-up recomputes every village
changed since the watermark from all its records, in a write transaction that pushes on SQLite
queue behind: during a long sync it redid the same villages every interval (at 20,000 demo
households about 8 µs of HQ CPU per pushed record on the push's own time, and more the longer the
push ran). One catch-up after the burst covers the same changes once.
"""

from __future__ import annotations

import logging
import threading

from desmig_server.aggregates.maintain import catch_up, counter
from desmig_server.db.engine import Database

log = logging.getLogger(__name__)

# Checks in a row a catch-up may wait for pushes to pause: under steady pushing from many devices
# the aggregates still catch up every this many intervals (a minute at the default 10 s).
MAX_DEFER_INTERVALS = 6


class Follower:
    def __init__(self, db: Database, interval_s: float) -> None:
        self.db = db
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aggregates-follower", daemon=True)

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        seen: int | None = None  # the change counter at the previous check
        deferred = 0
        while not self._stop.wait(self.interval_s):
            try:
                with self.db.read() as conn:
                    now = counter(conn)
                busy, seen = now != seen, now
                if busy and deferred < MAX_DEFER_INTERVALS:
                    deferred += 1  # pushes are committing: catch up once they pause
                    continue
                deferred = 0
                catch_up(self.db)
            except Exception:
                log.exception("aggregates catch-up failed; reports catch up by themselves")
