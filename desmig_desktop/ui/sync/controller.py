"""The sync controller: when to sync, one cycle at a time in the background, and what to show.

One per open profile, made by the composition root (``app.window_parts``) and owned by the
task manager, so it outlives a main window rebuilt for a language switch and keeps its backoff;
the current window is ``attach``-ed.

*When* is the pure ``SyncScheduler`` (``sync.scheduler``, through ``services.sync_service``) (capped exponential backoff with full
jitter after failures, a periodic run while healthy, blocked on AUTH / TOO_OLD); a single-shot
``QTimer`` sleeps until it is due. Saves are noticed as a growing outbox (after every list
refresh) and bring a run once they have been quiet for ``after_edit_s`` — besides the timer,
never instead of it. The cycle itself runs on the task manager's worker (``jobs.cycle_job``);
the GUI thread only reads small status figures.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QSizeGrip, QStatusBar, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.services import questionnaire, sync_service
from desmig_desktop.services.sync_service import BackoffPolicy, ErrorKind, LoginResult, SyncError, SyncScheduler, SyncStatus
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.sync.jobs import CycleFn, CycleOutcome, cycle_job, logout_job

if TYPE_CHECKING:
    from desmig_desktop.ui.context import AppContext
    from desmig_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)
MAX_TIMER_MS = 24 * 3600 * 1000  # a QTimer takes an int; longer waits simply re-check when it fires
NOTICE_MS = 30_000  # how long a questionnaire notice stays in the status bar
NOTICE_GAP = 12  # pixels between the notice and the bar's widgets (the bar's own margin and spacing)


def show_notice(bar: QStatusBar, notice: str) -> None:
    """``notice`` in the status bar for a while, cut with "…" to the room left of the bar's own widgets
    (on a 1024-pixel screen the sync state and the record count leave about 400 pixels; Qt would
    clip the text mid-letter), with the whole text in the bar's tooltip until the message goes.
    The sync indicator's tooltip keeps the notice after that."""
    widgets = [w for w in bar.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
               if not w.isHidden() and not isinstance(w, QSizeGrip)]
    # their widths as the bar's layout will make them (it settles later: the texts just changed)
    taken = sum(max(w.sizeHint().width(), w.minimumWidth()) + NOTICE_GAP for w in widgets)
    room = bar.width() - taken - NOTICE_GAP - (20 if bar.isSizeGripEnabled() else 0)
    shown = bar.fontMetrics().elidedText(notice, Qt.TextElideMode.ElideRight, max(0, room))
    bar.showMessage(shown, NOTICE_MS)
    bar.setToolTip(notice if shown != notice else "")
    bar.messageChanged.connect(lambda _text: bar.setToolTip(""), Qt.ConnectionType.SingleShotConnection)


class Phase(enum.Enum):
    """What the status-bar indicator is showing."""

    LOGGED_OUT = "logged_out"  # never logged in, or logged out
    NEVER_SYNCED = "never_synced"  # logged in, no cycle finished yet
    SYNCING = "syncing"
    SYNCED = "synced"
    OFFLINE = "offline"  # the server could not be reached
    SERVER_ERROR = "server_error"  # the server answered with trouble; retried with backoff
    LOGIN_NEEDED = "login_needed"  # 401: the token is no longer valid
    FORBIDDEN = "forbidden"  # 403: logging in again would not help
    TOO_OLD = "too_old"  # 426 / schema window: update the app
    FAILED = "failed"  # a bug; retried with backoff


@dataclass(frozen=True)
class SyncView:
    """Everything the indicator shows, as plain data (computed by ``SyncController.view``)."""

    phase: Phase
    pending: int = 0
    conflicts: int = 0
    rejections: int = 0
    done: int = 0  # progress while syncing, in records
    total: int = 0  # > 0 while pushing; 0 while pulling (total unknown) or not started
    waiting: bool = False  # queued behind another background job
    last_success: str | None = None  # UTC ISO-8601
    message: str | None = None  # the error in plain words
    retry_at: dt.datetime | None = None  # local wall time of the next automatic attempt
    username: str | None = None
    server_url: str | None = None
    warnings: tuple[str, ...] = ()
    notice: str | None = None  # what the last cycle's new questionnaire version changed, if it applied one


_PHASE_OF_KIND = {ErrorKind.NETWORK: Phase.OFFLINE, ErrorKind.SERVER: Phase.SERVER_ERROR,
                  ErrorKind.TOO_OLD: Phase.TOO_OLD, ErrorKind.REJECTED: Phase.SYNCED}


def needs_login(error: SyncError | None) -> bool:
    """401, no token or a device the server no longer recognises; not 403 (a scope problem)."""
    return error is not None and error.kind is ErrorKind.AUTH and error.status != 403


class SyncController(QObject):
    changed = Signal()  # anything the indicator shows may have changed
    cycle_finished = Signal(object)  # CycleOutcome
    login_requested = Signal(str)  # why the officer must log in (may be empty)
    villages_changed = Signal()

    def __init__(self, ctx: AppContext, *, run_cycle: CycleFn = sync_service.run_cycle,
                 policy: BackoffPolicy | None = None, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.monotonic, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else ctx.tasks)
        self.ctx = ctx
        self.policy = policy or BackoffPolicy()
        self._run_cycle = run_cycle
        self._clock = clock
        # The scheduler's ``edited`` brings the next run to ``now + after_edit_s`` at the *first*
        # save; we want one once saves have been quiet that long, so the controller debounces
        # saves (``save_timer``) and then tells the scheduler with no further delay.
        self.scheduler = SyncScheduler(replace(self.policy, after_edit_s=0.0), rng=rng, now=clock())
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._on_timer)
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.setInterval(int(self.policy.after_edit_s * 1000))
        self.save_timer.timeout.connect(self._on_saves_idle)
        self.running = False  # a cycle is queued or running
        self._started = False  # ... and really running on the worker (progress is ours)
        self._manual = False
        self._stopped = False
        self._window: MainWindow | None = None
        self.progress = (0, 0)
        self.error: SyncError | None = None
        self.unexpected: BaseException | None = None
        self.warnings: tuple[str, ...] = ()
        self.notice: str | None = None  # "Kuesioner versi 3: 2 pertanyaan baru" (until the next version)
        self.last_delay_s: float | None = None  # the scheduler's last choice (tests, tooltips)
        self.retry_at: dt.datetime | None = None
        self.status: SyncStatus = sync_service.sync_status(ctx.db)
        self._pending_seen = self.status.pending_ops
        self._bug_shown = False
        self._fresh = True  # no cycle or login yet in this session: a stored error still stands
        if not self.status.logged_in:
            self.scheduler.failed(ErrorKind.AUTH, clock())  # nothing to do until a login
        ctx.tasks.progressed.connect(self._on_progress)
        ctx.tasks.closing.connect(self.stop)  # the profile is closed (switched) or the app quits
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    # window ------------------------------------------------------------------------------

    def attach(self, window: MainWindow) -> None:
        """Refresh this window after pulls and scope changes; watch its list for saves."""
        self._window = window
        window.list_page.counts_changed.connect(self.on_local_change)
        self._follow_scopes()

    def window(self) -> MainWindow | None:
        win = self._window
        return win if win is not None and shiboken6.isValid(win) else None

    def start(self) -> None:
        """Begin timed syncing (idempotent)."""
        if not self._stopped:
            self._reschedule()

    def stop(self) -> None:
        """No more cycles (the app is closing); a running one is cancelled by the task manager."""
        self._stopped = True
        self.timer.stop()
        self.save_timer.stop()

    # what to show ------------------------------------------------------------------------

    def view(self) -> SyncView:
        s = self.status
        common: dict[str, Any] = {"pending": s.pending_ops, "conflicts": s.open_conflicts, "rejections": s.open_rejections,
                                  "last_success": s.last_success, "username": s.username, "server_url": s.server_url,
                                  "warnings": self.warnings, "notice": self.notice}
        if self.running:
            return SyncView(Phase.SYNCING, done=self.progress[0], total=self.progress[1],
                            waiting=not self._started, **common)
        if not s.logged_in:
            return SyncView(Phase.LOGGED_OUT, **common)
        retry = self.retry_at
        if self.unexpected is not None:
            return SyncView(Phase.FAILED, message=_("Sinkronisasi gagal karena kesalahan yang tidak terduga."
                                                    " Dicoba lagi otomatis."), retry_at=retry, **common)
        error = self.error
        if error is None and self._fresh and s.last_error_kind is not None and s.last_error_message:
            # A failure from before this app started (or from the CLI): shown until the next cycle.
            error = SyncError(s.last_error_kind, s.last_error_message)
        if error is not None and error.kind is not ErrorKind.REJECTED:
            if error.kind is ErrorKind.AUTH:
                phase = Phase.LOGIN_NEEDED if needs_login(error) else Phase.FORBIDDEN
            else:
                phase = _PHASE_OF_KIND[error.kind]
            return SyncView(phase, message=str(error), retry_at=retry if error.kind.retry_later else None, **common)
        return SyncView(Phase.SYNCED if s.last_success else Phase.NEVER_SYNCED, **common)

    def refresh(self) -> None:
        """Re-read the status figures (after a local change to the outbox or the inbox)."""
        self.status = sync_service.sync_status(self.ctx.db)
        self._pending_seen = self.status.pending_ops
        self.changed.emit()

    # triggers ----------------------------------------------------------------------------

    def sync_now(self) -> bool:
        """The officer asked: run a cycle at once (False, with the reason signalled, if it cannot)."""
        if self.running:
            return True
        self.status = sync_service.sync_status(self.ctx.db)
        if not self.status.logged_in:
            self.login_requested.emit(_("Masuk ke server dulu untuk sinkronisasi."))
            return False
        if needs_login(self.error):
            self.login_requested.emit(str(self.error))
            return False
        now = self._clock()
        if self.scheduler.blocked is not None:
            self.scheduler.unblock(now)  # 403 / too old: the officer may have fixed it; try once more
        self.scheduler.sync_now(now)
        self._manual = True
        self._start_cycle()
        return True

    def on_local_change(self) -> None:
        """The list refreshed (after a save, delete, undo, import…): a growing outbox means new edits."""
        pending = sync_service.pending_ops(self.ctx.db)
        if pending == self._pending_seen:
            return
        grew = pending > self._pending_seen
        self.refresh()
        if grew and self.status.logged_in and not self._stopped:
            self.save_timer.start()  # restarted by every save: fires once they have been quiet a while

    def _on_saves_idle(self) -> None:
        self.scheduler.edited(self._clock())
        self._reschedule()

    def on_logged_in(self, result: LoginResult) -> None:
        """A login succeeded: villages follow the server, and a first cycle runs right away."""
        self.error = None
        self.unexpected = None
        self._fresh = False
        self.refresh()
        self._follow_scopes(result.scopes)
        self.scheduler.unblock(self._clock())
        self._reschedule()
        self.changed.emit()

    def logout(self, on_done: Callable[[], None] | None = None) -> None:
        """Forget the token (after the running cycle, if any); syncing stops until the next login."""
        def done(_result: Any) -> None:
            self.error = None
            self.scheduler.failed(ErrorKind.AUTH, self._clock())
            self._reschedule()
            self.refresh()
            if on_done is not None:
                on_done()

        self.ctx.tasks.run_quietly(logout_job, label=_("Keluar dari server…"), on_done=done)

    # the cycle ---------------------------------------------------------------------------

    def _reschedule(self) -> None:
        self.timer.stop()
        self.retry_at = None
        if self.running or self._stopped:
            return
        now = self._clock()
        delay = self.scheduler.seconds_until_due(now)
        if delay is None:
            return
        if self.scheduler.failures:
            self.retry_at = dt.datetime.now() + dt.timedelta(seconds=delay)
        self.timer.start(min(MAX_TIMER_MS, math.ceil(delay * 1000)))  # never early: it would only re-arm

    def _on_timer(self) -> None:
        if self.running or self._stopped:
            return
        if not self.scheduler.due(self._clock()):
            self._reschedule()
            return
        self._start_cycle()

    def _start_cycle(self) -> None:
        self.timer.stop()
        self.running, self._started, self.progress = True, False, (0, 0)
        self.changed.emit()
        self.ctx.tasks.run_quietly(cycle_job(self._run_cycle), label=_("Sinkronisasi dengan server…"),
                                   on_done=self._on_cycle_done, on_started=self._on_cycle_started)

    def _on_cycle_started(self) -> None:
        self._started = True
        self.scheduler.started(self._clock())
        self.changed.emit()

    def _on_progress(self, done: int, total: int) -> None:
        if self._started and (done, total) != self.progress:
            self.progress = (done, total)
            self.changed.emit()

    def _on_cycle_done(self, outcome: CycleOutcome) -> None:
        now = self._clock()
        manual, self._manual = self._manual, False
        self.running = self._started = self._fresh = False
        if outcome.ok:
            self.scheduler.succeeded(now)
            self.last_delay_s = self.scheduler.policy.interval_s
            self.error = self.unexpected = None
            self.warnings = outcome.report.warnings if outcome.report else ()
        elif outcome.error is not None:
            self.error, self.unexpected = outcome.error, None
            self.last_delay_s = self.scheduler.failed(outcome.error.kind, now)
            log.info("sync failed (%s); next attempt in %.1f s", outcome.error.kind.name, self.last_delay_s)
        else:
            self.error, self.unexpected = None, outcome.unexpected
            self.last_delay_s = self.scheduler.failed(ErrorKind.SERVER, now)
            if not self._bug_shown and outcome.unexpected is not None:  # shown once; retries stay quiet
                self._bug_shown = True
                dialogs.show_error(self.window(), outcome.unexpected)
        self.status = sync_service.sync_status(self.ctx.db)
        self._pending_seen = self.status.pending_ops
        self._follow_scopes()
        report = outcome.report
        window = self.window()
        if report is not None and report.questionnaire_version is not None:
            # Forms opened from now on show the new questions; the officer is told what changed.
            self.notice = questionnaire.update_notice(report.questionnaire_version, dict(report.questionnaire_changes))
        if window is not None and report is not None and (report.pulled or report.conflicts or report.rejected
                                                          or report.questionnaire_version is not None):
            window.on_data_changed()
        self._reschedule()
        self.changed.emit()
        if window is not None and report is not None and report.questionnaire_version is not None and self.notice:
            show_notice(window.statusBar(), self.notice)  # after the indicator took its new text and width
        if needs_login(self.error) and manual:
            self.login_requested.emit(str(self.error))
        self.cycle_finished.emit(outcome)

    # villages ----------------------------------------------------------------------------

    def _follow_scopes(self, scopes: tuple[str, ...] | list[str] | None = None) -> None:
        """The officer's villages are the server's assignment (an HQ account has none: keep the list)."""
        wanted = list(scopes if scopes is not None else self.status.scopes)
        if not sync_service.follow_scopes(self.ctx.db, wanted):
            return
        log.info("villages now follow the server: %d", len(wanted))
        window = self.window()
        if window is not None:
            window.list_page.set_villages(wanted)
        self.villages_changed.emit()
