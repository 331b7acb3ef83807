"""A serving process's background catch-up of the aggregates, so a dashboard rarely waits for it.

Each worker runs one thread that checks every ``Settings.aggregates_follow_s`` seconds whether
the counter moved past the watermark and, if so, catches up (the advisory lock / SQLite's write
transaction make concurrent workers take turns; the second finds nothing left). Reports catch up
by themselves before reading, so the thread only moves that work off the request; with it off
(0) every figure is still exact.
"""

from __future__ import annotations

import logging
import threading

from desmig_server.aggregates.maintain import catch_up
from desmig_server.db.engine import Database

log = logging.getLogger(__name__)


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
        while not self._stop.wait(self.interval_s):
            try:
                catch_up(self.db)
            except Exception:
                log.exception("aggregates catch-up failed; reports catch up by themselves")
