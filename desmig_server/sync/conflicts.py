"""Listing and resolving conflicts (supervisors for their regency, HQ for all).

Resolving is just another edit (DESIGN §4): ``apply_losing`` writes the losing side as a new
change by the resolver's device, through the same applier as a push, with a base that has seen
everything, so it cannot itself clash; ``dismiss`` keeps the winner. Either way the row is
closed; it is never deleted.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.wire import OpKind, OpStatus
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.errors import ApiError, forbidden
from desmig_server.settings import Settings
from desmig_server.sync.apply import DELETED, OpApplier
from desmig_server.sync.lookup import ServerLookup
from desmig_server.sync.lost import next_resolution
from desmig_server.sync.models import PushOp
from desmig_server.sync.push import server_today
from desmig_server.sync.seq import SeqAllocator
from desmig_server.sync.state import WorkingSet

ACTIONS = ("dismiss", "apply_losing")
STATUSES = ("open", "resolved", "all")


def conflict_json(row: Any) -> dict[str, Any]:
    def side(prefix: str) -> dict[str, Any]:
        return {"device_id": row[f"{prefix}_device"], "username": row[f"{prefix}_user"], "role": row[f"{prefix}_role"]}

    return {
        "id": int(row["id"]), "entity": row["entity"], "record_id": row["record_id"], "scope": row["scope"],
        "field": row["field"], "kind": row["kind"],
        "winning_value": json.loads(row["winning_value"]) if row["winning_value"] is not None else None,
        "losing_value": json.loads(row["losing_value"]) if row["losing_value"] is not None else None,
        "winner": side("winner"), "loser": side("loser"), "version": int(row["version"]),
        "status": row["status"], "created_at": row["created_at"], "resolved_at": row["resolved_at"],
        "resolved_by": row["resolved_by"], "resolution": row["resolution"],
    }


def list_conflicts(db: Database, actor: Principal | None, *, status: str = "open", scope: str | None = None,
                   after: int = 0, limit: int = 500) -> dict[str, Any]:
    """Conflicts visible to ``actor`` (``None``: everything, for the CLI), oldest first."""
    if status not in STATUSES:
        raise ApiError(422, "invalid_request", {"status": f"one of {', '.join(STATUSES)}"})
    c = t.conflicts.c
    query = select(t.conflicts).where(c.id > after).order_by(c.id).limit(limit)
    if status != "all":
        query = query.where(c.status == status)
    if scope is not None:
        if actor is not None and not actor.can_access(scope):
            raise forbidden({"scope": scope})
        query = query.where(c.scope == scope)
    if actor is not None and (condition := actor.scope_condition(c.scope)) is not None:
        query = query.where(condition)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return {"conflicts": [conflict_json(r) for r in rows]}


def _losing_op(row: Any, base: int) -> PushOp:
    """The op that re-applies the losing side of conflict ``row``."""
    losing = json.loads(row["losing_value"]) if row["losing_value"] is not None else None
    if row["kind"] == "delete_edit" and losing == DELETED:
        kind, fields = OpKind.DELETE, {}
    elif row["kind"] == "delete_edit":
        kind, fields = OpKind.UPSERT, dict(losing or {})
    else:
        kind, fields = OpKind.UPSERT, {row["field"]: losing}
    # model_construct: this op never crossed the wire, so it has no hash or device sequence.
    return PushOp.model_construct(op_seq=0, entity=row["entity"], id=row["record_id"], kind=kind,
                                  base_version=base, fields=fields, op_hash="", captured_at=None)


def resolve(db: Database, settings: Settings, actor: Principal, conflict_id: int, action: str) -> dict[str, Any]:
    """Close a conflict, optionally writing its losing value.

    Raises:
        ApiError: 403 for an officer (whatever the id); 404 for an id unknown or outside the
            caller's scopes; 409 already resolved; 422 bad action or a losing value now invalid.
    """
    if action not in ACTIONS:
        raise ApiError(422, "invalid_request", {"action": f"one of {', '.join(ACTIONS)}"})
    if actor.role not in ("supervisor", "hq"):
        raise forbidden("only supervisors and HQ resolve conflicts")
    with db.write() as conn:
        seq = SeqAllocator(conn)  # an apply_losing is a write: same lock and ordering as a push
        row = conn.execute(select(t.conflicts).where(t.conflicts.c.id == conflict_id)).mappings().first()
        # Outside the caller's scopes reads as absent: a refusal must not tell that it exists elsewhere.
        if row is None or not actor.can_access(row["scope"]):
            raise ApiError(404, "not_found", "no such conflict")
        if row["status"] != "open":
            raise ApiError(409, "already_resolved", {"resolved_by": row["resolved_by"]})
        version = None
        if action == "apply_losing":
            ws, lookup = WorkingSet(conn), ServerLookup(conn)
            applier = OpApplier(conn, ws, seq, actor, lookup, server_today(settings))
            outcome = applier.apply(_losing_op(row, base=seq.current))
            if outcome.status == OpStatus.REJECTED:
                raise ApiError(422, "rejected", outcome.reason)
            ws.flush()
            version = outcome.version
            applier.write_conflicts(conn)
            applier.audit.write(conn)
        now = utc_now()
        conn.execute(update(t.conflicts).where(t.conflicts.c.id == conflict_id).values(
            status="resolved", resolved_at=now, resolved_by=actor.username, resolution=action,
            resolved_seq=next_resolution(conn)))
        seq.finish()
        updated = conn.execute(select(t.conflicts).where(t.conflicts.c.id == conflict_id)).mappings().one()
    return {"conflict": conflict_json(updated), "version": version}
