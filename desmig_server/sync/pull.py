"""``GET /v1/sync/pull`` and ``GET /v1/sync/hello``: the commit-ordered feed of one scope."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import func, select, text

from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.errors import forbidden
from desmig_server.questionnaires import current_version as questionnaire_version
from desmig_server.releases import latest as latest_release
from desmig_server.settings import Settings
from desmig_server.sync.lost import newest as newest_lost
from desmig_server.sync.lost import newest_resolution
from desmig_server.sync.push import device_watermark

_PAGE_COLUMNS = "entity, id, data, version, deleted, server_seq, updated_by"  # the order ``pull`` unpacks
_BY = ',"by":'
# A version that is exactly the caller's own acknowledged op (``records.echo_*``, set by
# ``sync.apply``) is left out when the caller says it applied that op's answer: its op number
# lies in the window ``(own_after, own_through]`` the device sends (no echo).
_NOT_OWN = (" AND (echo_device IS NULL OR echo_device <> :device OR echo_op <= :own_after"
            " OR echo_op > :own_through)")
_PAGE_BY_SCOPE = text(f"SELECT {_PAGE_COLUMNS} FROM {t.records.name} WHERE scope = :scope AND server_seq > :since"
                      f"{_NOT_OWN} ORDER BY server_seq LIMIT :limit")
_EXITS_BY_SCOPE = text(f"SELECT entity, record_id, server_seq FROM {t.scope_exits.name} WHERE scope = :scope"
                       " AND server_seq > :since ORDER BY server_seq LIMIT :limit")
MAX_SCOPES_PER_PULL = 64  # scopes one ``changes`` request may name (keeps its URL short)


@dataclass(frozen=True)
class Own:
    """The caller's window of its own ops whose answers it applied: ``(after, through]``, server
    numbering. The default (empty) leaves nothing out: what an older app gets."""

    after: int = 0
    through: int = 0


def _scope_page(conn: Any, actor: Principal, scope: str, since: int, limit: int,
                own: Own) -> tuple[list[Any], bool, int]:
    """One scope's rows after ``since`` (records and move-out notices, server_seq order, at most
    ``limit``), whether more follow, and the scope's cursor after them. Without more, the cursor
    is the scope's newest change, so the own versions left out after the last row are passed too
    (else the next pull would read them again, and hello's ``scope_seqs`` would never be reached)."""
    params = {"scope": scope, "since": since, "limit": limit + 1, "device": actor.device_id or "",
              "own_after": own.after, "own_through": own.through}
    # Records in the scope and notices of records that left it, each read in server_seq order
    # from its own index and merged here (a notice's seq is a number of its own, never a
    # record's version, so no seq appears twice). Plain SQL and ``fetchall``:
    # rows are spliced as they are, and Core's per-row processing was a fifth of a page's cost.
    rows = conn.execute(_PAGE_BY_SCOPE, params).all()
    exits = conn.execute(_EXITS_BY_SCOPE, params).all()
    if exits:
        rows = sorted([*rows, *((e, i, None, seq, True, seq, None) for e, i, seq in exits)], key=lambda row: int(row[5]))
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, True, int(rows[-1][5])
    newest = latest_seqs(conn, [scope]).get(scope, 0) if own.through > own.after else int(rows[-1][5]) if rows else 0
    return rows, False, max(since, newest)


def pull(db: Database, actor: Principal, *, scope: str, since: int, limit: int, own: Own = Own()) -> bytes:
    """Records of ``scope`` changed after ``since``, oldest first, plus the device watermark, as
    the reply's JSON bytes. ``own``: the versions that are this device's own acknowledged ops
    whose answers it applied are left out (they would only echo what it holds).

    Both come from one read snapshot: had the watermark been read after the page, a push
    committing in between would let the client drop an op from its outbox as acknowledged
    while the page still shows the record without that op, and overwrite the local edit.

    A record that left the scope appears once, at the seq of its move, as a move-out notice:
    ``moved_out: true``, no data, ``deleted: true`` (so a client that predates notices blanks
    and hides its copy), ``version`` = that seq, which lies above any copy the scope's devices
    hold and below every version of the record in its new scope: a client drops a copy older
    than it and keeps one a pull of the new scope already brought. Nothing of it follows.

    Each record's ``data`` is spliced in as the JSON text the push stored (``json.dumps`` of a
    dict, so a valid JSON object) rather than decoded and encoded again, which was half the
    cost of a page. ``by``: the username whose op last changed the record (left out when not
    known), so the laptop's history names the author of a change it pulls; a username is not
    personal data of the household, and officers of one village see each other's names already
    in conflicts.
    """
    if not actor.can_access(scope):
        raise forbidden({"scope": scope})
    with db.read() as conn:
        rows, more, cursor = _scope_page(conn, actor, scope, since, limit, own)
        last_op_seq = device_watermark(conn, actor.device_id)
    tail = json.dumps({"next": cursor, "more": more, "last_op_seq": last_op_seq})
    return ('{"records":[' + records_json(rows) + "]," + tail[1:]).encode("utf-8")


def pull_scopes(db: Database, actor: Principal, *, cursors: Sequence[tuple[str, int]], limit: int,
                own: Own = Own()) -> bytes:
    """One page of several scopes (``GET /v1/sync/changes``): one request where a per-scope pull
    needed one per village (8 round trips for 8 villages).

    The page is the scopes' own pages one after the other, in the order asked, until ``limit``
    rows: each scope keeps its own cursor exactly as a single-scope pull moves it (``cursors``
    in the reply: the scopes this page read, complete or cut), and ``unfinished`` names the
    scopes still to read (the cut one first, then those not reached). One read snapshot for all
    of them and the watermark, as for one scope.
    """
    for scope, _since in cursors:
        if not actor.can_access(scope):
            raise forbidden({"scope": scope})
    rows: list[Any] = []
    moved: dict[str, int] = {}
    unfinished: list[str] = []
    with db.read() as conn:
        for i, (scope, since) in enumerate(cursors):
            left = limit - len(rows)
            if left <= 0:
                unfinished.extend(s for s, _ in cursors[i:])
                break
            page, more, moved[scope] = _scope_page(conn, actor, scope, since, left, own)
            rows.extend(page)
            if more:
                unfinished.extend(s for s, _ in cursors[i:])
                break
        last_op_seq = device_watermark(conn, actor.device_id)
    tail = json.dumps({"cursors": moved, "unfinished": unfinished, "more": bool(unfinished),
                       "last_op_seq": last_op_seq})
    return ('{"records":[' + records_json(rows) + "]," + tail[1:]).encode("utf-8")


def records_json(rows: Sequence[tuple[Any, ...]]) -> str:
    """The page's records as JSON text, comma-separated: each ``domain.wire.PulledRecord.to_json``
    written by hand (same keys, same order), ``data`` spliced as stored. A row is
    ``_PAGE_COLUMNS``; a notice's has ``data`` None."""
    return ",".join(
        f'{{"entity":{encode_basestring(entity)},"id":{encode_basestring(record_id)},"data":{data},'
        f'"version":{int(version)},"deleted":{"true" if deleted else "false"},"server_seq":{int(seq)}'
        f'{"" if by is None else _BY + encode_basestring(by)}}}'
        if data is not None else
        f'{{"entity":{encode_basestring(entity)},"id":{encode_basestring(record_id)},"data":{{}},'
        f'"version":{int(version)},"deleted":true,"server_seq":{int(seq)},"moved_out":true}}'
        for entity, record_id, data, version, deleted, seq, by in rows)


def scopes_of(db: Database, actor: Principal) -> list[str]:
    """The village codes this principal syncs: an officer's villages, a supervisor's regency's
    villages, and for HQ every village that has records (listing all 83,762 would be noise)."""
    with db.read() as conn:
        if actor.role == "officer":
            return sorted(actor.villages)
        if actor.role == "supervisor":
            return list(conn.execute(select(t.regions.c.code).where(
                t.regions.c.level == 4, t.regions.c.code.startswith((actor.regency or "-") + ".")
            ).order_by(t.regions.c.code)).scalars())
        return list(conn.execute(select(t.records.c.scope).distinct().order_by(t.records.c.scope)).scalars())


FEATURES = ("changes", "optional_op_hash", "resolutions", "questionnaire")

# Above this many scopes (supervisors, HQ) hello leaves ``scope_seqs`` out: one indexed lookup
# per scope would cost more than the pulls it saves, and the client then pulls every scope.
SCOPE_SEQS_MAX = 64


def latest_seqs(conn: Any, scopes: list[str]) -> dict[str, int]:
    """The newest ``server_seq`` a pull of each scope could return (records in it, notices of
    records that left it), for scopes that have any; two index seeks per scope."""
    r, x = t.records.c, t.scope_exits.c
    out: dict[str, int] = {}
    for scope in scopes:
        newest = max(conn.execute(select(func.max(r.server_seq)).where(r.scope == scope)).scalar() or 0,
                     conn.execute(select(func.max(x.server_seq)).where(x.scope == scope)).scalar() or 0)
        if newest:
            out[scope] = int(newest)
    return out


def hello(db: Database, settings: Settings, actor: Principal) -> dict[str, Any]:
    """The hello reply. ``scope_seqs`` (officers): the newest change of each scope, so a client
    whose cursor has reached it skips that scope's pull — a sync with nothing new is one request."""
    scopes = scopes_of(db, actor)
    with db.read() as conn:
        last_op_seq = device_watermark(conn, actor.device_id)
        seqs = latest_seqs(conn, scopes) if len(scopes) <= SCOPE_SEQS_MAX else None
        conflict_seq = newest_lost(conn, actor.device_id)
        resolution_seq = newest_resolution(conn, actor.device_id)
        release = latest_release(conn)
        questionnaire = questionnaire_version(conn)
    reply = {
        "server_time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "min_schema": settings.min_schema,
        "max_schema": settings.max_schema,
        "last_op_seq": last_op_seq,
        "scopes": scopes,
        "username": actor.username,
        "role": actor.role,
        "device_id": actor.device_id,
        "token_expires_at": None if actor.token_expires_at is None else dt.datetime.fromtimestamp(
            actor.token_expires_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conflict_seq": conflict_seq,
        "resolution_seq": resolution_seq,
        # What this server speaks beyond the first protocol (a client checks before using it):
        # ``changes``: ``GET /v1/sync/changes`` (several scopes per page) and the ``own_*`` window
        # on pulls that leaves out the caller's own acknowledged changes; ``optional_op_hash``:
        # a pushed op may leave out ``op_hash`` (the server computes it); ``resolutions``:
        # ``GET /v1/sync/resolutions``, the conflicts this device lost that were resolved since;
        # ``questionnaire``: ``GET /v1/questionnaire`` and ops' ``questionnaire_version``.
        "features": list(FEATURES),
        "questionnaire_version": questionnaire,
    }
    if seqs is not None:
        reply["scope_seqs"] = seqs
    if release is not None:
        reply["update"] = release.announcement()
    return reply
