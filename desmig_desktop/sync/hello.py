"""The first step of a cycle: ``GET /v1/sync/hello`` and everything it decides before anything
is pushed or pulled.

hello refuses a schema outside the server's window (``TOO_OLD``); warns when the laptop clock is
more than 10 minutes off (never used for ordering); detects a server restored from a backup
(its watermark below our last ack → re-enqueue from the journal; a pull cursor beyond the
server's newest change → pull again); reconciles a laptop database restored from a backup with
the server's watermark (``sync_restore.reconcile_restore``) before anything is pushed; rotates
the token before it expires (server clock).
"""

from __future__ import annotations

import datetime as dt
import logging

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ops import APP_SCHEMA
from desmig_desktop.domain.release import is_older
from desmig_desktop.store import journal_retention
from desmig_desktop.store import sync_lost as sl
from desmig_desktop.store import sync_restore as sr
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.context import CycleContext, Tally
from desmig_desktop.sync.errors import ErrorKind, SyncError, device_mismatch_error
from desmig_desktop.sync.protocol import Hello

log = logging.getLogger(__name__)

CLOCK_WARNING_S = 10 * 60
ROTATE_WITHIN_S = 30 * 86_400  # renew the token this long before it expires (by the server's clock)


def parse_time(text: str) -> dt.datetime | None:
    """An ISO-8601 time of the server (UTC when it names no zone); ``None`` if unreadable."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def greet(ctx: CycleContext, tally: Tally) -> Hello:
    """Say hello and act on the answer (see the module doc); raises ``SyncError`` to stop the cycle."""
    db = ctx.db
    sent_at = ctx.now()
    hello = ctx.client.hello()
    ctx.features = hello.features
    server_time = check_clock(ctx, hello, sent_at, ctx.now(), tally)
    if hello.update is not None:
        # Kept before any refusal below: an app too old to sync must still learn of the update.
        announced = hello.update.as_dict()
        if announced != st.state(db, st.K_UPDATE):
            st.put_state(db, st.K_UPDATE, announced)
    if hello.min_schema > APP_SCHEMA:
        raise SyncError(ErrorKind.TOO_OLD, detail=f"app schema {APP_SCHEMA} < {hello.min_schema}")
    if hello.max_schema < APP_SCHEMA:
        raise SyncError(ErrorKind.SERVER, _("Server belum mendukung versi aplikasi ini."),
                        detail=f"app schema {APP_SCHEMA} > {hello.max_schema}")
    if hello.conflict_seq is not None and sl.conflict_cursor(db) > hello.conflict_seq:
        # Our feed cursor is beyond the newest conflict the server has for this device: it was
        # restored from a backup (or this is a new registration). Read the feed again;
        # conflicts we hold are recognised by their id, record and field.
        with st.immediate(db):
            sl.set_conflict_cursor(db, 0)
    if hello.resolution_seq is not None and sl.resolution_cursor(db) > hello.resolution_seq:
        with st.immediate(db):  # the same for the resolutions (a resolved row stays resolved)
            sl.set_resolution_cursor(db, 0)
    if list(hello.scopes) != st.state(db, st.K_SCOPES):
        st.put_state(db, st.K_SCOPES, list(hello.scopes))
    if hello.role and hello.role != st.state(db, st.K_ROLE):
        st.put_state(db, st.K_ROLE, hello.role)
    detect_restores(ctx, hello)
    rotate_token_if_due(ctx, hello, server_time)  # also when too old: the token must live until it updates
    if hello.update is not None and is_older(ctx.client.app_version, hello.update.min_version):
        raise SyncError(ErrorKind.TOO_OLD, detail=f"app {ctx.client.app_version} < {hello.update.min_version}")
    ctx.crash("hello.done")
    return hello


def check_clock(ctx: CycleContext, hello: Hello, sent_at: dt.datetime, received_at: dt.datetime,
                tally: Tally) -> dt.datetime | None:
    """Note the laptop clock's offset from the server's (mid-request); warn beyond 10 minutes.
    Informational only: nothing is ever ordered by a device clock. Returns the server's time."""
    server_time = parse_time(hello.server_time)
    if server_time is not None:
        offset = (server_time - (sent_at + (received_at - sent_at) / 2)).total_seconds()
        tally.clock_offset_s = round(offset, 1)
        st.put_state(ctx.db, st.K_CLOCK_OFFSET, tally.clock_offset_s)
        if abs(offset) > CLOCK_WARNING_S:
            tally.warnings.append(_("Jam laptop berbeda {minutes} menit dari server. Periksa tanggal dan jam"
                                    " laptop.", minutes=round(abs(offset) / 60)))
    return server_time


def detect_restores(ctx: CycleContext, hello: Hello) -> None:
    """Either side restored from a backup: reconcile this laptop's, refill the server's (DESIGN §4)."""
    db = ctx.db
    watermark = hello.last_op_seq + ctx.base
    restored = sr.restored_marker(db)
    if restored is not None:
        # Restored from a backup: the server may hold ops of this device the backup lacks.
        if restored.get("device_id") == ctx.device_id:
            sr.reconcile_restore(db, watermark, crash=ctx.crash)
        else:  # registered anew since the restore (``sync_service.login`` reconciled then)
            with st.immediate(db):
                st.put_state(db, st.K_RESTORED, None)
    if watermark > st.max_op_seq_allocated(db):
        raise device_mismatch_error(f"server watermark {watermark} beyond our last op")
    if watermark < st.last_acked(db):
        missing = journal_retention.missing_for_refill(db, watermark)
        if missing is not None:  # checked before anything changes here: HQ can restore a younger backup
            raise SyncError(ErrorKind.SERVER, _(
                "Server HQ dipulihkan dari cadangan yang lebih lama dari riwayat kiriman yang disimpan laptop"
                " ini ({days} hari). Hubungi admin HQ.", days=journal_retention.KEEP_DAYS),
                detail=f"server at {watermark}; journal no longer holds ops {missing[0]}..{missing[1]}",
                code="journal_pruned")
        st.reenqueue_from_journal(db, watermark, crash=ctx.crash)
    elif hello.scope_seqs is not None:
        # A laptop that only pulled since the server's backup cannot tell by its watermark; a
        # cursor beyond the newest change the server has in that scope tells it.
        ahead = [s for s in hello.scopes if st.cursor(db, s) > hello.scope_seqs.get(s, 0)]
        if ahead:
            log.warning("server is behind our pull cursors (%s): restored from backup? pulling again",
                        ", ".join(ahead))
            with st.immediate(db):
                st.forget_server_position(db)


def rotate_token_if_due(ctx: CycleContext, hello: Hello, server_time: dt.datetime | None) -> None:
    """Renew the token well before it expires, judged by the server's clock alone. A lost
    rotate reply is harmless: the old token works until the new one is first used."""
    expires = parse_time(hello.token_expires_at or "")
    if expires is None or server_time is None or (expires - server_time).total_seconds() > ROTATE_WITHIN_S:
        return
    try:
        fresh = ctx.client.rotate()
    except SyncError as exc:
        log.warning("token rotation failed, will retry next cycle: %r", exc)
        return
    st.store_token(ctx.db, fresh.token, fresh.token_expires_at)
    ctx.client.token = fresh.token
    log.info("device token rotated; now valid until %s", fresh.token_expires_at)
