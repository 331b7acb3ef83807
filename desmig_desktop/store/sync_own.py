"""The window of this device's own ops whose answers were applied here (no echo).

Every op in ``(K_OWN_FLOOR, K_OWN_ANSWERED]`` (local numbering) had its answer applied to this
database by ``sync_store.apply_ack``, so a pull may leave out a version that is exactly such an
op as answered "ok" — the server knows which op made each version (``records.echo_*``). An op
acknowledged without an answer that describes our copy (a lost reply answered by a later
watermark, a pull's watermark, "pruned", a restore, a record no longer held) raises the floor
past it: its records come down as before. The values live in ``sync_state`` beside the cursors;
written inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from desmig_desktop.domain.wire import OpStatus
from desmig_desktop.store import records, settings

STATE = "sync_state"
K_OWN_FLOOR = "own_floor"
K_OWN_ANSWERED = "own_answered"
# The statuses whose answer tells the laptop what its copy is (the others leave it to the pull).
ANSWERED = frozenset((OpStatus.OK, OpStatus.MERGED, OpStatus.CONFLICT, OpStatus.REJECTED))


def _get(db: Database, key: str) -> int:
    return int(settings.get(db, key, 0, table=STATE))


def own_window(db: Database, base: int) -> tuple[int, int] | None:
    """``(after, through]`` in the server's numbering (``base``: the registration's op number 0);
    ``None`` when empty. A pull sends it; the server leaves those versions out."""
    after, through = max(0, _get(db, K_OWN_FLOOR) - base), max(0, _get(db, K_OWN_ANSWERED) - base)
    return (after, through) if through > after else None


def raise_own_floor(db: Database, op_seq: int) -> None:
    """Op ``op_seq`` (and all before it) no longer count as answered here: its records must come
    down by pull."""
    if op_seq > _get(db, K_OWN_FLOOR):
        settings.put(db, K_OWN_FLOOR, op_seq, table=STATE)


def raise_own_answered(db: Database, watermark: int) -> None:
    """An answer acknowledging ops up to ``watermark`` was applied (the ops without one raised
    the floor in the same transaction)."""
    if watermark > _get(db, K_OWN_ANSWERED):
        settings.put(db, K_OWN_ANSWERED, watermark, table=STATE)


def unheld(db: Database, entity_name: str, rows: Sequence[tuple[int, str, int, int]]) -> int:
    """The newest op of ``rows`` (``(version, id, version, op_seq)``, "ok" answers) whose record this
    laptop does not hold (a move-out notice dropped it while the op was pending): the server
    would leave that version out of our pulls as our own, so the window must not cover that op."""
    ids = [r[1] for r in rows]
    held: set[str] = set()
    for i in range(0, len(ids), records.IN_CHUNK):
        chunk = ids[i:i + records.IN_CHUNK]
        held.update(h for (h,) in db.conn.execute(
            f"SELECT id FROM {entity_name} WHERE id IN ({', '.join('?' * len(chunk))})", chunk))
    return max((r[3] for r in rows if r[1] not in held), default=0)
