"""The conflicts inbox (``sync_conflicts``): lost values and rejected ops as the officer sees
them, and ``force_edit``, which resolves one by writing and enqueueing a new edit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.store import records
from desmig_desktop.store.sync_store import immediate


@dataclass(frozen=True)
class ConflictRow:
    id: int
    kind: str  # conflict | rejected
    entity: str
    record_id: str
    field: str | None
    mine: Any
    theirs: Any
    reason: str | None
    op_seq: int | None
    status: str
    created_at: str
    # the server's detail of a lost value (None from an older server, and for rejections)
    winner_role: str | None = None
    winner_user: str | None = None
    rule: str | None = None  # higher_role | later_arrival | delete_edit


def conflict_rows(db: Database, *, statuses: Sequence[str] = ("open",)) -> list[ConflictRow]:
    marks = ", ".join("?" * len(statuses))
    cur = db.execute("SELECT id, kind, entity, record_id, field, mine, theirs, reason, op_seq, status, created_at,"
                     f" winner_role, winner_user, rule FROM sync_conflicts WHERE status IN ({marks}) ORDER BY id",
                     list(statuses))
    return [ConflictRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] is not None else None,
                        json.loads(r[6]) if r[6] is not None else None, r[7], r[8], r[9], r[10], r[11], r[12], r[13])
            for r in cur.fetchall()]


def conflict_row(db: Database, conflict_id: int) -> ConflictRow | None:
    found = [r for r in conflict_rows(db, statuses=("open", "kept_mine", "accepted", "resent", "dismissed"))
             if r.id == conflict_id]
    return found[0] if found else None


def set_conflict_status(db: Database, conflict_id: int, status: str) -> None:
    db.execute("UPDATE sync_conflicts SET status = ? WHERE id = ?", [status, conflict_id])


def set_theirs(db: Database, conflict_id: int, theirs: Any) -> None:
    """The value that now holds where mine lost (the record changed again since the row was filled)."""
    db.execute("UPDATE sync_conflicts SET theirs = ? WHERE id = ?",
               [json.dumps(theirs, ensure_ascii=False), conflict_id])


def force_edit(db: Database, entity_name: str, record_id: str, fields: dict[str, Any], *, base: records.Base,
               delete: bool = False, revive: bool = False, close_conflict: tuple[int, str] | None = None) -> int:
    """Write ``fields`` (or a delete) to the record and enqueue them as one op, as an edit made on
    ``base`` (what the officer saw in the inbox): every field whose value differs from the base's
    is sent, even when the local copy already holds it — resolving a conflict or resending a
    rejection must reach the server — and ``base.version`` lets the server see a change made
    since. Optionally closes a conflict row in the same transaction. Returns the new op_seq."""
    change = records.Change(entity_name, record_id, fields, delete=delete, undelete=revive, base=base)
    with immediate(db):
        seqs = records.apply_changes(db, [change])
        if close_conflict is not None:
            set_conflict_status(db, *close_conflict)
    return seqs[0] if seqs else 0
