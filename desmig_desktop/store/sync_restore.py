"""A laptop database restored from a backup, or registered again, meets the server.

``store.backup`` marks a restored database (sync state ``restored_from_backup``: the device and
the highest op number the backup holds); the sync engine's first hello — or a login, when the
backup's token no longer works — calls ``reconcile_restore`` with the server's watermark for that
device before anything is pushed. Kept apart from ``sync_store`` (the cycle's own transactions).

**Lineage.** Every copy of one laptop database — the laptop itself, its backups, a restore on a
new laptop — numbers its ops the same way (``op_seq`` only grows, and a restored copy moves its
own new ops past the server's watermark before sending any). The database's *lineage* id
(``ensure_lineage``, kept in its backups) names that numbering to HQ at every login
(``lineage_claim``, the server's ``auth.lineage``): HQ lets the lineage's live device carry on, or
fences it and starts a new device at the lineage's watermark, which ``register_successor`` files
as acknowledged — whichever device id, and whichever copy, sent those ops.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlite_utils import Database

from desmig_desktop.store.sync_store import (
    K_DEVICE_ID,
    K_LAST_ACK,
    K_REGISTRATIONS,
    K_RESTORED,
    K_RESTORES,
    Crash,
    fresh_base,
    immediate,
    last_acked,
    max_op_seq_allocated,
    move_to_journal,
    no_crash,
    put_state,
    raise_last_acked,
    register_device,
    reset_cursors,
    state,
)

log = logging.getLogger(__name__)

K_LINEAGE = "lineage"  # this database's lineage id (``desmig_server.auth.lineage``); copied into its backups
MAX_EARLIER = 50  # earlier registrations named at a login (the server adopts at most that many)


def restored_marker(db: Database) -> dict[str, Any] | None:
    """The restore still to reconcile with the server (``reconcile_restore``), if any."""
    marker = state(db, K_RESTORED)
    return marker if isinstance(marker, dict) else None


def reconcile_restore(db: Database, server_watermark: int, *, crash: Crash = no_crash) -> dict[str, Any]:
    """The first contact after this database was restored from a backup.

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


# -- lineage -------------------------------------------------------------------------------------
def ensure_lineage(db: Database) -> str:
    """This database's lineage id, made once and then kept (also in every backup). A database an
    older app registered takes its first device's id, so copies made before this app (a backup
    from then, restored now) find the same one; a database never registered gets a random id."""
    found = state(db, K_LINEAGE)
    if isinstance(found, str) and found:
        return found
    regs = state(db, K_REGISTRATIONS, [])
    first = regs[0].get("device_id") if regs and isinstance(regs[0], dict) else state(db, K_DEVICE_ID)
    lineage = str(first) if first else str(uuid.uuid4())
    with immediate(db):
        put_state(db, K_LINEAGE, lineage)
    return lineage


def leave_lineage(db: Database) -> str:
    """This database is a copy whose ops differ from what HQ holds under its numbering (a cloned
    database, caught by a replay mismatch): it must not succeed the original's device. A new
    lineage id makes its next login a new device with its own numbering; its pending ops go out
    there once, and the original is not fenced."""
    lineage = str(uuid.uuid4())
    with immediate(db):
        put_state(db, K_LINEAGE, lineage)
    log.warning("this database's ops differ from the server's log of its lineage: it leaves the lineage")
    return lineage


def lineage_claim(db: Database, server_url: str) -> dict[str, Any]:
    """What a login tells the server about this database (the register request's ``lineage``): its
    id, where a lineage new to the server starts, and its earlier devices there (an older app's
    registrations, adopted into the lineage so their ops count)."""
    regs = [r for r in state(db, K_REGISTRATIONS, []) if r.get("server_url", server_url) == server_url]
    return {"id": ensure_lineage(db), "base": fresh_base(db),
            "devices": [{"device_id": str(r["device_id"]), "base": int(r["op_seq_base"])}
                        for r in regs[-MAX_EARLIER:]]}


def register_successor(db: Database, *, server_url: str, username: str, device_id: str, token: str,
                       device_name: str, token_expires_at: str | None, lineage_base: int,
                       same_feed: bool, restored: bool) -> None:
    """Store a new device that continues this database's lineage from ``lineage_base`` (its
    watermark on the server), in one transaction with what that watermark settles:

    * ops up to it are at HQ already — sent under an earlier device whose answer was lost, or by
      another copy of this database — and are filed as acknowledged, never sent again;
    * a database restored and not yet reconciled settles its backup the same way
      (``reconcile_restore``: its own newer ops move up past the watermark);
    * an ack this laptop holds beyond the watermark means HQ lost ops (restored from a backup):
      the last ack stays, so the next hello refills them from the journal under the new device.
    The caller has checked that the watermark is not beyond this database's own ops (a clone).
    """
    with immediate(db):
        previous = last_acked(db)
        if restored:
            reconcile_restore(db, lineage_base)
        else:
            move_to_journal(db, lineage_base, {})
        register_device(db, server_url=server_url, username=username, device_id=device_id, token=token,
                        device_name=device_name, token_expires_at=token_expires_at, base=lineage_base)
        if same_feed and previous > lineage_base:
            put_state(db, K_LAST_ACK, previous)
    log.info("registered as a new device of this database's lineage at op %d", lineage_base)
