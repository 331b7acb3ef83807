"""The questionnaire step of a cycle (issue 16 §3), right after hello and before any pull.

hello says which questionnaire version HQ publishes now. When it is newer than this database's,
the device fetches the document (``GET /v1/questionnaire``) and applies it in one local
transaction (``store.questionnaire_store.apply_document``: the stored document and the new
columns together), so the pull that follows stores the new answers in their columns. A document
this app cannot take (a change that needs a new app: HQ refuses those at publish, this is
defence in depth) is not applied: the cycle goes on under the version the device is on, and the
officer is told why in the cycle's warnings. A failed fetch is no reason to stop syncing either:
the next cycle asks again.

Ops keep naming the version they were validated under, so records saved before the new version
still arrive exactly as they were checked. A server that publishes nothing (hello without
``questionnaire_version``) leaves every device on version 1.

The ``keep_version`` variant (a device still on an older app, for the tests of mixed fleets) is
a subclass the tests build; nothing in the product reads a switch for it.
"""

from __future__ import annotations

import logging

from desmig_desktop.store import questionnaire_store as qs
from desmig_desktop.sync.context import CycleContext, Tally
from desmig_desktop.sync.errors import SyncError
from desmig_desktop.sync.protocol import Hello

log = logging.getLogger(__name__)

FEATURE = "questionnaire"  # hello feature: the server serves GET /v1/questionnaire


class QuestionnaireStep:
    """Brings the database to the questionnaire version HQ publishes (see the module doc)."""

    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx

    def update(self, hello: Hello, tally: Tally) -> None:
        ctx = self.ctx
        wanted = hello.questionnaire_version
        if wanted is None or FEATURE not in hello.features or wanted <= qs.active_version(ctx.db):
            return
        try:
            doc = ctx.client.questionnaire()
        except SyncError as exc:
            if not exc.kind.retry_later:
                raise
            log.warning("questionnaire version %d not fetched, will retry next cycle: %r", wanted, exc)
            return
        try:
            applied = qs.apply_document(ctx.db, doc, crash=ctx.crash)
        except qs.QuestionnaireRefused as exc:
            log.warning("questionnaire version %d refused: %s", wanted, "; ".join(exc.reasons))
            tally.warnings.append(f"{exc} ({'; '.join(exc.reasons[:3])})")
            return
        if applied is not None:
            log.info("questionnaire version %d applied: %d new question(s)", applied.version, len(applied.new_fields))
            tally.questionnaire = applied
