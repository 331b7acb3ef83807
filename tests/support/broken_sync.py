"""Deliberately broken sync engines for the negative controls (DESIGN §4: the suite must catch
each, or it has no teeth). They live here, not in the product: a test builds one and hands its
parts to ``SyncEngine`` (``engine_parts``), so nothing in ``desmig_desktop`` reads a switch for
them. The third variant of the design, a non-AUTOINCREMENT ``op_seq``, is a schema change made
by the tests themselves (``tests/faults/test_negative_controls.strip_autoincrement``).
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.context import Tally
from desmig_desktop.sync.lost import LostFeed
from desmig_desktop.sync.protocol import Hello, PushReply
from desmig_desktop.sync.pull import PullPipeline
from desmig_desktop.sync.push import Batch, PushPipeline


class BrokenVariant(Enum):
    """The deliberately wrong engines."""

    ACK_EARLY = "ack_early"  # move ops to the journal before the server answers
    NO_WATERMARK = "no_watermark"  # pull keeps outbox ops the server already acknowledged
    DROP_LOST = "drop_lost"  # ignore the server's detail of lost values (push results and feed)
    SKIP_TOO_MUCH = "skip_too_much"  # pull claims answers it never applied: its own unanswered ops don't come down


class AckEarlyPush(PushPipeline):
    """Acknowledges each batch as soon as it is taken, before the server has answered."""

    def mark_sent(self, batch: Batch) -> None:
        super().mark_sent(batch)
        st.apply_ack(self.ctx.db, batch[-1].op_seq, [])


class NoWatermarkPull(PullPipeline):
    """Keeps the outbox ops a pulled page's watermark acknowledges (their ack was lost)."""

    drop_acked = False


class DropLostPush(PushPipeline):
    """Ignores the detail of the values an op lost (the push result's ``conflicts``)."""

    def outcomes(self, reply: PushReply, base: int) -> list[st.OpOutcome]:
        return [dataclasses.replace(o, lost=()) for o in super().outcomes(reply, base)]


class SkipTooMuchPull(PullPipeline):
    """Tells the server every op this laptop ever numbered was answered here — also those whose
    answer was lost — so a version made by such an op is left out although the laptop never
    learned it (issue 21 §1: only ops whose answers were applied may be left out)."""

    def own_window(self) -> tuple[int, int] | None:
        db = self.ctx.db
        top = st.max_op_seq_allocated(db) - st.op_seq_base(db)
        return (0, top) if top > 0 else None


class NoLostFeed(LostFeed):
    """Never reads the feed of values that lost later."""

    def fetch(self, hello: Hello, tally: Tally) -> None:
        return None


_PARTS: dict[BrokenVariant, dict[str, type[Any]]] = {
    BrokenVariant.ACK_EARLY: {"push": AckEarlyPush},
    BrokenVariant.NO_WATERMARK: {"pull": NoWatermarkPull},
    BrokenVariant.DROP_LOST: {"push": DropLostPush, "lost": NoLostFeed},
    BrokenVariant.SKIP_TOO_MUCH: {"pull": SkipTooMuchPull},
}


def engine_parts(variant: BrokenVariant | None) -> dict[str, type[Any]]:
    """``SyncEngine`` keyword arguments building ``variant`` (none: the real engine)."""
    return dict(_PARTS[variant]) if variant is not None else {}
