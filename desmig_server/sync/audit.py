"""The server's change history: collected while ops apply, written in the same transaction.

One row per op (or conflict resolution) and record it changed, holding every field it changed
as ``{field: [old, new]}``: the applied changes, the losing values of a conflict (their own row,
outcome ``conflict_lost``), deletions (field ``deleted``) — never updated, never deleted. Replays
are not applied again, so each change appears exactly once. Values are personal data (NIK,
phone numbers): they go to ``record_history`` and to authorised readers of ``GET
/v1/records/{entity}/{id}/history`` only — never into a log line.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from desmig_desktop.domain.jsontext import stored_sorted
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.bulk import insert_rows
from desmig_server.db.engine import Database
from desmig_server.errors import ApiError, forbidden
from desmig_server.sync.models import PushOp
from desmig_server.sync.state import Rec

APPLIED = "applied"
CONFLICT_WON = "conflict_won"  # applied over a concurrent change; the old value is the losing value
CONFLICT_LOST = "conflict_lost"  # not applied; the new value is the losing value
CASCADE = "cascade"  # deleted because its parent was
DELETED_FIELD = "deleted"


_COLUMNS = ("entity", "record_id", "scope", "version", "username", "device_id", "role", "op_seq", "at", "outcome",
            "changes")
assert set(_COLUMNS) == {c.name for c in t.record_history.columns if c.name != "id"}, "history columns changed"

# (entity, record_id, scope, version, op_seq, outcome): what one history row is about
_Key = tuple[str, str, str, int, "int | None", str]


class AuditTrail:
    """The history rows of one transaction, all by one principal at one server time."""

    def __init__(self, actor: Principal, now: str) -> None:
        self.actor = actor
        self.now = now
        self._rows: dict[_Key, dict[str, list[Any]]] = {}  # in order of first change

    def fields(self, op: PushOp, scope: str, version: int, outcome: str, record_id: str | None = None,
               entity: str | None = None) -> dict[str, list[Any]]:
        """The ``{field: [old, new]}`` of one row, for the caller to fill (an empty one is not written)."""
        # op_seq 0 marks an op made by the server (a conflict resolution), not sent by a device
        key = (entity or op.entity, record_id or op.id, scope, version, op.op_seq or None, outcome)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = {}
        return row

    def change(self, op: PushOp, scope: str, version: int, field: str, old: Any, new: Any, outcome: str,
               record_id: str | None = None, entity: str | None = None) -> None:
        self.fields(op, scope, version, outcome, record_id, entity)[field] = [old, new]

    def deletion(self, op: PushOp, rec: Rec, version: int, outcome: str) -> None:
        self.change(op, rec.scope, version, DELETED_FIELD, False, True, outcome, record_id=rec.id,
                    entity=rec.entity)

    def lost_fields(self, op: PushOp, scope: str, version: int, stored: dict[str, Any],
                    incoming: dict[str, Any]) -> None:
        """An edit refused whole (its record or parent was deleted concurrently)."""
        row = self.fields(op, scope, version, CONFLICT_LOST)
        for key in incoming:
            row[key] = [stored.get(key), incoming[key]]

    def write(self, conn: Connection) -> None:
        """Insert the collected rows in ``conn``'s transaction (each driver's bulk path, ``db.bulk``)."""
        a = self.actor
        insert_rows(conn, t.record_history, _COLUMNS, [
            (entity, record_id, scope, version, a.username, a.device_id, a.role, op_seq, self.now, outcome,
             stored_sorted(changes))
            for (entity, record_id, scope, version, op_seq, outcome), changes in self._rows.items() if changes])
        self._rows = {}


def _entries(row: Any) -> list[dict[str, Any]]:
    """One history row as the API's per-field entries (sharing the row's id), fields sorted."""
    head = {"id": int(row.id), "at": row.at, "version": int(row.version), "username": row.username,
            "device_id": row.device_id, "role": row.role, "op_seq": None if row.op_seq is None else int(row.op_seq)}
    changes = json.loads(row.changes)
    return [{**head, "field": key, "old_value": old, "new_value": new, "outcome": row.outcome}
            for key, (old, new) in sorted(changes.items())]


def record_history(db: Database, actor: Principal, entity: str, record_id: str, *, after: int = 0,
                   limit: int = 500) -> dict[str, Any]:
    """The audit rows of one record, oldest first, for HQ and the supervisor of its regency.

    Raises:
        ApiError: 403 for an officer (whatever the record); 404 when the record is unknown *or*
            outside the caller's scopes, so a refusal never tells that it exists elsewhere.
    """
    if actor.role not in ("hq", "supervisor"):
        raise forbidden("only supervisors and HQ read record histories")
    a = t.record_history.c
    with db.read() as conn:
        rec = conn.execute(select(t.records.c.scope, t.records.c.version, t.records.c.deleted).where(
            t.records.c.entity == entity, t.records.c.id == record_id)).first()
        # A record never created (its only op lost to a deleted parent) has history but no row.
        scope = rec.scope if rec is not None else conn.execute(
            select(a.scope).where(a.entity == entity, a.record_id == record_id).order_by(a.id.desc()).limit(1)
        ).scalar()
        if scope is None or not actor.can_access(scope):
            raise ApiError(404, "not_found", "no such record")
        rows = conn.execute(select(t.record_history).where(a.entity == entity, a.record_id == record_id,
                                                           a.id > after).order_by(a.id).limit(limit + 1)).all()
    more = len(rows) > limit
    entries = [e for r in rows[:limit] for e in _entries(r)]
    return {
        "entity": entity, "id": record_id, "scope": scope,
        "version": int(rec.version) if rec is not None else None,
        "deleted": bool(rec.deleted) if rec is not None else None,
        "history": entries, "next": entries[-1]["id"] if entries else after, "more": more,
    }
