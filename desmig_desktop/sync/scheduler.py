"""When to run the next sync cycle: a pure policy (no Qt, no clock reads, no threads).

The GUI's timer asks ``seconds_until_due(now)`` and calls ``started``/``succeeded``/``failed``;
tests drive it with a fake clock. While healthy it runs every ``interval_s`` — on a timer, never
only after new edits, so an officer who only reads still receives others' changes. After a
failure it waits a *full-jitter* capped exponential delay (uniform in ``[0, min(cap, base·2^(n-1))]``),
which spreads a fleet of laptops coming back online instead of having them retry in lockstep.
Failures the officer must fix (``AUTH``, ``TOO_OLD``) stop the timer until ``unblock``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from desmig_desktop.sync.errors import ErrorKind


@dataclass(frozen=True)
class BackoffPolicy:
    base_s: float = 5.0
    cap_s: float = 15 * 60.0
    interval_s: float = 5 * 60.0  # periodic sync while online and healthy
    after_edit_s: float = 20.0  # a saved edit brings the next healthy run this close

    def failure_delay(self, failures: int, rng: random.Random) -> float:
        """Full jitter: uniform over ``[0, min(cap, base * 2**(failures - 1))]``."""
        if failures <= 0:
            return self.interval_s
        window = min(self.cap_s, self.base_s * 2.0 ** min(failures - 1, 62))
        return rng.uniform(0.0, window)


class SyncScheduler:
    """State of the background sync timer. ``now`` is any monotonic clock in seconds."""

    def __init__(self, policy: BackoffPolicy | None = None, *, rng: random.Random | None = None,
                 now: float = 0.0) -> None:
        self.policy = policy or BackoffPolicy()
        self.rng = rng or random.Random()
        self.failures = 0
        self.blocked: ErrorKind | None = None
        self.running = False
        self.next_at = now  # first run right away

    def due(self, now: float) -> bool:
        return self.blocked is None and not self.running and now >= self.next_at

    def seconds_until_due(self, now: float) -> float | None:
        """``None`` while blocked or running; else how long the timer should sleep."""
        if self.blocked is not None or self.running:
            return None
        return max(0.0, self.next_at - now)

    def started(self, now: float) -> None:
        self.running = True

    def succeeded(self, now: float) -> None:
        self.running = False
        self.failures = 0
        self.next_at = now + self.policy.interval_s

    def failed(self, kind: ErrorKind, now: float) -> float:
        """Record a failed cycle; returns the delay chosen (``inf`` when blocked)."""
        self.running = False
        if not kind.retry_later:
            self.blocked = kind
            self.next_at = math.inf
            return math.inf
        self.failures += 1
        delay = self.policy.failure_delay(self.failures, self.rng)
        self.next_at = now + delay
        return delay

    def edited(self, now: float) -> None:
        """A local save: sync soon while healthy; while backing off, the backoff stands (no storm)."""
        if self.blocked is None and self.failures == 0:
            self.next_at = min(self.next_at, now + self.policy.after_edit_s)

    def sync_now(self, now: float) -> None:
        """The officer pressed "Sync now": run at once, even during a backoff (not while blocked)."""
        if self.blocked is None:
            self.next_at = now

    def unblock(self, now: float) -> None:
        """After a successful login or an update: start again from a clean slate."""
        self.blocked = None
        self.failures = 0
        self.next_at = now
