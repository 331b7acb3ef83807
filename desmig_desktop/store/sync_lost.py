"""Values of this laptop that lost a conflict on the server, as the server describes them
stored in ``sync_conflicts`` for the officer's inbox.

They come from a push result (the op lost on arrival; a replayed push answers the same), or
from the server's per-device feed (``GET /v1/sync/conflicts``: the value lost later, or the
push answer was lost and the pull's watermark acknowledged the op without its result). The same
conflict may come by both roads: its server id makes the second insert a no-op. The feed's
cursor is a conflict id, kept in ``sync_state`` beside (not among) the pull cursors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

K_CONFLICT_CURSOR = "conflict_cursor"  # newest server conflict id fetched from the feed
K_RESOLUTION_CURSOR = "resolution_cursor"  # newest resolution number read (``GET /v1/sync/resolutions``)


@dataclass(frozen=True)
class LostValue:
    """One field of ours that lost: the winning value, who won and why (``rule``: ``higher_role``,
    ``later_arrival`` or ``delete_edit``). Record, ``mine`` and ``op_seq`` are set by the feed; a
    push result leaves them to the op it answers."""

    server_id: int
    field: str
    theirs: Any
    winner_role: str | None
    winner_user: str | None
    rule: str | None
    entity: str = ""
    record_id: str = ""
    mine: Any = None
    op_seq: int | None = None  # local numbering
    closed: bool = False  # already resolved on the server when it reached us


def record_lost(db: Database, entity: str, record_id: str, mine: Any, lost: LostValue, *, op_seq: int | None,
                reason: str | None, now: str) -> int:
    """Store one lost value (inside the caller's transaction); 1 if new, 0 if already known."""
    cur = db.conn.execute(
        "INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, theirs, reason, op_seq, status, created_at,"
        " server_id, winner_role, winner_user, rule) VALUES ('conflict', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (server_id, entity, record_id, field) DO NOTHING",
        [entity, record_id, lost.field, json.dumps(mine, ensure_ascii=False),
         json.dumps(lost.theirs, ensure_ascii=False), reason, op_seq, "resolved" if lost.closed else "open", now,
         lost.server_id, lost.winner_role, lost.winner_user, lost.rule])
    return cur.rowcount


def record_feed(db: Database, items: Sequence[LostValue], next_cursor: int, now: str) -> int:
    """Store one page of the feed and advance its cursor (inside the caller's transaction)."""
    added = sum(record_lost(db, v.entity, v.record_id, v.mine, v, op_seq=v.op_seq, reason=None, now=now)
                for v in items)
    if next_cursor > conflict_cursor(db):
        set_conflict_cursor(db, next_cursor)
    return added


def conflict_cursor(db: Database) -> int:
    row = db.execute("SELECT value FROM sync_state WHERE key = ?", [K_CONFLICT_CURSOR]).fetchone()
    return int(json.loads(row[0])) if row and row[0] is not None else 0


def set_conflict_cursor(db: Database, value: int) -> None:
    db.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [K_CONFLICT_CURSOR, json.dumps(value)])


def resolution_cursor(db: Database) -> int:
    row = db.execute("SELECT value FROM sync_state WHERE key = ?", [K_RESOLUTION_CURSOR]).fetchone()
    return int(json.loads(row[0])) if row and row[0] is not None else 0


def set_resolution_cursor(db: Database, value: int) -> None:
    db.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [K_RESOLUTION_CURSOR, json.dumps(value)])


def record_resolutions(db: Database, server_ids: Sequence[int], next_cursor: int) -> int:
    """Close the inbox rows of conflicts a supervisor or HQ resolved on the server,
    inside the caller's transaction; advance the cursor. A row the officer already acted on
    (kept mine, accepted, ...) keeps its status; a conflict not held yet arrives later from the
    feed with the server's status. Returns how many rows were closed."""
    closed = 0
    for i in range(0, len(server_ids), 500):
        chunk = list(server_ids[i:i + 500])
        cur = db.conn.execute(f"UPDATE sync_conflicts SET status = 'resolved' WHERE status = 'open' AND server_id IN"
                              f" ({', '.join('?' * len(chunk))})", chunk)
        closed += cur.rowcount
    if next_cursor > resolution_cursor(db):
        set_resolution_cursor(db, next_cursor)
    return closed
