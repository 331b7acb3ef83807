"""The pull pipeline (DESIGN §4 "Client cycle"): pull each scope to its end, each page applied in
the local transaction of ``sync_pull.apply_pull`` — first dropping the outbox ops the page's
watermark acknowledges (their ack was lost), then the records, then the cursor.

The deliberately broken variant ``no_watermark`` of the negative controls
(``tests/support/broken_sync.py``) is a subclass with ``drop_acked = False``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from desmig_desktop.store import sync_pull as sp
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.context import CycleContext, Progress, Tally
from desmig_desktop.sync.protocol import PullPage

PULL_LIMIT = 1_000


class PullPipeline:
    """Pulls scopes page by page (one ``PullPipeline`` per cycle)."""

    drop_acked = True  # DESIGN §4: without this step replicas diverge permanently

    def __init__(self, ctx: CycleContext, *, limit: int = PULL_LIMIT) -> None:
        self.ctx = ctx
        self.limit = limit

    def pull_all(self, scopes: Sequence[str], tally: Tally, *, latest: Mapping[str, int] | None = None) -> None:
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
        group = sp.PageGroup(self.ctx.db)
        with sp.pull_cache(self.ctx.db):
            try:
                self._pull_pages(scopes, tally, latest, group)
            except BaseException:
                group.close(commit=False)  # the open group's pages (and cursors) are pulled again
                raise
            group.close(commit=True)

    def _pull_pages(self, scopes: Sequence[str], tally: Tally, latest: Mapping[str, int] | None,
                    group: sp.PageGroup) -> None:
        ctx = self.ctx
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-pull") as fetcher:
            for scope in scopes:
                since = st.cursor(ctx.db, scope)
                if latest is not None and latest.get(scope, 0) <= since:
                    continue
                ahead: Future[PullPage] | None = None
                while not ctx.cancelled(tally):
                    page = ahead.result() if ahead is not None else ctx.client.pull(scope, since, self.limit)
                    ahead = None
                    ctx.crash("pull.response")
                    if page.more and page.next > since:
                        ahead = fetcher.submit(ctx.client.pull, scope, page.next, self.limit)
                    group.before_page()
                    summary = sp.apply_pull(ctx.db, scope, page.records, page.next, page.last_op_seq + ctx.base,
                                            drop_acked=self.drop_acked, crash=ctx.crash)
                    ctx.crash("pull.applied")
                    group.after_page()
                    tally.pulled += summary.applied
                    tally.unanswered += summary.dropped
                    ctx.progress(Progress("pull", tally.pulled))
                    if not page.more or page.next <= since:
                        break
                    since = page.next
