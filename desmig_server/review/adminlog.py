"""The admin log (``admin_log``, migration 11): one row per review-desk action, in its transaction.

Every user-administration action (create, scopes, password reset, disable, enable), device
revocation and conflict resolution on the web writes its row inside the same transaction as the
action itself, so a logged action happened and an action that happened is logged. ``detail``
holds roles, region codes, counts and ids only — never a password, NIK or any record value.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select

from desmig_desktop.domain.ids import utc_now
from desmig_server.db import tables as t
from desmig_server.db.engine import Database

ACTIONS = ("user_create", "user_scope", "user_password", "user_disable", "user_enable", "device_revoke",
           "conflict_resolve")


def write(conn: Connection, actor: str, action: str, target: str, **detail: Any) -> None:
    """Log ``action`` by ``actor`` on ``target`` in ``conn``'s (the action's) transaction."""
    assert action in ACTIONS, action
    conn.execute(insert(t.admin_log).values(at=utc_now(), actor=actor, action=action, target=target[:100],
                                            detail=json.dumps(detail, sort_keys=True, ensure_ascii=False)))


def recent(db: Database, *, target: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest entries first (of one ``target`` when given)."""
    a = t.admin_log.c
    query = select(t.admin_log).order_by(a.id.desc()).limit(limit)
    if target is not None:
        query = query.where(a.target == target)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]
