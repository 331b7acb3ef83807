"""The push pipeline (DESIGN §4 "Client cycle"): push until the outbox is empty, then apply each
answer in one local transaction (``sync_store.apply_ack``) after the server has answered.

Batches start at ``START_BATCH`` ops, halve on a timeout or 413 and grow after full batches
(``BatchSize``, kept in ``sync_state`` across cycles). A 409 ``gap`` (the server lost ops we
hold in the journal) is healed by re-enqueueing them, at most ``MAX_GAP_RECOVERIES`` times per
push.

The deliberately broken variants of the negative controls (``tests/support/broken_sync.py``)
subclass ``PushPipeline`` and override ``mark_sent`` or ``outcomes``; production never does.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait

from desmig_desktop.domain.ops import APP_SCHEMA
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.context import CycleContext, Progress, Tally
from desmig_desktop.sync.errors import ErrorKind, SyncError, device_mismatch_error
from desmig_desktop.sync.protocol import PushReply

log = logging.getLogger(__name__)

START_BATCH = 1_000
MAX_BATCH = 5_000
MAX_GAP_RECOVERIES = 2
OPTIONAL_HASH = "optional_op_hash"  # hello feature: the server computes each op's hash

Batch = list[st.OutboxOp]


class BatchSize:
    """How many ops go in one request: halved after a timeout or 413, grown by half after a
    full batch answered, remembered in ``sync_state`` so the next cycle starts where this one ended."""

    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.value = int(st.state(ctx.db, st.K_BATCH, START_BATCH))

    def set(self, size: int) -> None:
        self.value = size
        st.put_state(self.ctx.db, st.K_BATCH, size)

    def shrink(self, sent: int) -> bool:
        """After a timeout or 413 for a batch of ``sent`` ops; False when it cannot get smaller."""
        if self.value <= 1:
            return False
        self.set(max(1, min(self.value, sent) // 2))
        return True

    def answered(self, sent: int) -> None:
        """After a batch of ``sent`` ops was answered: a full one lets the next be bigger."""
        if sent == self.value and self.value < MAX_BATCH:
            self.set(min(MAX_BATCH, self.value + max(1, self.value // 2)))


class PushPipeline:
    """Sends the outbox in order and applies the answers (one ``PushPipeline`` per cycle)."""

    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.batch = BatchSize(ctx)

    def push_all(self, tally: Tally) -> None:
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
        ctx = self.ctx
        total, pushed_before = st.pending_count(ctx.db), tally.pushed  # progress: this call's share
        gap_recoveries = 0
        unacked: tuple[Batch, PushReply, int] | None = None  # a reply still to apply
        ready = self._next(tally, after=0)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-push") as sender:
            while True:
                sending: Future[PushReply] | None = None
                if ready is not None:
                    batch, base, body = ready
                    sending = sender.submit(ctx.client.push, ctx.device_id, APP_SCHEMA, body=body)
                try:
                    if unacked is not None:
                        self._apply_reply(*unacked, tally, total, pushed_before)
                        unacked = None
                    if sending is None:
                        return
                    ready = self._next(tally, after=batch[-1].op_seq)
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
                    if (exc.timeout or exc.too_large) and self.batch.shrink(len(batch)):
                        log.info("push batch halved to %d after %s", self.batch.value, exc.detail)
                    elif exc.code == "gap" and exc.server_watermark is not None and gap_recoveries < MAX_GAP_RECOVERIES:
                        gap_recoveries += 1
                        first = st.first_pending(ctx.db)
                        if first is None or first >= batch[0].op_seq:  # else: an ack covered less than sent
                            self._recover_gap(exc.server_watermark + base, batch[0].op_seq)
                    else:
                        raise
                    ready = self._next(tally, after=0)
                    continue
                ctx.crash("push.response")
                unacked = (batch, reply, base)

    # -- the steps (the broken variants override ``mark_sent`` and ``outcomes``) ---------------
    def mark_sent(self, batch: Batch) -> None:
        """Remember, durably and before the request leaves, that ``batch`` may reach the server."""
        st.mark_sent(self.ctx.db, batch[-1].op_seq)

    def outcomes(self, reply: PushReply, base: int) -> list[st.OpOutcome]:
        """The reply's per-op results in local numbering, with the detail of lost values."""
        return reply.outcomes(base)

    def _next(self, tally: Tally, *, after: int) -> tuple[Batch, int, bytes] | None:
        """Take the next batch after op ``after``, mark it sent and encode it; ``None`` when
        there is nothing left (or the cycle is cancelled)."""
        ctx = self.ctx
        if ctx.cancelled(tally):
            return None
        batch = st.take_batch(ctx.db, self.batch.value, after=after)
        if not batch:
            return None
        base = ctx.base
        self.mark_sent(batch)
        ctx.crash("push.batch_taken")
        hashed = OPTIONAL_HASH not in ctx.features  # a server that computes op_hash need not be sent it
        return batch, base, ctx.client.push_body_text(ctx.device_id, APP_SCHEMA,
                                                      [op.wire_text(base, hashed=hashed) for op in batch])

    def _apply_reply(self, batch: Batch, reply: PushReply, base: int, tally: Tally, total: int,
                     pushed_before: int) -> None:
        ctx = self.ctx
        watermark = reply.last_op_seq + base
        if watermark > st.max_op_seq_allocated(ctx.db):
            raise device_mismatch_error(f"push reply watermark {watermark} beyond our last op")
        summary = st.apply_ack(ctx.db, watermark, self.outcomes(reply, base), crash=ctx.crash)
        ctx.crash("push.acked")
        if summary.acked == 0 and watermark < batch[-1].op_seq:
            # (0 is fine when the previous reply's watermark already covered this batch: replays)
            raise SyncError(ErrorKind.SERVER, detail=f"push acknowledged nothing (watermark {watermark})")
        tally.pushed += summary.acked
        tally.conflicts += summary.conflicts
        tally.rejected += summary.rejected
        tally.unanswered += summary.unanswered
        done = tally.pushed - pushed_before
        ctx.progress(Progress("push", done, max(total, done)))
        self.batch.answered(len(batch))

    def _recover_gap(self, watermark: int, first: int) -> None:
        """The server's log stops before our oldest pending op: it lost ops we hold in the journal."""
        if st.reenqueue_from_journal(self.ctx.db, watermark, crash=self.ctx.crash) == 0:
            raise SyncError(ErrorKind.SERVER, detail=f"gap: server at {watermark}, outbox starts at {first},"
                                                     " journal has nothing in between", code="gap")
