"""What a device learns about its own values that lost a conflict (DESIGN §4: "the losing value is
always written to conflicts, visible to the officer concerned").

A value of device D can lose in two ways, and D must learn both:

* **on arrival** — D's op clashes with a change D had not seen and loses (higher role, or a
  delete racing an edit). The push result of that op carries one ``detail`` per lost field, with
  the conflict's id, the winning value, who won and by which rule. The same details are stored in
  ``applied_ops.clashes``, so a replayed push (its first answer was lost) gets exactly the first
  reply back.
* **later** — D's value was applied, then a concurrent op of a higher role with an older base
  overwrote it, or D's answer was lost and the pull's watermark acknowledged the op without its
  result. Neither reaches D through a push result, so every device has a feed of the conflicts
  it lost: ``GET /v1/sync/conflicts?since=<conflict id>`` (``feed``), cursor = conflict id, and
  hello's ``conflict_seq`` (the newest such id) lets a client skip the call when nothing is new.

Conflict ids follow commit order for the same reason ``server_seq`` does: every writer of
``conflicts`` (push, resolve) holds the ``seq_counter`` row lock, so a cursor never skips one.
The feed is per device, not per scope: it carries nothing the device did not write itself apart
from the winning value of a record in the caller's scopes, and it never re-sends records, so it
leaves the pull's no-echo rule alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select

from desmig_server.auth.principal import ROLE_RANK, Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database

HIGHER_ROLE = "higher_role"
LATER_ARRIVAL = "later_arrival"
DELETE_EDIT = "delete_edit"
_DELETED = {"deleted": True}


def rule_of(kind: str, winner_role: str | None, loser_role: str | None) -> str:
    """Why the winner won (DESIGN §4): a delete racing an edit (the stale side loses whatever the
    roles), else the higher role, else — same rank — the later arrival."""
    if kind == "delete_edit":
        return DELETE_EDIT
    if winner_role in ROLE_RANK and loser_role in ROLE_RANK and ROLE_RANK[winner_role] != ROLE_RANK[loser_role]:
        return HIGHER_ROLE
    return LATER_ARRIVAL


def _value(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def detail(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """One lost field as its loser's device sees it (a ``conflicts`` row with its id).

    The winner is named by role and username only (what an officer may already list through
    ``GET /v1/conflicts``), never by device. A delete that lost shows the winner as "the record is
    still there" rather than the whole record.
    """
    losing, winning = _value(row["losing_value"]), _value(row["winning_value"])
    if row["kind"] == "delete_edit" and losing == _DELETED:
        winning = {"deleted": False}
    return {"id": int(row["id"]), "field": row["field"], "won": False, "kind": row["kind"], "theirs": winning,
            "winner": {"role": row["winner_role"], "username": row["winner_user"]},
            "rule": rule_of(row["kind"], row["winner_role"], row["loser_role"])}


def insert_conflicts(conn: Connection, rows: list[dict[str, Any]], details: dict[int, dict[str, Any]]) -> None:
    """Insert ``rows`` and fill, in place, the detail of each row whose index is in ``details`` (the
    push result entries of the pushing device's lost fields: they need the new ids)."""
    if not rows:
        return
    if not details:
        conn.execute(insert(t.conflicts), rows)
        return
    ids = conn.execute(insert(t.conflicts).returning(t.conflicts.c.id, sort_by_parameter_order=True), rows).scalars()
    for i, conflict_id in enumerate(ids):
        if i in details:
            details[i].update(detail({**rows[i], "id": conflict_id}))


def newest(conn: Connection, device_id: str) -> int:
    """The newest conflict id this device lost (0: none) — hello's ``conflict_seq``."""
    c = t.conflicts.c
    return int(conn.execute(select(func.max(c.id)).where(c.loser_device == device_id)).scalar() or 0)


def feed(db: Database, actor: Principal, *, since: int, limit: int) -> dict[str, Any]:
    """The conflicts the caller's device lost after conflict id ``since``, oldest first.

    Each item is ``detail`` plus the record, the losing value (``mine``), the op that lost on
    arrival (``op_seq``, the device's numbering; null when the value lost later to someone else's
    op) and the server's ``status``. Only records in the caller's current scopes are listed.
    """
    c = t.conflicts.c
    query = select(t.conflicts).where(c.loser_device == actor.device_id, c.id > since).order_by(c.id).limit(limit + 1)
    if (condition := actor.scope_condition(c.scope)) is not None:
        query = query.where(condition)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{**detail(r), "entity": r["entity"], "record_id": r["record_id"], "mine": _value(r["losing_value"]),
              "op_seq": None if r["loser_op_seq"] is None else int(r["loser_op_seq"]), "status": r["status"]} for r in rows]
    return {"conflicts": items, "next": int(rows[-1]["id"]) if rows else since, "more": more}


def next_resolution(conn: Connection) -> int:
    """The number of a resolution being written: one more than the newest. Every resolver holds
    the ``seq_counter`` row lock (``SeqAllocator``), so the numbers follow commit order and a
    device's cursor over them never skips one (as conflict ids and ``server_seq``)."""
    c = t.conflicts.c
    return int(conn.execute(select(func.max(c.resolved_seq))).scalar() or 0) + 1


def newest_resolution(conn: Connection, device_id: str) -> int:
    """The newest resolution number of a conflict this device lost (0: none) — hello's ``resolution_seq``."""
    c = t.conflicts.c
    return int(conn.execute(select(func.max(c.resolved_seq)).where(c.loser_device == device_id)).scalar() or 0)


def resolutions(db: Database, actor: Principal, *, since: int, limit: int) -> dict[str, Any]:
    """Conflicts the caller's device lost that were resolved after resolution number ``since``,
    in that order: ``{"resolved": [{"id", "seq"}], "next", "more"}``. The laptop
    closes them in its inbox; the value the resolution wrote comes down with the pull, as any
    change. Only records in the caller's current scopes are listed (as ``feed``)."""
    c = t.conflicts.c
    query = (select(c.id, c.resolved_seq).where(c.loser_device == actor.device_id, c.resolved_seq > since)
             .order_by(c.resolved_seq).limit(limit + 1))
    if (condition := actor.scope_condition(c.scope)) is not None:
        query = query.where(condition)
    with db.read() as conn:
        rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"resolved": [{"id": int(i), "seq": int(n)} for i, n in rows],
            "next": int(rows[-1][1]) if rows else since, "more": more}
