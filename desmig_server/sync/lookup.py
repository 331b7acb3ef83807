"""The validation ``Lookup`` backed by the HQ database."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from desmig_server.db import tables as t

_CHUNK = 500


class ServerLookup:
    """Village existence from the ``regions`` table, cached for one request.

    ``district_exists`` and ``nik_holder`` only feed soft warnings, which the server ignores
    (the officer already saw them on the laptop), so they answer without touching the DB; a
    NIK search over every member would otherwise cost a table scan per member op.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._villages: dict[str, bool] = {}

    def preload(self, codes: Iterable[str]) -> None:
        wanted = sorted({c for c in codes if c not in self._villages})
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i:i + _CHUNK]
            found = set(self._conn.execute(select(t.regions.c.code).where(
                t.regions.c.code.in_(chunk), t.regions.c.level == 4)).scalars())
            self._villages.update({c: c in found for c in chunk})

    def village_exists(self, code: str) -> bool:
        if code not in self._villages:
            self.preload([code])
        return self._villages[code]

    def village_assigned(self, code: str) -> bool:
        return True  # ``OpApplier`` checks every op against the caller's scopes (per-op rejection)

    def district_exists(self, code: str) -> bool:
        return True

    def nik_holder(self, nik: str, exclude_member_id: str | None) -> tuple[str, str] | None:
        return None
