"""Conflicts on the review desk: a filtered list, and resolving with one of three outcomes.

Resolving is an edit like any other (DESIGN §4): ``other`` writes the losing value and ``value``
a third value the reviewer typed, each as an op of the reviewer applied by the push's own
``OpApplier`` under the ``seq_counter`` lock, with a base that has seen everything, so the record
gets a new version in its village's feed and every officer's laptop pulls the outcome at its next
sync. ``keep`` leaves the record as it is (the laptops already hold the winner). In all three the
conflict row is closed and one ``admin_log`` row written, in the same transaction: a value the
questionnaire refuses (422) leaves the conflict open and nothing written.

``keep`` and ``other`` are ``dismiss`` and ``apply_losing`` of ``sync.conflicts.resolve`` (the
API's path); this module adds the third value and the log row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select, update

from desmig_desktop.domain.ids import utc_now
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.errors import ApiError, forbidden
from desmig_server.review import adminlog
from desmig_server.settings import Settings
from desmig_server.sync.apply import OpApplier
from desmig_server.sync.conflicts import _losing_op, conflict_json
from desmig_server.sync.lookup import ServerLookup
from desmig_server.sync.lost import next_resolution
from desmig_server.sync.models import PushOp
from desmig_server.sync.push import server_today
from desmig_server.sync.seq import SeqAllocator
from desmig_server.sync.state import WorkingSet

CHOICES = {"keep": "dismiss", "other": "apply_losing", "value": "set_value"}  # -> conflicts.resolution
PAGE_SIZE = 50


def list_open(db: Database, actor: Principal, *, village: str | None = None, officer: str | None = None,
              older_than_days: int | None = None, status: str = "open", limit: int = PAGE_SIZE,
              offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Conflicts in ``actor``'s scopes, oldest first, filtered; and how many match in all.

    ``officer`` matches either side (the winner or the loser); ``older_than_days`` keeps those
    recorded at least that many days ago. A ``village`` outside the scopes matches nothing (the
    caller decides whether that is a 404).
    """
    from sqlalchemy import func

    c = t.conflicts.c
    where = [] if status == "all" else [c.status == status]
    if (condition := actor.scope_condition(c.scope)) is not None:
        where.append(condition)
    if village:
        where.append(c.scope == village)
    if officer:
        where.append(or_(c.loser_user == officer, c.winner_user == officer))
    if older_than_days:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
        where.append(c.created_at <= cutoff.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    with db.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(t.conflicts).where(*where)).scalar_one())
        rows = conn.execute(select(t.conflicts).where(*where).order_by(c.id).limit(limit).offset(offset)).mappings().all()
    return [conflict_json(r) for r in rows], total


def get(db: Database, actor: Principal, conflict_id: int) -> dict[str, Any]:
    """One conflict; 404 when unknown or outside the caller's scopes (the same answer)."""
    with db.read() as conn:
        row = conn.execute(select(t.conflicts).where(t.conflicts.c.id == conflict_id)).mappings().first()
    if row is None or not actor.can_access(row["scope"]):
        raise ApiError(404, "not_found", "no such conflict")
    return conflict_json(row)


def resolve(db: Database, settings: Settings, actor: Principal, conflict_id: int, choice: str,
            value: Any = None) -> dict[str, Any]:
    """Close conflict ``conflict_id`` by ``choice`` (``keep`` | ``other`` | ``value``).

    Raises:
        ApiError: 403 for an officer; 404 unknown or outside the caller's scopes; 409 already
            resolved; 422 an unknown choice, a third value for a delete/edit race, or a value the
            questionnaire refuses (``detail`` is the rejection reason, in Bahasa Indonesia).
    """
    if choice not in CHOICES:
        raise ApiError(422, "invalid_request", {"choice": f"one of {', '.join(CHOICES)}"})
    if actor.role not in ("supervisor", "hq"):
        raise forbidden("only supervisors and HQ resolve conflicts")
    with db.write() as conn:
        seq = SeqAllocator(conn)  # a write like a push: same lock, same order
        row = conn.execute(select(t.conflicts).where(t.conflicts.c.id == conflict_id)).mappings().first()
        if row is None or not actor.can_access(row["scope"]):
            raise ApiError(404, "not_found", "no such conflict")
        if row["status"] != "open":
            raise ApiError(409, "already_resolved", {"resolved_by": row["resolved_by"]})
        if choice == "value" and row["kind"] != "conflict":
            raise ApiError(422, "invalid_request", {"choice": "a delete/edit race has no third value"})
        version = None
        if choice != "keep":
            op = _losing_op(row, base=seq.current) if choice == "other" else PushOp.model_construct(
                op_seq=0, entity=row["entity"], id=row["record_id"], kind="upsert", base_version=seq.current,
                fields={row["field"]: value}, op_hash="", captured_at=None)
            ws, lookup = WorkingSet(conn), ServerLookup(conn)
            applier = OpApplier(conn, ws, seq, actor, lookup, server_today(settings))
            outcome = applier.apply(op)
            if outcome.status == "rejected":
                raise ApiError(422, "rejected", outcome.reason)
            ws.flush()
            version = outcome.version
            applier.write_conflicts(conn)
            applier.audit.write(conn)
        conn.execute(update(t.conflicts).where(t.conflicts.c.id == conflict_id).values(
            status="resolved", resolved_at=utc_now(), resolved_by=actor.username, resolution=CHOICES[choice],
            resolved_seq=next_resolution(conn)))
        adminlog.write(conn, actor.username, "conflict_resolve", f"conflict:{conflict_id}", choice=choice,
                       entity=row["entity"], record_id=row["record_id"], field=row["field"], scope=row["scope"],
                       version=version)
        seq.finish()
        updated = conn.execute(select(t.conflicts).where(t.conflicts.c.id == conflict_id)).mappings().one()
    return {"conflict": conflict_json(updated), "version": version}
