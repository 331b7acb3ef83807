"""One sync cycle (DESIGN §4): hello → push until the outbox is empty → pull each scope → push
again if new edits arrived.

Every local effect happens in one of the ``store.sync_store``/``sync_pull`` transactions, each after the server
call it depends on has answered, so a crash between any two steps leaves a state the next cycle
finishes correctly. ``crash`` is called at each named step (see ``hooks.CRASH_POINTS``).

hello also: refuses a schema outside the server's window (``TOO_OLD``); warns when the laptop
clock is more than 10 minutes off (never used for ordering); detects a server restored from a
backup (its watermark below our last ack → re-enqueue from the journal; a pull cursor beyond the
server's newest change → pull again); reconciles a laptop database restored from a backup with
the server's watermark (``sync_restore.reconcile_restore``) before anything is pushed; rotates
the token before it expires (server clock).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.ops import APP_SCHEMA
from desmig_desktop.domain.release import is_older
from desmig_desktop.store import journal_retention
from desmig_desktop.store import sync_lost as sl
from desmig_desktop.store import sync_pull as sp
from desmig_desktop.store import sync_restore as sr
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.client import SyncClient
from desmig_desktop.sync.errors import ErrorKind, SyncError, device_mismatch_error
from desmig_desktop.sync.hooks import BrokenVariant, broken_variant, crash_point
from desmig_desktop.sync.protocol import Hello, PullPage, PushReply

log = logging.getLogger(__name__)

START_BATCH = 1_000
MAX_BATCH = 5_000
PULL_LIMIT = 1_000
LOST_LIMIT = 500  # conflicts per page of the lost-values feed
PULL_CACHE_KIB = 32 * 1024  # SQLite page cache while pulling (per connection)
CLOCK_WARNING_S = 10 * 60
ROTATE_WITHIN_S = 30 * 86_400  # renew the token this long before it expires (by the server's clock)
MAX_GAP_RECOVERIES = 2


@dataclass(frozen=True)
class Progress:
    """Where a running cycle is, in records: ``phase`` is ``"push"`` or ``"pull"``; ``total`` is
    known for push (ops pending at the start) and unknown (``None``) for pull."""

    phase: str
    done: int
    total: int | None = None


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

    def as_json(self) -> dict[str, Any]:
        return {"pushed": self.pushed, "pulled": self.pulled, "conflicts": self.conflicts,
                "rejected": self.rejected, "pending_ops": self.pending_ops, "cancelled": self.cancelled,
                "clock_offset_s": self.clock_offset_s, "warnings": list(self.warnings)}

    @property
    def attention(self) -> ErrorKind | None:
        """``REJECTED`` when the officer has records to fix, else nothing to show."""
        return ErrorKind.REJECTED if self.rejected else None


@dataclass
class _Tally:
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    rejected: int = 0
    cancelled: bool = False
    clock_offset_s: float | None = None
    warnings: list[str] = field(default_factory=list)
    unanswered: int = 0  # ops acknowledged without their result (answer lost): the feed has them


def _parse_time(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class SyncEngine:
    """Runs cycles for one local database against one server.

    Args:
        db: the local store, opened in the calling thread.
        client: the protocol client (token set).
        progress: called with a ``Progress`` after each batch/page.
        cancel: polled between steps; a true value stops at the next safe point.
        crash: crash-point hook (tests inject one that raises instead of exiting).
        broken: a deliberately wrong variant (negative controls only).
        now: the device clock (UTC); only used for the clock-offset warning and timestamps.
    """

    def __init__(self, db: Database, client: SyncClient, *, progress: Callable[[Progress], None] | None = None,
                 cancel: Callable[[], bool] | None = None, crash: Callable[[str], None] = crash_point,
                 broken: BrokenVariant | None = None, now: Callable[[], dt.datetime] | None = None,
                 pull_limit: int = PULL_LIMIT) -> None:
        self.db = db
        self.client = client
        self.progress = progress or (lambda _p: None)
        self.cancel = cancel or (lambda: False)
        self.crash = crash
        self.broken = broken if broken is not None else broken_variant()
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self.pull_limit = pull_limit
        self.batch = int(st.state(db, st.K_BATCH, START_BATCH))
        device_id = st.state(db, st.K_DEVICE_ID)
        if not device_id:
            raise SyncError(ErrorKind.AUTH, _("Belum masuk ke server. Masuk dulu untuk sinkronisasi."),
                            detail="no device registered")
        self.device_id: str = device_id

    @property
    def base(self) -> int:
        return st.op_seq_base(self.db)

    # -- the cycle --------------------------------------------------------------------------
    def run_cycle(self) -> CycleReport:
        """One full cycle. Raises ``SyncError`` (with ``partial`` set) when it cannot finish."""
        tally = _Tally()
        try:
            hello = self.hello(tally)
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
            self.pull_all(hello.scopes, tally, latest=hello.scope_seqs if quiet else None)
            self.fetch_lost(hello, tally)
            if push_error is not None:
                raise push_error
            if st.pending_count(self.db) and not tally.cancelled:
                self.push_all(tally)  # edits saved while we were pulling
            if not tally.cancelled:
                self.crash("cycle.before_success")
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

    def _report(self, tally: _Tally) -> CycleReport:
        return CycleReport(tally.pushed, tally.pulled, tally.conflicts, tally.rejected, st.pending_count(self.db),
                           tally.cancelled, tally.clock_offset_s, tuple(tally.warnings))

    def _cancelled(self, tally: _Tally) -> bool:
        if self.cancel():
            tally.cancelled = True
        return tally.cancelled

    # -- hello ------------------------------------------------------------------------------
    def hello(self, tally: _Tally | None = None) -> Hello:
        tally = tally or _Tally()
        sent_at = self.now()
        hello = self.client.hello()
        received_at = self.now()
        server_time = _parse_time(hello.server_time)
        if server_time is not None:
            offset = (server_time - (sent_at + (received_at - sent_at) / 2)).total_seconds()
            tally.clock_offset_s = round(offset, 1)
            st.put_state(self.db, st.K_CLOCK_OFFSET, tally.clock_offset_s)
            if abs(offset) > CLOCK_WARNING_S:
                # Informational only: nothing is ever ordered by a device clock.
                tally.warnings.append(_("Jam laptop berbeda {minutes} menit dari server. Periksa tanggal dan jam"
                                        " laptop.", minutes=int(round(abs(offset) / 60))))
        if hello.update is not None:
            # Kept before any refusal below: an app too old to sync must still learn of the update.
            announced = hello.update.as_dict()
            if announced != st.state(self.db, st.K_UPDATE):
                st.put_state(self.db, st.K_UPDATE, announced)
        if APP_SCHEMA < hello.min_schema:
            raise SyncError(ErrorKind.TOO_OLD, detail=f"app schema {APP_SCHEMA} < {hello.min_schema}")
        if APP_SCHEMA > hello.max_schema:
            raise SyncError(ErrorKind.SERVER, _("Server belum mendukung versi aplikasi ini."),
                            detail=f"app schema {APP_SCHEMA} > {hello.max_schema}")
        if hello.conflict_seq is not None and sl.conflict_cursor(self.db) > hello.conflict_seq:
            # Our feed cursor is beyond the newest conflict the server has for this device: it was
            # restored from a backup (or this is a new registration). Read the feed again;
            # conflicts we hold are recognised by their id, record and field.
            with st.immediate(self.db):
                sl.set_conflict_cursor(self.db, 0)
        if list(hello.scopes) != st.state(self.db, st.K_SCOPES):
            st.put_state(self.db, st.K_SCOPES, list(hello.scopes))
        if hello.role and hello.role != st.state(self.db, st.K_ROLE):
            st.put_state(self.db, st.K_ROLE, hello.role)
        watermark = hello.last_op_seq + self.base
        restored = sr.restored_marker(self.db)
        if restored is not None:
            # Restored from a backup: the server may hold ops of this device the backup lacks.
            if restored.get("device_id") == self.device_id:
                sr.reconcile_restore(self.db, watermark, crash=self.crash)
            else:  # registered anew since the restore (``sync_service.login`` reconciled then)
                with st.immediate(self.db):
                    st.put_state(self.db, st.K_RESTORED, None)
        if watermark > st.max_op_seq_allocated(self.db):
            raise device_mismatch_error(f"server watermark {watermark} beyond our last op")
        if watermark < st.last_acked(self.db):
            missing = journal_retention.missing_for_refill(self.db, watermark)
            if missing is not None:  # checked before anything changes here: HQ can restore a younger backup
                raise SyncError(ErrorKind.SERVER, _(
                    "Server HQ dipulihkan dari cadangan yang lebih lama dari riwayat kiriman yang disimpan laptop"
                    " ini ({days} hari). Hubungi admin HQ.", days=journal_retention.KEEP_DAYS),
                    detail=f"server at {watermark}; journal no longer holds ops {missing[0]}..{missing[1]}",
                    code="journal_pruned")
            st.reenqueue_from_journal(self.db, watermark, crash=self.crash)
        elif hello.scope_seqs is not None:
            # A laptop that only pulled since the server's backup cannot tell by its watermark; a
            # cursor beyond the newest change the server has in that scope tells it.
            ahead = [s for s in hello.scopes if st.cursor(self.db, s) > hello.scope_seqs.get(s, 0)]
            if ahead:
                log.warning("server is behind our pull cursors (%s): restored from backup? pulling again",
                            ", ".join(ahead))
                with st.immediate(self.db):
                    st.forget_server_position(self.db)
        self._rotate_token_if_due(hello, server_time)  # also when too old: the token must live until it updates
        if hello.update is not None and is_older(self.client.app_version, hello.update.min_version):
            raise SyncError(ErrorKind.TOO_OLD, detail=f"app {self.client.app_version} < {hello.update.min_version}")
        self.crash("hello.done")
        return hello

    def _rotate_token_if_due(self, hello: Hello, server_time: dt.datetime | None) -> None:
        """Renew the token well before it expires, judged by the server's clock alone. A lost
        rotate reply is harmless: the old token works until the new one is first used."""
        expires = _parse_time(hello.token_expires_at or "")
        if expires is None or server_time is None or (expires - server_time).total_seconds() > ROTATE_WITHIN_S:
            return
        try:
            fresh = self.client.rotate()
        except SyncError as exc:
            log.warning("token rotation failed, will retry next cycle: %r", exc)
            return
        st.store_token(self.db, fresh.token, fresh.token_expires_at)
        self.client.token = fresh.token
        log.info("device token rotated; now valid until %s", fresh.token_expires_at)

    # -- push -------------------------------------------------------------------------------
    def push_all(self, tally: _Tally | None = None) -> None:
        """Push until the outbox is empty (or cancelled).

        Requests go one at a time, each after the previous reply (the server needs the ops in
        order, without holes), but the laptop's work overlaps the server's: while batch N+1 is
        on its way, the reply to batch N is applied and batch N+2 is taken, marked sent and
        encoded, ready to leave the moment N+1's reply arrives. Each batch is taken after the
        last one sent, so nothing is sent twice; if the process dies before a reply is applied,
        that batch is a replay next time (the lost-reply path). A batch marked sent is never
        rebased by a later ack (its hash is fixed), so an op on a record acked meanwhile keeps
        its base version — as two ops on one record in the same batch do, and the server
        decides them the same way.
        """
        tally = tally or _Tally()
        if sr.restored_marker(self.db) is not None:
            self.hello(tally)  # a restored database never pushes before it has compared with the server
        total, pushed_before = st.pending_count(self.db), tally.pushed  # progress: this call's share
        gap_recoveries = 0
        unacked: tuple[list[st.OutboxOp], PushReply, int] | None = None  # a reply still to apply
        ready = self._next_push(tally, after=0)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-push") as sender:
            while True:
                sending: Future[PushReply] | None = None
                if ready is not None:
                    batch, base, body = ready
                    sending = sender.submit(self.client.push, self.device_id, APP_SCHEMA, body=body)
                try:
                    if unacked is not None:
                        self._apply_push_reply(*unacked, tally, total, pushed_before)
                        unacked = None
                    if sending is None:
                        return
                    ready = self._next_push(tally, after=batch[-1].op_seq)
                except BaseException:
                    if sending is not None:
                        sending.cancel()
                        wait([sending])  # the request in flight ends before we give up
                    raise
                try:
                    reply = sending.result()
                except SyncError as exc:
                    # Nothing is in flight now: drop the batch built ahead and start again from
                    # the oldest pending op (its ops stay marked sent: they are never rebased).
                    ready = None
                    if (exc.timeout or exc.too_large) and self.batch > 1:
                        self._set_batch(max(1, min(self.batch, len(batch)) // 2))
                        log.info("push batch halved to %d after %s", self.batch, exc.detail)
                    elif exc.code == "gap" and exc.server_watermark is not None and gap_recoveries < MAX_GAP_RECOVERIES:
                        gap_recoveries += 1
                        first = st.first_pending(self.db)
                        if first is None or first >= batch[0].op_seq:  # else: an ack covered less than sent
                            self._recover_gap(exc.server_watermark + base, batch[0].op_seq)
                    else:
                        raise
                    ready = self._next_push(tally, after=0)
                    continue
                self.crash("push.response")
                unacked = (batch, reply, base)

    def _next_push(self, tally: _Tally, *, after: int) -> tuple[list[st.OutboxOp], int, bytes] | None:
        """Take the next batch after op ``after``, mark it sent and encode it; ``None`` when
        there is nothing left (or the cycle is cancelled)."""
        if self._cancelled(tally):
            return None
        batch = st.take_batch(self.db, self.batch, after=after)
        if not batch:
            return None
        base = self.base
        st.mark_sent(self.db, batch[-1].op_seq)
        if self.broken is BrokenVariant.ACK_EARLY:
            st.apply_ack(self.db, batch[-1].op_seq, [])
        self.crash("push.batch_taken")
        return batch, base, self.client.push_body(self.device_id, APP_SCHEMA, [op.wire(base) for op in batch])

    def _apply_push_reply(self, batch: list[st.OutboxOp], reply: PushReply, base: int, tally: _Tally,
                          total: int, pushed_before: int) -> None:
        watermark = reply.last_op_seq + base
        if watermark > st.max_op_seq_allocated(self.db):
            raise device_mismatch_error(f"push reply watermark {watermark} beyond our last op")
        outcomes = reply.outcomes(base)
        if self.broken is BrokenVariant.DROP_LOST:  # negative control: the answer's detail ignored
            outcomes = [dataclasses.replace(o, lost=()) for o in outcomes]
        summary = st.apply_ack(self.db, watermark, outcomes, crash=self.crash)
        self.crash("push.acked")
        if summary.acked == 0 and watermark < batch[-1].op_seq:
            # (0 is fine when the previous reply's watermark already covered this batch: replays)
            raise SyncError(ErrorKind.SERVER, detail=f"push acknowledged nothing (watermark {watermark})")
        tally.pushed += summary.acked
        tally.conflicts += summary.conflicts
        tally.rejected += summary.rejected
        tally.unanswered += summary.unanswered
        done = tally.pushed - pushed_before
        self.progress(Progress("push", done, max(total, done)))
        if len(batch) == self.batch and self.batch < MAX_BATCH:
            self._set_batch(min(MAX_BATCH, self.batch + max(1, self.batch // 2)))

    def _set_batch(self, size: int) -> None:
        self.batch = size
        st.put_state(self.db, st.K_BATCH, size)

    def _recover_gap(self, watermark: int, first: int) -> None:
        """The server's log stops before our oldest pending op: it lost ops we hold in the journal."""
        if st.reenqueue_from_journal(self.db, watermark, crash=self.crash) == 0:
            raise SyncError(ErrorKind.SERVER, detail=f"gap: server at {watermark}, outbox starts at {first},"
                                                     " journal has nothing in between", code="gap")

    # -- values of ours that lost --------------------------------------------------------------
    def fetch_lost(self, hello: Hello, tally: _Tally | None = None) -> None:
        """Read the server's feed of values this device lost (issue 13 §6) into the inbox.

        Push results already carry the values that lost on arrival; the feed adds those that lost
        later (a higher role's concurrent edit overwrote ours) and those whose answer was lost.
        Called after the pulls, so the values the pull just overwrote are explained in the same
        cycle; skipped when hello says nothing is new and every op of this cycle got its answer,
        and against a server without the feed (no ``conflict_seq`` in hello).
        """
        tally = tally or _Tally()
        if hello.conflict_seq is None or self.broken is BrokenVariant.DROP_LOST:
            return
        since = sl.conflict_cursor(self.db)
        if hello.conflict_seq <= since and not tally.unanswered:
            return
        while not self._cancelled(tally):
            page = self.client.lost_values(since, LOST_LIMIT, self.base)
            with st.immediate(self.db):
                tally.conflicts += sl.record_feed(self.db, page.items, page.next, utc_now())
            if not page.more or page.next <= since:
                return
            since = page.next

    # -- pull -------------------------------------------------------------------------------
    def pull_all(self, scopes: tuple[str, ...] | list[str], tally: _Tally | None = None, *,
                 latest: Mapping[str, int] | None = None) -> None:
        """Pull each scope to its end. ``latest`` (hello's ``scope_seqs``): a scope whose newest
        change our cursor has already reached is skipped — its page would be empty.

        While one page is applied, the next one (its cursor is known once a page arrives) is
        already being fetched on a helper thread, so the server's work on page N+1 overlaps ours
        on page N. Pages are still applied one at a time, in order, on this thread; a page
        fetched ahead and never applied (cancel, error) is dropped — a pull changes nothing on
        the server. Consecutive pages share one write transaction (``sp.PageGroup``: at most
        16 pages or half a second, so a save in the GUI waits at most that long for the lock);
        the last group is committed before this returns, an error rolls back only the open one.
        """
        tally = tally or _Tally()
        group = sp.PageGroup(self.db)
        # A bigger page cache while pulling: each page touches the same index pages again (the
        # default 2 MB made them re-read and re-decrypt); given back afterwards.
        previous = int(self.db.execute("PRAGMA cache_size").fetchone()[0])
        self.db.execute(f"PRAGMA cache_size=-{PULL_CACHE_KIB}")
        try:
            self._pull_pages(scopes, tally, latest, group)
        except BaseException:
            group.close(commit=False)  # the open group's pages (and cursors) are pulled again
            raise
        finally:
            self.db.execute(f"PRAGMA cache_size={previous}")
        group.close(commit=True)

    def _pull_pages(self, scopes: tuple[str, ...] | list[str], tally: _Tally, latest: Mapping[str, int] | None,
                    group: sp.PageGroup) -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-pull") as fetcher:
            for scope in scopes:
                since = st.cursor(self.db, scope)
                if latest is not None and latest.get(scope, 0) <= since:
                    continue
                ahead: Future[PullPage] | None = None
                while not self._cancelled(tally):
                    page = ahead.result() if ahead is not None else self.client.pull(scope, since, self.pull_limit)
                    ahead = None
                    self.crash("pull.response")
                    if page.more and page.next > since:
                        ahead = fetcher.submit(self.client.pull, scope, page.next, self.pull_limit)
                    group.before_page()
                    summary = sp.apply_pull(self.db, scope, page.records, page.next, page.last_op_seq + self.base,
                                            drop_acked=self.broken is not BrokenVariant.NO_WATERMARK,
                                            crash=self.crash)
                    self.crash("pull.applied")
                    group.after_page()
                    tally.pulled += summary.applied
                    tally.unanswered += summary.dropped
                    self.progress(Progress("pull", tally.pulled))
                    if not page.more or page.next <= since:
                        break
                    since = page.next
