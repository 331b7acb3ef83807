"""Helpers for the sync GUI tests: stand-in sync functions and a controller that stops with the test."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from desmig_desktop.domain.ids import new_id, utc_now
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.services.sync_service import CycleReport, ErrorKind, Progress, SyncError
from desmig_desktop.store import sync_store as st

WAIT_MS = 15_000


class TopOfWindow(random.Random):
    """Full jitter's worst case: ``uniform(a, b)`` is always ``b`` (makes the backoff exact)."""

    def uniform(self, a: float, b: float) -> float:
        return b


def pretend_logged_in(db: Any, *, user: str = "ana", url: str = "http://127.0.0.1:9") -> None:
    """What a login leaves in ``sync_state`` (for stand-in sync functions that never call a server)."""
    for key, value in ((st.K_SERVER_URL, url), (st.K_USERNAME, user), (st.K_DEVICE_ID, new_id()),
                       (st.K_TOKEN, "token-for-tests"), (st.K_DEVICE_NAME, "laptop-uji")):
        st.put_state(db, key, value)


def add_household(db: Any, village: str, head: str = "Budi Santoso") -> str:
    """Save a household the way the form does (one transaction with its outbox op)."""
    hid = new_id()
    save_household(db, HouseholdGraph({"id": hid, "village_code": village, "head_name": head,
                                       "visited_on": "2025-03-01", "consent": True}, []), confirm_warnings=True)
    return hid


class FakeSync:
    """Stands in for ``sync_service.run_cycle`` on the worker thread; records each call.

    ``script`` is a list of steps, one per call (the last repeats): an ``ErrorKind`` (raise it),
    ``"ok"`` (succeed, stamping the last success like the engine does), or a callable
    ``step(db, progress, cancel)`` that does whatever the test needs.
    """

    def __init__(self, *script: Any) -> None:
        self.script = list(script) or ["ok"]
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, db: Any, *, progress: Callable[[Progress], None], cancel: Callable[[], bool]) -> CycleReport:
        with self.lock:
            step = self.script[min(self.calls, len(self.script) - 1)]
            self.calls += 1
        if isinstance(step, ErrorKind):
            status = {ErrorKind.AUTH: 401, ErrorKind.TOO_OLD: 426, ErrorKind.SERVER: 503}.get(step)
            error = SyncError(step, detail="injected", status=status)
            st.put_state(db, st.K_LAST_ERROR, {"kind": step.value, "message": str(error), "at": utc_now()})
            raise error
        if callable(step):
            result = step(db, progress, cancel)
            if isinstance(result, CycleReport):
                return result
        st.put_state(db, st.K_LAST_SUCCESS, utc_now())
        st.put_state(db, st.K_LAST_ERROR, None)
        return CycleReport(pending_ops=st.pending_count(db))
