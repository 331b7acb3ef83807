"""The conflicts inbox (``sync_conflicts``): lost values and rejected ops as the officer sees
them, and ``force_edit``, which resolves one by writing and enqueueing a new edit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.store import records
from desmig_desktop.store.sync_store import db_value, immediate


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


def force_edit(db: Database, entity_name: str, record_id: str, fields: dict[str, Any], *, delete: bool = False,
               revive: bool = False, close_conflict: tuple[int, str] | None = None) -> int:
    """Write ``fields`` (or a delete) to the record and enqueue them as one op, even when the local
    copy already holds these values: resolving a conflict or resending a rejection must reach the
    server. Optionally closes a conflict row in the same transaction. Returns the new op_seq."""
    spec = ENTITIES[entity_name]
    unknown = [k for k in fields if not spec.has(k)]
    if unknown:
        raise KeyError(f"unknown fields for {entity_name}: {unknown}")
    with immediate(db):
        current = records.get(db, entity_name, record_id)
        base = int(current["server_version"]) if current else 0
        now = utc_now()
        if current is None and not delete:
            row = {k: db_value(spec.field(k).kind, v) for k, v in fields.items()}
            row.update(id=record_id, deleted=0, server_version=0, created_at=now, updated_at=now)
            db.execute(f"INSERT INTO {entity_name} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       list(row.values()))
        elif current is not None:
            sets = {k: db_value(spec.field(k).kind, v) for k, v in fields.items()}
            sets["updated_at"] = now
            if delete:
                sets["deleted"] = 1
            elif revive:
                sets["deleted"] = 0
            db.execute(f"UPDATE {entity_name} SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                       [*sets.values(), record_id])
        seq = records.enqueue(db, entity_name, record_id, "delete" if delete else "upsert", base,
                              {} if delete else fields)
        changes = {k: ((current or {}).get(k), v) for k, v in fields.items()}
        if delete or (revive and current is not None and current["deleted"]):
            changes["deleted"] = (not delete, delete)
        actor = db.execute("SELECT json_extract(value, '$') FROM settings WHERE key = 'officer_name'").fetchone()
        records.audit(db, at=now, actor=actor[0] if actor else None, source="local", entity_name=entity_name,
                      record_id=record_id, changes=changes, op_seq=seq)
        if close_conflict is not None:
            set_conflict_status(db, *close_conflict)
        household = record_id if entity_name == "households" else (current or fields).get("household_id")
        if household:
            records.refresh_search(db, [household])
    return seq
