"""Who is calling (user, role, device) and which village scopes they may read and write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from desmig_server.auth.tokens import check_token, confirm_current, find_token
from desmig_server.db import tables as t
from desmig_server.db.engine import Database

# Higher rank wins a same-field conflict (DESIGN §4).
ROLE_RANK = {"officer": 1, "supervisor": 2, "hq": 3}


@dataclass(frozen=True)
class Principal:
    """An authenticated device acting for its user.

    Scopes: an officer has its assigned villages; a supervisor every village of its regency;
    HQ every village.
    """

    username: str
    role: str
    device_id: str
    regency: str | None = None
    villages: frozenset[str] = frozenset()
    token_expires_at: float | None = None  # epoch seconds, of the token this request used

    @property
    def rank(self) -> int:
        return ROLE_RANK[self.role]

    def can_access(self, scope: str) -> bool:
        if self.role == "hq":
            return True
        if self.role == "supervisor":
            return self.regency is not None and scope.startswith(self.regency + ".")
        return scope in self.villages

    def overlaps_prefix(self, prefix: str) -> bool:
        """Whether any of this principal's villages lies under region ``prefix`` ("" = all)."""
        if self.role == "hq" or prefix == "":
            return True
        if self.role == "supervisor":
            assert self.regency is not None
            return self.regency.startswith(prefix) or prefix.startswith(self.regency + ".")
        return any(v == prefix or v.startswith(prefix + ".") for v in self.villages)

    def scope_condition(self, scope_column: ColumnElement[Any]) -> ColumnElement[bool] | None:
        """SQL restricting ``scope_column`` to this principal's scopes; ``None`` for HQ."""
        if self.role == "hq":
            return None
        if self.role == "supervisor":
            return scope_column.startswith((self.regency or "-") + ".", autoescape=True)
        return scope_column.in_(sorted(self.villages))


def authenticate(db: Database, token: str, now: float) -> Principal:
    """The principal behind a bearer token (the first use of a rotated token retires the old one).

    Raises:
        ApiError: 401 ``unauthorized`` (unknown or revoked token) or ``token_expired``.
    """
    with db.read() as conn:
        match = check_token(find_token(conn, token), now)
        principal = principal_for(conn, match.username, match.device_id, match.role, match.regency,
                                  token_expires_at=match.expires_at)
    if match.current and match.pending_previous:
        with db.write() as conn:
            confirm_current(conn, match.device_id, token)
    return principal


def principal_for(conn: Connection, username: str, device_id: str, role: str, regency: str | None, *,
                  token_expires_at: float | None = None) -> Principal:
    villages: frozenset[str] = frozenset()
    if role == "officer":
        villages = frozenset(conn.execute(
            select(t.user_scopes.c.village_code).where(t.user_scopes.c.username == username)).scalars())
    return Principal(username=username, role=role, device_id=device_id, regency=regency, villages=villages,
                     token_expires_at=token_expires_at)
