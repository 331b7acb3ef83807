"""``server_seq`` allocation under the ``seq_counter`` row lock.

The first statement of every writing transaction that changes records is
``UPDATE seq_counter SET value = value + 0 ... RETURNING value``: it takes the row lock, so
writers run one at a time and no reader can see seq 11 committed before seq 10. (A PostgreSQL
sequence hands numbers out *before* commit and would let a pull cursor skip a row; on SQLite
``BEGIN IMMEDIATE`` already serialises writers and the UPDATE just reads the value.) Numbers are
handed out locally and the counter advances by the count used just before commit, so the feed
stays dense.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from desmig_server.db import tables as t


class SeqAllocator:
    """Hands out consecutive server_seq values inside one locked transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._base = self._advance(0)
        self._used = 0

    def _advance(self, n: int) -> int:
        stmt = (update(t.seq_counter).where(t.seq_counter.c.id == 1)
                .values(value=t.seq_counter.c.value + n).returning(t.seq_counter.c.value))
        return int(self._conn.execute(stmt).scalar_one())

    @property
    def current(self) -> int:
        """The last value handed out (or committed before this transaction)."""
        return self._base + self._used

    def next(self) -> int:
        self._used += 1
        return self._base + self._used

    def finish(self) -> None:
        """Advance the stored counter by what was handed out; call once, before commit."""
        if self._used:
            self._advance(self._used)
            self._base, self._used = self._base + self._used, 0
