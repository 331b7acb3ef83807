"""A laptop database restored from a backup meets the server again (issue 17 §3).

``store.backup`` marks a restored database (sync state ``restored_from_backup``: the device and
the highest op number the backup holds); the sync engine's first hello — or a login, when the
backup's token no longer works — calls ``reconcile_restore`` with the server's watermark for that
device before anything is pushed. Kept apart from ``sync_store`` (the cycle's own transactions).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlite_utils import Database

from desmig_desktop.store.sync_store import (
    K_RESTORED, K_RESTORES, Crash, immediate, max_op_seq_allocated, move_to_journal, no_crash, put_state,
    raise_last_acked, reset_cursors, state,
)

log = logging.getLogger(__name__)


def restored_marker(db: Database) -> dict[str, Any] | None:
    """The restore still to reconcile with the server (``reconcile_restore``), if any."""
    marker = state(db, K_RESTORED)
    return marker if isinstance(marker, dict) else None


def reconcile_restore(db: Database, server_watermark: int, *, crash: Crash = no_crash) -> dict[str, Any]:
    """The first contact after this database was restored from a backup (issue 17 §3).

    The backup holds the device's ops up to ``allocated``; after it was taken, the laptop it came
    from may have sent more of them and made new ones, which the server holds up to its
    watermark. Op numbers of one registration are fixed once handed out (rebasing changes an
    unsent op's base and hash, never its number, fields or record), so:

    * a backup op at or below the watermark is one the server already applied — the same edit,
      perhaps with another base — and is filed as acknowledged, never sent again;
    * ops made on the restored copy got numbers after ``allocated``, which the lost copy may
      have used for other ops the server holds: they move up past the watermark, in order
      (and AUTOINCREMENT's counter with them), so no number is ever reused;
    * the pull cursors start again from 0: what the lost copy changed after the backup comes
      back, and so do the values it lost (the conflicts feed).
    ``server_watermark`` is in local numbering. One transaction; returns what it did.
    """
    with immediate(db):
        marker = restored_marker(db) or {}
        allocated = int(marker.get("allocated", max_op_seq_allocated(db)))
        acked = move_to_journal(db, min(server_watermark, allocated), {})
        raise_last_acked(db, min(server_watermark, allocated))
        shift = max(0, server_watermark - allocated)
        if shift:
            # two steps: the primary key must not collide with itself halfway through
            db.execute("UPDATE sync_outbox SET op_seq = -(op_seq + ?) WHERE op_seq > ?", [shift, allocated])
            db.execute("UPDATE sync_outbox SET op_seq = -op_seq WHERE op_seq < 0")
        crash("restore.reconcile.in_tx")
        top = max(server_watermark, int(db.execute("SELECT coalesce(max(op_seq), 0) FROM sync_outbox").fetchone()[0]))
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            db.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'sync_outbox'", [top])
            if db.execute("SELECT changes()").fetchone()[0] == 0:
                db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_outbox', ?)", [top])
        reset_cursors(db)
        done = {"device_id": marker.get("device_id"), "allocated": allocated, "watermark": server_watermark,
                "shift": shift, "acked": len(acked)}
        put_state(db, K_RESTORES, [*state(db, K_RESTORES, []), done])
        db.execute("DELETE FROM sync_state WHERE key = ?", [K_RESTORED])
    log.warning("restored database reconciled with the server at op %d: %d backup ops were already applied"
                " there; ops made since the restore moved up by %d", server_watermark, len(acked), shift)
    return done
