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
from desmig_desktop.sync.protocol import PullPage, ScopesPage

PULL_LIMIT = 1_000
MAX_SCOPES = 64  # scopes named in one request (the server's ``MAX_SCOPES_PER_PULL``)


class PullPipeline:
    """Pulls scopes page by page (one ``PullPipeline`` per cycle)."""

    drop_acked = True  # DESIGN §4: without this step replicas diverge permanently

    def __init__(self, ctx: CycleContext, *, limit: int = PULL_LIMIT) -> None:
        self.ctx = ctx
        self.limit = limit

    def own_window(self) -> tuple[int, int] | None:
        """The window of our own answered ops a pull sends (``sync_store.own_window``): the server
        leaves out versions that only echo what this laptop holds."""
        return st.own_window(self.ctx.db)

    def pull_all(self, scopes: Sequence[str], tally: Tally, *, latest: Mapping[str, int] | None = None,
                 together: bool = False) -> None:
        """Pull each scope to its end. ``latest`` (hello's ``scope_seqs``): a scope whose newest
        change our cursor has already reached is skipped — its page would be empty. ``together``
        (a server with feature ``changes``): pages of several scopes at once, one request where
        a per-scope pull needed one per village.

        While one page is applied, the next one (its cursor is known once a page arrives) is
        already being fetched on a helper thread, so the server's work on page N+1 overlaps ours
        on page N. Pages are still applied one at a time, in order, on this thread; a page
        fetched ahead and never applied (cancel, error) is dropped — a pull changes nothing on
        the server. Consecutive pages share one write transaction (``sp.PageGroup``: at most
        16 pages or half a second, so a save in the GUI waits at most that long for the lock);
        the last group is committed before this returns, an error rolls back only the open one.
        """
        group = sp.PageGroup(self.ctx.db)
        todo = [s for s in scopes if latest is None or latest.get(s, 0) > st.cursor(self.ctx.db, s)]
        with sp.pull_cache(self.ctx.db):
            try:
                if together:
                    self._pull_together(todo, tally, group)
                else:
                    self._pull_pages(todo, tally, group)
            except BaseException:
                group.close(commit=False)  # the open group's pages (and cursors) are pulled again
                raise
            group.close(commit=True)

    def _pull_together(self, scopes: Sequence[str], tally: Tally, group: sp.PageGroup) -> None:
        """Pages of several scopes (``GET /v1/sync/changes``), at most ``MAX_SCOPES`` named per
        request; each page's scopes and cursors applied in one transaction, the next page
        fetched while this one is applied (as ``_pull_pages``)."""
        ctx = self.ctx
        todo = list(scopes)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-pull") as fetcher:
            ahead: Future[ScopesPage] | None = None
            while todo and not ctx.cancelled(tally):
                asked = [(s, st.cursor(ctx.db, s)) for s in todo[:MAX_SCOPES]]
                page = ahead.result() if ahead is not None else ctx.client.pull_scopes(
                    asked, self.limit, self.own_window())
                ahead = None
                ctx.crash("pull.response")
                if not page.cursors and tuple(page.unfinished) == tuple(s for s, _ in asked):
                    break  # (a server that moved nothing: never loop on it)
                later = [*page.unfinished, *todo[len(asked):]]
                if later:  # its cursors are known now: the page's, or ours for scopes not reached
                    after = {**dict(asked), **page.cursors}
                    ahead = fetcher.submit(ctx.client.pull_scopes, [(s, after.get(s, st.cursor(ctx.db, s)))
                                                                    for s in later[:MAX_SCOPES]],
                                           self.limit, self.own_window())
                group.before_page()
                summary = sp.apply_page(ctx.db, page.cursors, page.records, page.last_op_seq + ctx.base,
                                        drop_acked=self.drop_acked, crash=ctx.crash)
                ctx.crash("pull.applied")
                group.after_page()
                tally.pulled += summary.applied
                tally.unanswered += summary.dropped
                ctx.progress(Progress("pull", tally.pulled))
                todo = later

    def _pull_pages(self, scopes: Sequence[str], tally: Tally, group: sp.PageGroup) -> None:
        ctx = self.ctx
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-pull") as fetcher:
            for scope in scopes:
                since = st.cursor(ctx.db, scope)
                ahead: Future[PullPage] | None = None
                while not ctx.cancelled(tally):
                    page = ahead.result() if ahead is not None else ctx.client.pull(
                        scope, since, self.limit, self.own_window())
                    ahead = None
                    ctx.crash("pull.response")
                    if page.more and page.next > since:
                        ahead = fetcher.submit(ctx.client.pull, scope, page.next, self.limit, self.own_window())
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
