"""One sync cycle (DESIGN §4): hello → push until the outbox is empty → pull each scope → push
again if new edits arrived → read the feed of values that lost.

``SyncEngine`` only sequences the parts: ``hello.greet`` (schema window, clock, restores, token
rotation), ``push.PushPipeline``, ``pull.PullPipeline`` and ``lost.LostFeed``. Every local
effect happens in one of the ``store.sync_store``/``sync_pull`` transactions, each after the
server call it depends on has answered, so a crash between any two steps leaves a state the
next cycle finishes correctly. ``crash`` is called at each named step (``hooks.CRASH_POINTS``).

The pipeline classes are constructor arguments with the production ones as defaults: the
negative controls pass deliberately broken subclasses (``tests/support/broken_sync.py``);
nothing in the product reads a switch for them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.questionnaire_compat import summary
from desmig_desktop.store import journal_retention
from desmig_desktop.store import sync_restore as sr
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.client import SyncClient
from desmig_desktop.sync.context import CycleContext, Progress, Tally
from desmig_desktop.sync.errors import ErrorKind, SyncError
from desmig_desktop.sync.hello import greet
from desmig_desktop.sync.hooks import crash_point
from desmig_desktop.sync.lost import LostFeed
from desmig_desktop.sync.protocol import Hello
from desmig_desktop.sync.pull import PULL_LIMIT, PullPipeline
from desmig_desktop.sync.push import PushPipeline
from desmig_desktop.sync.questionnaire import QuestionnaireStep

log = logging.getLogger(__name__)

__all__ = ["CycleReport", "Progress", "SyncEngine"]


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did (DESIGN §6 ``sync --json`` keys, plus a few more)."""

    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    rejected: int = 0
    pending_ops: int = 0
    cancelled: bool = False
    clock_offset_s: float | None = None
    warnings: tuple[str, ...] = ()
    # The questionnaire version this cycle applied, and how many questions / choices it added
    # (the GUI tells the officer: "Kuesioner versi 3: 2 pertanyaan baru"); None: none applied.
    questionnaire_version: int | None = None
    questionnaire_changes: tuple[tuple[str, int], ...] = ()  # (change code, count), compatible ones

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pushed": self.pushed, "pulled": self.pulled, "conflicts": self.conflicts, "rejected": self.rejected,
            "pending_ops": self.pending_ops, "cancelled": self.cancelled, "clock_offset_s": self.clock_offset_s,
            "warnings": list(self.warnings)}
        if self.questionnaire_version is not None:
            out["questionnaire_applied"] = {"version": self.questionnaire_version,
                                            "changes": dict(self.questionnaire_changes)}
        return out

    @property
    def attention(self) -> ErrorKind | None:
        """``REJECTED`` when the officer has records to fix, else nothing to show."""
        return ErrorKind.REJECTED if self.rejected else None


class SyncEngine:
    """Runs cycles for one local database against one server.

    Args:
        db: the local store, opened in the calling thread.
        client: the protocol client (token set).
        progress: called with a ``Progress`` after each batch/page.
        cancel: polled between steps; a true value stops at the next safe point.
        crash: crash-point hook (tests inject one that raises instead of exiting).
        now: the device clock (UTC); only used for the clock-offset warning and timestamps.
        pull_limit: records per pulled page asked for.
        push, pull, lost, questionnaire: the pipeline classes (the production ones unless a test
            injects a deliberately broken variant, or a device on an older app).
    """

    def __init__(self, db: Database, client: SyncClient, *, progress: Callable[[Progress], None] | None = None,
                 cancel: Callable[[], bool] | None = None, crash: Callable[[str], None] = crash_point,
                 now: Callable[[], dt.datetime] | None = None, pull_limit: int = PULL_LIMIT,
                 push: type[PushPipeline] = PushPipeline, pull: type[PullPipeline] = PullPipeline,
                 lost: type[LostFeed] = LostFeed,
                 questionnaire: type[QuestionnaireStep] = QuestionnaireStep) -> None:
        device_id = st.state(db, st.K_DEVICE_ID)
        if not device_id:
            raise SyncError(ErrorKind.AUTH, _("Belum masuk ke server. Masuk dulu untuk sinkronisasi."),
                            detail="no device registered")
        self.ctx = CycleContext(db, client, device_id, progress or (lambda _p: None), cancel or (lambda: False),
                                crash, now or (lambda: dt.datetime.now(dt.UTC)))
        self.db = db
        self.pusher = push(self.ctx)
        self.puller = pull(self.ctx, limit=pull_limit)
        self.feed = lost(self.ctx)
        self.questionnaire = questionnaire(self.ctx)

    # -- the cycle --------------------------------------------------------------------------
    def run_cycle(self) -> CycleReport:
        """One full cycle. Raises ``SyncError`` (with ``partial`` set) when it cannot finish."""
        tally = Tally()
        try:
            hello = self.hello(tally)
            self.questionnaire.update(hello, tally)  # before the pull: new answers land in their columns
            push_error: SyncError | None = None
            try:
                self.push_all(tally)
            except SyncError as exc:
                # The upload failed but the link may still carry a download (timeouts on big
                # bodies, a flaky proxy): pulling is safe with pending ops, so try it.
                if not exc.kind.retry_later or exc.unreachable:
                    raise
                push_error = exc
            # hello's per-scope newest changes still hold only if nothing of ours reached the server
            # since (a push whose answer was lost must be healed by the pull's watermark).
            quiet = tally.pushed == 0 and push_error is None and not st.pending_count(self.db)
            self.pull_all(hello.scopes, tally, latest=hello.scope_seqs if quiet else None,
                          together="changes" in hello.features)
            self.fetch_lost(hello, tally)
            if push_error is not None:
                raise push_error
            if st.pending_count(self.db) and not tally.cancelled:
                self.push_all(tally)  # edits saved while we were pulling
            if not tally.cancelled:
                self.ctx.crash("cycle.before_success")
                with st.immediate(self.db):  # one commit (one fsync) for both
                    st.put_state(self.db, st.K_LAST_SUCCESS, utc_now())
                    st.put_state(self.db, st.K_LAST_ERROR, None)
                journal_retention.prune_journal(self.db)  # at most once a day
        except SyncError as exc:
            exc.partial = self._report(tally)
            st.put_state(self.db, st.K_LAST_ERROR, {"kind": exc.kind.value, "message": str(exc), "at": utc_now(),
                                                    "detail": exc.detail})
            log.warning("sync failed: %r", exc)
            raise
        report = self._report(tally)
        log.info("sync done: %s", report.as_json())
        return report

    def _report(self, tally: Tally) -> CycleReport:
        applied = tally.questionnaire
        return CycleReport(tally.pushed, tally.pulled, tally.conflicts, tally.rejected, st.pending_count(self.db),
                           tally.cancelled, tally.clock_offset_s, tuple(tally.warnings),
                           applied.version if applied else None,
                           tuple(sorted(summary(list(applied.changes)).items())) if applied else ())

    # -- the steps (each also callable alone: tests, the bench) ------------------------------
    def hello(self, tally: Tally | None = None) -> Hello:
        return greet(self.ctx, tally or Tally())

    def push_all(self, tally: Tally | None = None) -> None:
        tally = tally or Tally()
        if sr.restored_marker(self.db) is not None:
            self.hello(tally)  # a restored database never pushes before it has compared with the server
        self.pusher.push_all(tally)

    def pull_all(self, scopes: Sequence[str], tally: Tally | None = None, *,
                 latest: Mapping[str, int] | None = None, together: bool = False) -> None:
        self.puller.pull_all(scopes, tally or Tally(), latest=latest, together=together)

    def fetch_lost(self, hello: Hello, tally: Tally | None = None) -> None:
        self.feed.fetch(hello, tally or Tally())
