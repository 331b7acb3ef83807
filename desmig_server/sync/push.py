"""``POST /v1/sync/push``: one transaction per request, exactly-once per (device, op_seq).

Order inside the transaction: take the seq_counter row lock (serialises pushers); re-read the
device (revoked → 401); replays must match their stored hash (else 409 ``replay_mismatch``);
fresh ops must continue the watermark without a hole (else 409 ``gap``); every op's scope must
be the caller's (else 403). Only then is anything applied, so a refused request stores nothing.
Business-rule failures are per-op ``rejected`` results and still advance the watermark.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from typing import Any

from sqlalchemy import Connection, insert, select, update

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.ops import op_hash
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.bulk import insert_rows
from desmig_server.db.engine import Database
from desmig_server.errors import ApiError, forbidden, unauthorized
from desmig_server.settings import Settings
from desmig_server.sync.apply import OpApplier, Outcome
from desmig_server.sync.lookup import ServerLookup
from desmig_server.sync.models import PushOp, PushRequest
from desmig_server.sync.seq import SeqAllocator
from desmig_server.sync.state import WorkingSet

log = logging.getLogger(__name__)


def server_today(settings: Settings) -> dt.date:
    """The latest date the server accepts as "not in the future" (see ``Settings``)."""
    now = dt.datetime.now(dt.timezone.utc)
    return (now + dt.timedelta(days=settings.future_date_tolerance_days)).date()


def check_request(req: PushRequest, actor: Principal, settings: Settings) -> None:
    """Refuse a malformed or unauthorised request before opening a transaction."""
    if req.device_id != actor.device_id:
        raise forbidden("device_id does not belong to this token")
    if req.app_schema < settings.min_schema:
        raise ApiError(426, "upgrade_required", {"min_schema": settings.min_schema})
    if req.app_schema > settings.max_schema:
        raise ApiError(400, "unsupported_schema", {"max_schema": settings.max_schema})
    if len(req.ops) > settings.max_ops_per_push:
        raise ApiError(413, "too_many_ops", {"max_ops": settings.max_ops_per_push})
    previous = 0
    for op in req.ops:
        if op.entity not in ENTITIES:
            raise ApiError(422, "unknown_entity", {"op_seq": op.op_seq, "entity": op.entity})
        if op.kind == "delete" and op.fields:
            raise ApiError(422, "invalid_request", {"op_seq": op.op_seq, "msg": "a delete carries no fields"})
        if op.op_seq <= previous:
            raise ApiError(422, "invalid_request", {"op_seq": op.op_seq, "msg": "op_seq must increase"})
        previous = op.op_seq
        if op_hash(op.entity, op.id, op.kind, op.base_version, op.fields) != op.op_hash:
            raise ApiError(400, "hash_mismatch", {"op_seq": op.op_seq})


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def authorize_scopes(actor: Principal, ops: list[PushOp], ws: WorkingSet, lookup: ServerLookup) -> None:
    """403 unless every op touches only the caller's scopes, following scope changes in the batch.

    A village code that does not exist is left to validation (a per-op rejection), so one typo
    never blocks the queue; an existing village outside the caller's scopes refuses the request.
    """
    scopes: dict[tuple[str, str], str | None] = {}
    parents: dict[tuple[str, str], str | None] = {}

    def scope_of(entity: str, record_id: str) -> str | None:
        if (entity, record_id) not in scopes:
            rec = ws.get(entity, record_id)
            scopes[(entity, record_id)] = rec.scope if rec else None
        return scopes[(entity, record_id)]

    def check(op: PushOp, scope: str | None) -> None:
        # The scope is not echoed: it may come from a stored record the caller must not learn about.
        if scope is not None and not actor.can_access(scope):
            raise forbidden({"op_seq": op.op_seq})

    for op in ops:
        key = (op.entity, op.id)
        current = scope_of(*key)
        check(op, current)
        if op.kind == "delete":
            continue
        spec = ENTITIES[op.entity]
        new = current
        if spec.parent_key is None:
            code = _text(op.fields.get("village_code"))
            if code is not None and lookup.village_exists(code):
                new = code
        else:
            assert spec.parent_entity is not None
            if key not in parents:
                rec = ws.get(*key)
                parents[key] = rec.parent_id if rec else None
            if spec.parent_key in op.fields:
                parents[key] = _text(op.fields[spec.parent_key])
            pid = parents[key]
            new = scope_of(spec.parent_entity, pid) if pid else current
        check(op, new)
        scopes[key] = new


def _preload(ws: WorkingSet, lookup: ServerLookup, ops: list[PushOp]) -> None:
    keys: list[tuple[str, str]] = []
    villages: list[str] = []
    for op in ops:
        keys.append((op.entity, op.id))
        spec = ENTITIES[op.entity]
        if spec.parent_key and spec.parent_entity and (pid := _text(op.fields.get(spec.parent_key))):
            keys.append((spec.parent_entity, pid))
        if owner := _text(op.fields.get("owner_member_id")):
            keys.append(("members", owner))
        if code := _text(op.fields.get("village_code")):
            villages.append(code)
    ws.preload(keys)
    lookup.preload(villages)


def _stored_results(conn: Connection, device_id: str, ops: list[PushOp]) -> dict[int, Any]:
    if not ops:
        return {}
    rows = conn.execute(select(t.applied_ops).where(
        t.applied_ops.c.device_id == device_id, t.applied_ops.c.op_seq.in_([op.op_seq for op in ops])))
    return {int(r.op_seq): r for r in rows}


_APPLIED_COLUMNS = ("device_id", "op_seq", "op_hash", "entity", "record_id", "kind", "result", "version", "reason",
                    "clashes", "captured_at", "applied_at")


# The answer to a replay whose applied_ops row was pruned: applied once, its result no longer kept.
PRUNED = Outcome("pruned", 0)


def device_watermark(conn: Connection, device_id: str) -> int:
    return int(conn.execute(select(t.devices.c.last_op_seq).where(t.devices.c.device_id == device_id)).scalar_one())


def push(db: Database, settings: Settings, actor: Principal, req: PushRequest) -> dict[str, Any]:
    """Apply a push request; return the reply body. Raises ``ApiError`` for 4xx outcomes."""
    check_request(req, actor, settings)
    if not req.ops:  # nothing to apply: no need to queue behind other pushers for the lock
        with db.read() as conn:
            return {"last_op_seq": device_watermark(conn, actor.device_id), "results": []}
    with db.write() as conn:
        seq = SeqAllocator(conn)  # first statement: the row lock that orders all writers
        device = conn.execute(select(t.devices.c.last_op_seq, t.devices.c.revoked, t.devices.c.applied_pruned_through,
                                     t.users.c.disabled).join(t.users, t.users.c.username == t.devices.c.username)
                              .where(t.devices.c.device_id == actor.device_id).with_for_update(of=t.devices)).one()
        if device.revoked or device.disabled:
            raise unauthorized("device revoked" if device.revoked else "account disabled")
        watermark = int(device.last_op_seq)
        replays = [op for op in req.ops if op.op_seq <= watermark]
        fresh = [op for op in req.ops if op.op_seq > watermark]
        stored = _stored_results(conn, actor.device_id, replays)
        pruned_through = int(device.applied_pruned_through)
        for op in replays:
            row = stored.get(op.op_seq)
            if row is None and op.op_seq <= pruned_through:
                continue  # its row was pruned (sync/retention): answered "pruned", never applied again
            if row is None or row.op_hash != op.op_hash:
                raise ApiError(409, "replay_mismatch", {"op_seq": op.op_seq, "last_op_seq": watermark})
        for expected, op in enumerate(fresh, start=watermark + 1):
            if op.op_seq != expected:
                raise ApiError(409, "gap", {"last_op_seq": watermark})
        ws, lookup = WorkingSet(conn), ServerLookup(conn)
        _preload(ws, lookup, fresh)
        authorize_scopes(actor, fresh, ws, lookup)
        applier = OpApplier(conn, ws, seq, actor, lookup, server_today(settings))
        results: list[dict[str, Any]] = []
        applied_rows: list[tuple[Any, ...]] = []
        for op in req.ops:
            if op.op_seq <= watermark:
                row = stored.get(op.op_seq)
                if row is None:
                    results.append(PRUNED.as_json(op.op_seq))
                    continue
                clashes = json.loads(row.clashes) if row.clashes else []
                results.append(Outcome(row.result, int(row.version), row.reason, clashes).as_json(op.op_seq))
                continue
            outcome = applier.apply(op)
            results.append(outcome.as_json(op.op_seq))
            applied_rows.append((
                actor.device_id, op.op_seq, op.op_hash, op.entity, op.id, op.kind, outcome.status, outcome.version,
                outcome.reason, json.dumps(outcome.clashes) if outcome.clashes else None, op.captured_at,
                applier.now))
        ws.flush()
        insert_rows(conn, t.applied_ops, _APPLIED_COLUMNS, applied_rows)
        if applier.conflict_rows:
            conn.execute(insert(t.conflicts), applier.conflict_rows)
        applier.audit.write(conn)
        last = fresh[-1].op_seq if fresh else watermark
        conn.execute(update(t.devices).where(t.devices.c.device_id == actor.device_id).values(
            last_op_seq=last, last_seen=utc_now()))
        seq.finish()
    counts = Counter(r["status"] for r in results[len(replays):])
    log.info("push device=%s ops=%d replayed=%d %s last_op_seq=%d", actor.device_id, len(req.ops),
             len(replays), dict(counts), last)
    return {"last_op_seq": last, "results": results}
