"""Retention of the bookkeeping rows that would otherwise grow forever (``desmig-hq prune``).

**applied_ops** (one row per op a device pushed) exists to answer a *replay* — an op at or below
the device's watermark, re-sent because its reply was lost — with the original result, after
checking its hash. A row is kept ``Settings.applied_ops_retention_s`` (90 days, the device token
lifetime: ``DESMIG_HQ_APPLIED_OPS_RETENTION_DAYS``) after the op was applied, then deleted; the
device remembers up to which op its rows went (``devices.applied_pruned_through``). Exactly-once
does not depend on these rows: the watermark (``devices.last_op_seq``) is never pruned, and every
op at or below it is a replay that is never applied again. A replay whose row was pruned is
answered with status ``pruned`` (version 0): "applied once, long ago; its result is no longer
kept" — the client files it as acknowledged and its next pull brings the record as it is now.
What is lost past the window is only the hash check of such a replay (a cloned laptop replaying
months-old op numbers is still caught as soon as it sends a fresh op: ``gap`` or a watermark
beyond its own last op) and the per-op detail of the original result (conflicts stay in the
``conflicts`` table).

**login_attempts**: a row whose counting window has passed and whose lock has expired behaves
exactly like no row (``auth.lockout.begin_attempt`` restarts the count), so it is deleted.

**web_sessions**: expired dashboard sessions are deleted.

Per device, pruning takes the device row's lock first, as a push does, so a push of that device
sees either all of its rows or the pruned state with the new ``applied_pruned_through``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update

from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    applied_ops: int
    login_attempts: int
    web_sessions: int


def iso_utc(epoch: float) -> str:
    """``epoch`` in the format of ``utc_now`` (``applied_at``), so text comparison orders it."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def prune(db: Database, settings: Settings, now: float | None = None) -> Pruned:
    """Delete what the retention rules above allow; return the counts."""
    now = time.time() if now is None else now
    cutoff = iso_utc(now - settings.applied_ops_retention_s)
    a, d = t.applied_ops.c, t.devices.c
    with db.read() as conn:
        candidates = list(conn.execute(select(d.device_id).where(d.last_op_seq > d.applied_pruned_through)).scalars())
    ops = 0
    for device_id in candidates:
        with db.write() as conn:
            done = conn.execute(select(d.applied_pruned_through).where(d.device_id == device_id)
                                .with_for_update()).scalar_one()
            # only the rows not pruned yet are read (a range of the primary key)
            through = conn.execute(select(func.max(a.op_seq)).where(
                a.device_id == device_id, a.op_seq > done, a.applied_at < cutoff)).scalar()
            if through is None:
                continue
            ops += conn.execute(delete(t.applied_ops).where(a.device_id == device_id, a.op_seq <= through)).rowcount
            conn.execute(update(t.devices).where(d.device_id == device_id, d.applied_pruned_through < through)
                         .values(applied_pruned_through=through))
    la = t.login_attempts.c
    with db.write() as conn:
        attempts = conn.execute(delete(t.login_attempts).where(
            la.window_started_at < now - settings.lockout_window_s,
            or_(la.locked_until.is_(None), la.locked_until <= now))).rowcount
        sessions = conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at <= now)).rowcount
    log.info("pruned applied_ops=%d login_attempts=%d web_sessions=%d", ops, attempts, sessions)
    return Pruned(ops, attempts, sessions)
