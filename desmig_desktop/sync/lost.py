"""The feed of this device's values that lost a conflict, read into the inbox.

The deliberately broken variant ``drop_lost`` of the negative controls
(``tests/support/broken_sync.py``) replaces ``LostFeed`` with one that reads nothing.
"""

from __future__ import annotations

from desmig_desktop.domain.ids import utc_now
from desmig_desktop.store import sync_lost as sl
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.context import CycleContext, Tally
from desmig_desktop.sync.protocol import Hello

LOST_LIMIT = 500  # conflicts per page of the lost-values feed


class LostFeed:
    """Reads ``GET /v1/sync/conflicts`` from the stored cursor on."""

    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx

    def fetch(self, hello: Hello, tally: Tally) -> None:
        """Read the server's feed of values this device lost into the inbox.

        Push results already carry the values that lost on arrival; the feed adds those that lost
        later (a higher role's concurrent edit overwrote ours) and those whose answer was lost.
        Called after the pulls, so the values the pull just overwrote are explained in the same
        cycle; skipped when hello says nothing is new and every op of this cycle got its answer,
        and against a server without the feed (no ``conflict_seq`` in hello).
        """
        ctx = self.ctx
        if hello.conflict_seq is None:
            return
        since = sl.conflict_cursor(ctx.db)
        if hello.conflict_seq > since or tally.unanswered:
            while not ctx.cancelled(tally):
                page = ctx.client.lost_values(since, LOST_LIMIT, ctx.base)
                with st.immediate(ctx.db):
                    tally.conflicts += sl.record_feed(ctx.db, page.items, page.next, utc_now())
                if not page.more or page.next <= since:
                    break
                since = page.next
        self.fetch_resolutions(hello, tally)

    def fetch_resolutions(self, hello: Hello, tally: Tally) -> None:
        """Close in the inbox the conflicts a supervisor or HQ resolved on the server (the value
        itself comes down with the pull). After the feed, so a conflict and its
        resolution read in one cycle end closed; skipped when hello says nothing is new."""
        ctx = self.ctx
        if hello.resolution_seq is None:
            return
        since = sl.resolution_cursor(ctx.db)
        while hello.resolution_seq > since and not ctx.cancelled(tally):
            page = ctx.client.resolutions(since, LOST_LIMIT)
            with st.immediate(ctx.db):
                sl.record_resolutions(ctx.db, page.ids, page.next)
            if not page.more or page.next <= since:
                return
            since = page.next
