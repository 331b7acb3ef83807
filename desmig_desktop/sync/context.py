"""What the parts of one sync cycle share: the database, the client, the device, the hooks of the
caller (progress, cancel, crash points, clock), and the running tally of what the cycle did."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlite_utils import Database

from desmig_desktop.store import sync_store as st
from desmig_desktop.store.questionnaire_store import Applied
from desmig_desktop.sync.client import SyncClient

Crash = Callable[[str], None]


@dataclass(frozen=True)
class Progress:
    """Where a running cycle is, in records: ``phase`` is ``"push"`` or ``"pull"``; ``total`` is
    known for push (ops pending at the start) and unknown (``None``) for pull."""

    phase: str
    done: int
    total: int | None = None


@dataclass
class Tally:
    """What the cycle has done so far (becomes its ``CycleReport``)."""

    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    rejected: int = 0
    cancelled: bool = False
    clock_offset_s: float | None = None
    warnings: list[str] = field(default_factory=list)
    unanswered: int = 0  # ops acknowledged without their result (answer lost): the feed has them
    questionnaire: Applied | None = None  # the questionnaire version this cycle applied, if any


@dataclass
class CycleContext:
    """One local database syncing with one server as one registered device.

    Attributes:
        db: the local store, opened in the calling thread.
        client: the protocol client (token set).
        device_id: the device registered for this database.
        progress: called with a ``Progress`` after each batch/page.
        cancel: polled between steps; a true value stops at the next safe point.
        crash: the crash-point hook, called at each named step (``hooks.CRASH_POINTS``).
        now: the device clock (UTC); only for the clock-offset warning and timestamps.
    """

    db: Database
    client: SyncClient
    device_id: str
    progress: Callable[[Progress], None]
    cancel: Callable[[], bool]
    crash: Crash
    now: Callable[[], dt.datetime]
    # hello's ``features`` (protocol additions the server speaks); empty until hello answered
    features: tuple[str, ...] = ()

    @property
    def base(self) -> int:
        """The local op number of the server's op 0 for this device (``sync_store.op_seq_base``)."""
        return st.op_seq_base(self.db)

    def cancelled(self, tally: Tally) -> bool:
        """Whether the caller asked to stop (remembered in ``tally`` once asked)."""
        if self.cancel():
            tally.cancelled = True
        return tally.cancelled
