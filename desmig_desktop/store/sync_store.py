"""Local transactions of the sync cycle (DESIGN §4 "Client cycle"), one SQLite transaction each.

* ``apply_ack`` — after a push answered 200: move ops ``≤ last_op_seq`` to the journal, record
  versions, rebase later ops on the same record, store conflicts and rejections.
* ``sync_pull.apply_pull`` — one pulled page (its own module, with ``PageGroup``); the
  conflicts inbox and ``force_edit`` are in ``sync_conflicts``.
* ``reenqueue_from_journal`` — the server was restored from a backup: put the acked ops it lost
  back in the outbox, with their original numbers and hashes (and ``forget_server_position``:
  pull everything again, accepting the restored server's lower versions).

Op numbers: ``sync_outbox.op_seq`` is local and only grows (AUTOINCREMENT). The number the server
sees is ``op_seq - op_seq_base``; the base changes only when the laptop registers as a new device
(the server starts every device at 0). ``crash`` is a hook called at named points inside the
transactions, so tests can prove a crash there loses nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain import jsontext
from desmig_desktop.domain.fields import ENTITIES, Kind
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.wire import OpKind, OpStatus, op_json
from desmig_desktop.store import records, settings
from desmig_desktop.store.sync_lost import K_CONFLICT_CURSOR, K_RESOLUTION_CURSOR, LostValue, record_lost
from desmig_desktop.store.sync_own import (
    ANSWERED,
    K_OWN_ANSWERED,
    K_OWN_FLOOR,
    raise_own_answered,
    raise_own_floor,
    unheld,
)
from desmig_desktop.store.sync_own import own_window as _own_window
from desmig_desktop.store.sync_rebase import Rebase, rebase

log = logging.getLogger(__name__)

Crash = Callable[[str], None]
STATE = "sync_state"
CURSOR_PREFIX = "cursor:"
K_SERVER_URL = "server_url"
K_USERNAME = "username"
K_DEVICE_ID = "device_id"
K_DEVICE_NAME = "device_name"
K_TOKEN = "token"
K_TOKEN_EXPIRES = "token_expires_at"
K_ROLE = "role"
K_OP_SEQ_BASE = "op_seq_base"
K_LAST_ACK = "last_acked_op_seq"  # local numbering
K_MAX_SENT = "max_sent_op_seq"  # local numbering: ops up to here may sit in the server's log
K_SCOPES = "scopes"
K_LAST_SUCCESS = "last_success"  # read by `desmig status`
K_LAST_ERROR = "last_error"
K_CLOCK_OFFSET = "clock_offset_s"
K_BATCH = "batch_size"
K_SERVER_SEQ_SEEN = "server_seq_seen"
K_UPDATE = "update_announced"  # hello's newest release (``domain.release.Announcement``), not yet trusted
K_REGISTRATIONS = "registrations"  # [{"device_id", "op_seq_base"}], oldest first: whose log holds which ops
K_RESTORED = "restored_from_backup"  # {"device_id", "allocated"}: restored, not yet reconciled with the server
K_RESTORES = "restores"  # [{"device_id", "allocated", "watermark", "shift", "acked"}]: what each reconcile did

DELETED_MARK = {"deleted": True}


def no_crash(_name: str) -> None:
    return None


@dataclass(frozen=True)
class OutboxOp:
    """One pending (or journaled) op, as stored locally: its fields as the JSON text stored,
    read into values (``fields``) only when something asks for them — a push sends the text."""

    op_seq: int
    entity: str
    record_id: str
    kind: str  # an ``OpKind`` value, as stored
    base_version: int
    fields_text: str  # ``sync_outbox.fields``: the op's fields, JSON
    op_hash: str
    captured_at: str
    app_schema: int
    questionnaire_version: int = 1  # the questionnaire version the op's values were validated under

    @cached_property
    def fields(self) -> dict[str, Any]:
        value: dict[str, Any] = jsontext.loads(self.fields_text)
        return value

    def wire(self, base: int, *, hashed: bool = True) -> dict[str, Any]:
        """The op as the push endpoint takes it (server-side numbering): ``domain.wire.WireOp``'s JSON.
        ``hashed=False``: without ``op_hash``, for a server that computes it (feature
        ``optional_op_hash``; the hash stays in the outbox and journal all the same)."""
        return op_json(self.op_seq - base, self.entity, self.record_id, self.kind, self.base_version, self.fields,
                       self.op_hash if hashed else None, self.captured_at, self.questionnaire_version)

    def wire_text(self, base: int, *, hashed: bool = True) -> bytes:
        """``wire``'s op as JSON, its ``fields`` the stored text itself: the same values once read
        (``tests/sync/test_push_body.py``), without reading the fields and writing them again —
        5.5 µs of the laptop's 31 µs of CPU per pushed op (measured on 5,000 demo ops)."""
        head = op_json(self.op_seq - base, self.entity, self.record_id, self.kind, self.base_version, {},
                       self.op_hash if hashed else None, self.captured_at, self.questionnaire_version)
        del head["fields"]
        return jsontext.compact(head)[:-1] + b',"fields":' + self.fields_text.encode("utf-8") + b"}"


@dataclass(frozen=True)
class OpOutcome:
    """The server's verdict on one op (``domain.wire.OpResult``) as the laptop applies it: local
    numbering, and its ``conflicts`` read into ``clashes`` — ``(field, our value won)`` — and
    ``lost`` — the server's detail of the fields we lost (absent from an older server's answer)."""

    op_seq: int
    status: str  # an ``OpStatus`` (a newer server's unknown status stays text: journaled as is)
    version: int | None = None
    reason: str | None = None
    clashes: tuple[tuple[str, bool], ...] = ()
    lost: tuple[LostValue, ...] = ()


@dataclass(frozen=True)
class AckSummary:
    acked: int
    conflicts: int
    rejected: int
    unanswered: int = 0  # acked by the watermark without a result (an earlier answer was lost)


# -- state --------------------------------------------------------------------------------------
def state(db: Database, key: str, default: Any = None) -> Any:
    return settings.get(db, key, default, table=STATE)


def put_state(db: Database, key: str, value: Any) -> None:
    settings.put(db, key, value, table=STATE)


def op_seq_base(db: Database) -> int:
    return int(state(db, K_OP_SEQ_BASE, 0))


def last_acked(db: Database) -> int:
    return int(state(db, K_LAST_ACK, op_seq_base(db)))


def cursor(db: Database, scope: str) -> int:
    return int(state(db, CURSOR_PREFIX + scope, 0))


def cursors(db: Database) -> dict[str, int]:
    rows = db.execute("SELECT key, value FROM sync_state WHERE key LIKE ?", [CURSOR_PREFIX + "%"]).fetchall()
    return {k[len(CURSOR_PREFIX):]: int(json.loads(v)) for k, v in rows}


@contextmanager
def immediate(db: Database) -> Iterator[None]:
    """One write transaction taken with ``BEGIN IMMEDIATE``.

    A deferred BEGIN that reads first and writes later fails with SQLITE_BUSY (no waiting) when
    another connection (the GUI thread) committed in between; IMMEDIATE queues on the busy timeout.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:  # a failed COMMIT leaves the transaction open: never keep it
                db.conn.execute("ROLLBACK")
            raise


# -- outbox -------------------------------------------------------------------------------------
_OP_COLUMNS = ("op_seq, entity, record_id, kind, base_version, fields, op_hash, captured_at, app_schema,"
               " questionnaire_version")


def _op(row: Sequence[Any]) -> OutboxOp:
    return OutboxOp(int(row[0]), row[1], row[2], row[3], int(row[4]), row[5], row[6], row[7], int(row[8]),
                    int(row[9]))


def take_batch(db: Database, limit: int, *, after: int = 0) -> list[OutboxOp]:
    """The oldest ``limit`` outbox ops above ``after``, in op_seq order (the server needs them
    without holes; ``after`` skips a batch already sent whose reply is not applied yet)."""
    cur = db.execute(f"SELECT {_OP_COLUMNS} FROM sync_outbox WHERE op_seq > ? ORDER BY op_seq LIMIT ?",
                     [after, limit])
    return [_op(r) for r in cur.fetchall()]


def first_pending(db: Database) -> int | None:
    """The op_seq of the oldest op in the outbox, if any."""
    row = db.execute("SELECT min(op_seq) FROM sync_outbox").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def pending_count(db: Database) -> int:
    return records.pending_ops(db)


def journal_ops(db: Database, after: int = 0) -> list[OutboxOp]:
    cur = db.execute(f"SELECT {_OP_COLUMNS} FROM sync_journal WHERE op_seq > ? ORDER BY op_seq", [after])
    return [_op(r) for r in cur.fetchall()]


def max_op_seq_allocated(db: Database) -> int:
    """The highest op_seq this laptop ever handed out (AUTOINCREMENT's counter, outbox or journal)."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'").fetchone()
    seq = int(row[0]) if row else 0
    for table in ("sync_outbox", "sync_journal"):
        seq = max(seq, int(db.execute(f"SELECT coalesce(max(op_seq), 0) FROM {table}").fetchone()[0]))
    return seq


def mark_sent(db: Database, upto: int) -> None:
    """Remember, durably and before the request leaves, that ops up to ``upto`` may reach the server.

    A sent op keeps its hash forever (the server would call a changed one a replay mismatch), so
    the ack's rebase only touches ops above this mark.
    """
    with immediate(db):
        if upto > int(state(db, K_MAX_SENT, 0)):
            put_state(db, K_MAX_SENT, upto)


def move_to_journal(db: Database, upto: int, outcomes: dict[int, OpOutcome]) -> list[tuple[Any, ...]]:
    """Move outbox ops ``≤ upto`` to the journal; return them as stored rows (``_OP_COLUMNS`` order).

    The ``fields`` JSON text is copied as it is: decoding and re-encoding every op here once
    cost more than the rest of an ack.
    """
    moved = db.execute(f"SELECT {_OP_COLUMNS} FROM sync_outbox WHERE op_seq <= ? ORDER BY op_seq", [upto]).fetchall()
    if not moved:
        return []
    now = utc_now()
    acked = ("acked", None)
    db.conn.executemany(
        "INSERT OR REPLACE INTO sync_journal (op_seq, entity, record_id, kind, base_version, fields, op_hash,"
        " captured_at, app_schema, questionnaire_version, acked_at, status, version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, now, *((outcomes[row[0]].status, outcomes[row[0]].version) if row[0] in outcomes else acked))
         for row in moved])
    db.execute("DELETE FROM sync_outbox WHERE op_seq <= ?", [upto])
    return moved


def raise_last_acked(db: Database, watermark: int) -> None:
    if watermark > last_acked(db):
        put_state(db, K_LAST_ACK, watermark)


def own_window(db: Database) -> tuple[int, int] | None:
    """``sync_own.own_window`` in the server's numbering of the current registration."""
    return _own_window(db, op_seq_base(db))


# -- ack ----------------------------------------------------------------------------------------
def apply_ack(db: Database, watermark: int, outcomes: Sequence[OpOutcome], *, crash: Crash = no_crash) -> AckSummary:
    """Apply a push reply in one transaction. ``watermark``: the server's ``last_op_seq`` in local numbering."""
    by_seq = {o.op_seq: o for o in outcomes}
    conflicts = rejected = unanswered = 0
    with immediate(db):
        moved = move_to_journal(db, watermark, by_seq)
        crash("push.ack.in_tx")
        max_sent = int(state(db, K_MAX_SENT, 0))
        now = utc_now()
        versions: dict[str, list[tuple[int, str, int, int]]] = {}
        rebases: list[Rebase] = []
        floor = 0  # the newest op acknowledged here without an answer that describes our copy
        for row in moved:
            op_seq, entity_name, record_id = row[0], row[1], row[2]
            outcome = by_seq.get(op_seq)
            if outcome is None:
                unanswered += 1  # acked by the watermark of an earlier, lost reply: the server's feed has it
                floor = op_seq
                continue
            if outcome.status not in ANSWERED or (outcome.status == OpStatus.OK and not outcome.version):
                floor = op_seq  # "pruned", a newer server's status: nothing to tell our copy by
            if outcome.status == OpStatus.OK and outcome.version:
                # Nobody else touched the record since our base: the local copy *is* that version.
                versions.setdefault(entity_name, []).append((outcome.version, record_id, outcome.version, op_seq))
                rebases.append(Rebase(entity_name, record_id, outcome.version, max(op_seq, max_sent), row[4]))
            elif outcome.status == OpStatus.CONFLICT:
                conflicts += _store_lost_values(db, _op(row), outcome, now)
            elif outcome.status == OpStatus.REJECTED:
                op = _op(row)
                rejected += 1
                mine = DELETED_MARK if op.kind == OpKind.DELETE else op.fields
                db.execute("INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, theirs, reason, op_seq,"
                           " status, created_at) VALUES ('rejected', ?, ?, NULL, ?, NULL, ?, ?, 'open', ?)",
                           [op.entity, op.record_id, json.dumps(mine, ensure_ascii=False), outcome.reason,
                            op.op_seq, now])
        rebase(db, rebases)
        for entity_name, rows in versions.items():
            ENTITIES[entity_name]  # only known table names reach SQL
            cur = db.conn.executemany(f"UPDATE {entity_name} SET server_version = ? WHERE id = ? AND server_version < ?",
                                      [r[:3] for r in rows])
            if cur.rowcount < len(rows):  # (rare) a copy already newer, or none held: see ``unheld``
                floor = max(floor, unheld(db, entity_name, rows))
        raise_last_acked(db, watermark)
        raise_own_floor(db, floor)
        raise_own_answered(db, watermark)
    return AckSummary(len(moved), conflicts, rejected, unanswered)


def _store_lost_values(db: Database, op: OutboxOp, outcome: OpOutcome, now: str) -> int:
    """One open row per field where our value lost, with the server's detail (winning value, who
    won, why) when the answer carries it; else ``theirs`` is filled when the pull brings the winner."""
    lost = [f for f, won in outcome.clashes if not won]
    if not outcome.clashes:
        lost = ["*"] if op.kind == OpKind.DELETE else list(op.fields)
    detail = {v.field: v for v in outcome.lost}
    for key in lost:
        if key == "*":
            mine: Any = DELETED_MARK if op.kind == OpKind.DELETE else op.fields
        else:
            mine = op.fields.get(key)
        if key in detail:
            record_lost(db, op.entity, op.record_id, mine, detail[key], op_seq=op.op_seq, reason=outcome.reason,
                        now=now)
            continue
        db.execute("INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, theirs, reason, op_seq, status,"
                   " created_at) VALUES ('conflict', ?, ?, ?, ?, NULL, ?, ?, 'open', ?)",
                   [op.entity, op.record_id, key, json.dumps(mine, ensure_ascii=False), outcome.reason, op.op_seq, now])
    return len(lost)


def db_value(kind: Kind, value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if kind is Kind.BOOL and value is not None:
        return int(bool(value))
    return value


# Per entity: (field keys in column order, positions of the yes/no fields), and the keys that are not "extra".
# -- device identity and server restores ----------------------------------------------------------
def reenqueue_from_journal(db: Database, server_watermark: int, *, crash: Crash = no_crash) -> int:
    """The server's log ends before our last ack (restored from a backup): put the acked ops it
    lost back in the outbox, same numbers and hashes, and pull every scope again from the start
    (the restored server hands out sequence numbers we have already seen)."""
    floor = max(server_watermark, op_seq_base(db))
    with immediate(db):
        db.execute(f"INSERT INTO sync_outbox ({_OP_COLUMNS}) SELECT {_OP_COLUMNS} FROM sync_journal"
                   " WHERE op_seq > ? AND op_seq NOT IN (SELECT op_seq FROM sync_outbox)", [floor])
        count = int(db.execute("SELECT changes()").fetchone()[0])
        db.execute("DELETE FROM sync_journal WHERE op_seq > ?", [floor])
        crash("reenqueue.in_tx")
        put_state(db, K_LAST_ACK, floor)
        forget_server_position(db)
    log.warning("server is behind our last ack (restored from backup?): %d ops re-enqueued after %d", count, floor)
    return count


def forget_server_position(db: Database) -> None:
    """The server went back in time (restored from a backup): pull every scope from the start, and
    accept its copies again although their versions are lower than the ones we hold."""
    with db.atomic():
        reset_cursors(db)
        for name in ENTITIES:
            db.execute(f"UPDATE {name} SET server_version = 0 WHERE server_version > 0")


def reset_cursors(db: Database) -> None:
    """Pull everything again from the start: echoes of our earlier ops included (the copies they
    describe may be gone or older: a restore on either side), so the own-ops window closes."""
    with db.atomic():
        raise_own_floor(db, max_op_seq_allocated(db))
        db.execute("DELETE FROM sync_state WHERE key LIKE ?", [CURSOR_PREFIX + "%"])
        db.execute("DELETE FROM sync_state WHERE key = ?", [K_SERVER_SEQ_SEEN])
        # the feed again from the start too; conflicts already stored are recognised by their id
        db.execute("DELETE FROM sync_state WHERE key IN (?, ?)", [K_CONFLICT_CURSOR, K_RESOLUTION_CURSOR])


def store_token(db: Database, token: str, expires_at: str | None) -> None:
    """Keep a rotated token (durably, before it is first used)."""
    with immediate(db):
        put_state(db, K_TOKEN, token)
        put_state(db, K_TOKEN_EXPIRES, expires_at)


def fresh_base(db: Database) -> int:
    """A new device's op_seq base: its number 1 is the first still-pending op (or the next one made)."""
    first = db.execute("SELECT min(op_seq) FROM sync_outbox").fetchone()[0]
    return int(first) - 1 if first is not None else max_op_seq_allocated(db)


def register_device(db: Database, *, server_url: str, username: str, device_id: str, token: str,
                    device_name: str, token_expires_at: str | None = None, base: int | None = None) -> int:
    """Store a fresh device registration; returns the new op_seq base.

    The server starts a new device's log at 0, so op numbers restart after the base: the first
    still-pending op becomes number 1 (or the next one made, if the outbox is empty) — or, when
    the server gave one (``sync_restore.register_successor``), after ``base``.
    """
    with immediate(db):
        base = fresh_base(db) if base is None else base
        same_feed = state(db, K_SERVER_URL) == server_url and state(db, K_USERNAME) == username
        if not same_feed:
            reset_cursors(db)
        history = list(state(db, K_REGISTRATIONS, []))
        history.append({"device_id": device_id, "op_seq_base": base, "server_url": server_url})
        for key, value in ((K_SERVER_URL, server_url), (K_USERNAME, username), (K_DEVICE_ID, device_id),
                           (K_TOKEN, token), (K_DEVICE_NAME, device_name), (K_OP_SEQ_BASE, base),
                           (K_LAST_ACK, base), (K_MAX_SENT, base), (K_REGISTRATIONS, history),
                           (K_OWN_FLOOR, base), (K_OWN_ANSWERED, base),
                           (K_TOKEN_EXPIRES, token_expires_at)):
            put_state(db, key, value)
    return base


def forget_token(db: Database) -> None:
    with immediate(db):
        db.execute("DELETE FROM sync_state WHERE key = ?", [K_TOKEN])
