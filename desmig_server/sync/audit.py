"""The server's field history: collected while ops apply, written in the same transaction.

One row per field change a push (or a conflict resolution) actually applied, one per losing
value of a conflict, one per deletion — never updated, never deleted. Replays are not applied
again, so each change appears exactly once. Values are personal data (NIK, phone numbers):
they go to the ``audit`` table and to authorised readers of ``GET
/v1/records/{entity}/{id}/history`` only — never into a log line.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.bulk import insert_rows
from desmig_server.db.engine import Database
from desmig_server.errors import ApiError, forbidden
from desmig_server.sync.codec import dumps_text
from desmig_server.sync.models import PushOp
from desmig_server.sync.state import Rec

APPLIED = "applied"
CONFLICT_WON = "conflict_won"  # applied over a concurrent change; old_value is the losing value
CONFLICT_LOST = "conflict_lost"  # not applied; new_value is the losing value
CASCADE = "cascade"  # deleted because its parent was
DELETED_FIELD = "deleted"


_COLUMNS = ("entity", "record_id", "scope", "version", "username", "device_id", "role", "op_seq", "at", "field",
            "old_value", "new_value", "outcome")
assert set(_COLUMNS) == {c.name for c in t.audit.columns if c.name != "id"}, "audit columns changed"


class AuditTrail:
    """The audit rows of one transaction, all by one principal at one server time."""

    def __init__(self, actor: Principal, now: str) -> None:
        self.actor = actor
        self.now = now
        self.rows: list[tuple[Any, ...]] = []  # in ``_COLUMNS`` order

    def change(self, op: PushOp, scope: str, version: int, field: str, old: Any, new: Any, outcome: str,
               record_id: str | None = None, entity: str | None = None) -> None:
        actor = self.actor
        # op_seq 0 marks an op made by the server (a conflict resolution), not sent by a device
        self.rows.append((entity or op.entity, record_id or op.id, scope, version, actor.username, actor.device_id,
                          actor.role, op.op_seq or None, self.now, field, dumps_text(old), dumps_text(new), outcome))

    def deletion(self, op: PushOp, rec: Rec, version: int, outcome: str) -> None:
        self.change(op, rec.scope, version, DELETED_FIELD, False, True, outcome, record_id=rec.id,
                    entity=rec.entity)

    def lost_fields(self, op: PushOp, scope: str, version: int, stored: dict[str, Any],
                    incoming: dict[str, Any]) -> None:
        """An edit refused whole (its record or parent was deleted concurrently)."""
        for key in sorted(incoming):
            self.change(op, scope, version, key, stored.get(key), incoming[key], CONFLICT_LOST)

    def write(self, conn: Connection) -> None:
        """Insert the collected rows in ``conn``'s transaction.

        A push writes several audit rows per op (one per field) — about as many rows as the rest
        of the push together — so they take each driver's bulk path (``db.bulk``).
        """
        insert_rows(conn, t.audit, _COLUMNS, self.rows)
        self.rows = []


def _entry(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id), "at": row.at, "version": int(row.version), "username": row.username,
        "device_id": row.device_id, "role": row.role, "op_seq": None if row.op_seq is None else int(row.op_seq),
        "field": row.field, "old_value": json.loads(row.old_value) if row.old_value is not None else None,
        "new_value": json.loads(row.new_value) if row.new_value is not None else None, "outcome": row.outcome,
    }


def record_history(db: Database, actor: Principal, entity: str, record_id: str, *, after: int = 0,
                   limit: int = 500) -> dict[str, Any]:
    """The audit rows of one record, oldest first, for HQ and the supervisor of its regency.

    Raises:
        ApiError: 403 for an officer (whatever the record); 404 when the record is unknown *or*
            outside the caller's scopes, so a refusal never tells that it exists elsewhere.
    """
    if actor.role not in ("hq", "supervisor"):
        raise forbidden("only supervisors and HQ read record histories")
    a = t.audit.c
    with db.read() as conn:
        rec = conn.execute(select(t.records.c.scope, t.records.c.version, t.records.c.deleted).where(
            t.records.c.entity == entity, t.records.c.id == record_id)).first()
        # A record never created (its only op lost to a deleted parent) has history but no row.
        scope = rec.scope if rec is not None else conn.execute(
            select(a.scope).where(a.entity == entity, a.record_id == record_id).order_by(a.id.desc()).limit(1)
        ).scalar()
        if scope is None or not actor.can_access(scope):
            raise ApiError(404, "not_found", "no such record")
        rows = conn.execute(select(t.audit).where(a.entity == entity, a.record_id == record_id, a.id > after)
                            .order_by(a.id).limit(limit + 1)).all()
    more = len(rows) > limit
    entries = [_entry(r) for r in rows[:limit]]
    return {
        "entity": entity, "id": record_id, "scope": scope,
        "version": int(rec.version) if rec is not None else None,
        "deleted": bool(rec.deleted) if rec is not None else None,
        "history": entries, "next": entries[-1]["id"] if entries else after, "more": more,
    }
