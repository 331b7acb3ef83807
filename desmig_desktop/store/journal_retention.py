"""How long the laptop keeps acknowledged ops in ``sync_journal``, and what that means for a
server restored from a backup (DESIGN §4: the journal is what refills it).

**Rule.** An entry is deleted once it was acknowledged more than ``KEEP_DAYS`` (180) days ago
*and* it is not among the newest ``KEEP_MIN_OPS`` (10,000) entries. Pruning runs at the end of
a successful sync, at most once a day. The count floor means a laptop clock that was or is far
off can never empty the journal of recent work.

**Restores.** A server restored from a backup re-learns every op acknowledged after that backup
from the journals (the laptops re-send them with the same numbers and hashes). So HQ must restore
from a backup younger than ``KEEP_DAYS`` days (SECURITY.md, desmig_server/README.md). If it
restores an older one, a laptop whose journal no longer holds the first op the server is missing
stops with a clear error (``journal_pruned``, the officer is told to contact HQ) *before*
changing anything, instead of re-sending a partial history with a hole in it; HQ then restores a
younger backup. The laptop's own records are never touched by pruning.
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from desmig_desktop.store import sync_store as st

KEEP_DAYS = 180
KEEP_MIN_OPS = 10_000
K_PRUNED_AT = "journal_pruned_at"
_PRUNE_EVERY = dt.timedelta(days=1)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # as ``utc_now``


def prune_journal(db: Database, now: dt.datetime | None = None, *, keep_days: int = KEEP_DAYS,
                  keep_min: int = KEEP_MIN_OPS, force: bool = False) -> int:
    """Apply the rule above (at most once a day unless ``force``); return the entries deleted."""
    now = now or dt.datetime.now(dt.UTC)
    last = st.state(db, K_PRUNED_AT)
    if not force and isinstance(last, str) and last > _iso(now - _PRUNE_EVERY):
        return 0
    with st.immediate(db):
        bound: int | None = None  # the oldest of the newest ``keep_min`` entries: kept, like all after it
        if keep_min > 0:
            row = db.execute("SELECT op_seq FROM sync_journal ORDER BY op_seq DESC LIMIT 1 OFFSET ?",
                             [keep_min - 1]).fetchone()
            bound = int(row[0]) if row is not None else None
        deleted = 0
        if keep_min <= 0 or bound is not None:
            db.execute("DELETE FROM sync_journal WHERE op_seq < ? AND acked_at < ?",
                       [bound if bound is not None else 2**63 - 1, _iso(now - dt.timedelta(days=keep_days))])
            deleted = int(db.execute("SELECT changes()").fetchone()[0])
        st.put_state(db, K_PRUNED_AT, _iso(now))
    return deleted


def missing_for_refill(db: Database, server_watermark: int) -> tuple[int, int] | None:
    """The ops ``(first, last)`` a server at ``server_watermark`` (below our last ack: restored
    from a backup) lacks and the journal can no longer re-send; ``None`` when it holds them all.

    Pruning deletes the oldest entries only, so the journal covers the range exactly when its
    first entry above the floor is the op right after it.
    """
    floor, acked = max(server_watermark, st.op_seq_base(db)), st.last_acked(db)
    if acked <= floor:
        return None
    first = db.execute("SELECT min(op_seq) FROM sync_journal WHERE op_seq > ?", [floor]).fetchone()[0]
    if first is not None and int(first) == floor + 1:
        return None
    return floor + 1, (int(first) - 1 if first is not None else acked)
