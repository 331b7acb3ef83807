"""Per-device bearer tokens: issue, check (expiry, revocation), rotate.

A token is 32 random bytes, stored only as its SHA-256: with 256 bits of entropy a fast hash is
enough to make a stolen database useless for impersonation (argon2's deliberate slowness is for
low-entropy passwords).

**Expiry.** Every token expires ``Settings.token_ttl_s`` (90 days) after it was issued; an
expired token gets 401 ``token_expired`` and the officer logs in again with the password. Clients
keep working offline meanwhile — nothing is lost, the outbox waits for the next login.

**Rotation.** ``POST /v1/devices/rotate`` issues a fresh token with a fresh lifetime. The token
it replaces (``prev_token_hash``) keeps working until the *first request made with the new
token*, and at most ``Settings.token_rotation_grace_s`` (and never past its own expiry). So:

* reply received, new token stored and used → the old one dies at that first use;
* reply lost (or the laptop crashed before storing it) → the client still holds the old token,
  which still works: it simply rotates again. Rotating with the replaced token issues another
  fresh token *in place of the unused one* (which dies) and keeps the same grace deadline;
* a replaced token presented after the new one was used is unknown (401 ``unauthorized``).

Revocation (``revoked``) ends both tokens at once; so does disabling the device's user
(``users.disabled``, ``desmig-hq user disable``) for as long as it stays disabled.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select, update

from desmig_server.db import tables as t
from desmig_server.errors import ApiError, unauthorized
from desmig_server.settings import Settings

log = logging.getLogger(__name__)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_expired() -> ApiError:
    return ApiError(401, "token_expired", "token expired: log in again", headers={
        "WWW-Authenticate": 'Bearer error="invalid_token", error_description="token expired"'})


@dataclass(frozen=True)
class TokenMatch:
    """A device found by one of its tokens, and which of them it was."""

    device_id: str
    username: str
    role: str
    regency: str | None
    revoked: bool
    disabled: bool  # the device's user is disabled
    current: bool  # the device's current token (False: the one a rotation replaced)
    pending_previous: bool  # a replaced token is still accepted (the current one not yet used)
    expires_at: float | None  # of the token presented
    expires_at_current: float | None
    prev_valid_until: float | None


_COLUMNS = (t.devices.c.device_id, t.devices.c.username, t.devices.c.revoked, t.devices.c.token_hash,
            t.devices.c.token_expires_at, t.devices.c.prev_token_hash, t.devices.c.prev_token_valid_until,
            t.users.c.role, t.users.c.regency, t.users.c.disabled)


def find_token(conn: Connection, token: str, *, for_update: bool = False) -> TokenMatch | None:
    """The device holding ``token`` as its current or its replaced token; ``None`` if neither."""
    digest = token_hash(token)
    query = (select(*_COLUMNS).join(t.users, t.users.c.username == t.devices.c.username)
             .where(or_(t.devices.c.token_hash == digest, t.devices.c.prev_token_hash == digest)))
    if for_update:
        query = query.with_for_update(of=t.devices)
    row: Any = conn.execute(query).first()
    if row is None:
        return None
    current = row.token_hash == digest
    prev_until = None if row.prev_token_valid_until is None else float(row.prev_token_valid_until)
    expires = None if row.token_expires_at is None else float(row.token_expires_at)
    return TokenMatch(device_id=row.device_id, username=row.username, role=row.role, regency=row.regency,
                      revoked=bool(row.revoked), disabled=bool(row.disabled), current=current,
                      pending_previous=row.prev_token_hash is not None,
                      expires_at=expires if current else prev_until, expires_at_current=expires,
                      prev_valid_until=prev_until)


def check_token(match: TokenMatch | None, now: float) -> TokenMatch:
    """``match`` if its token may be used at ``now``.

    Raises:
        ApiError: 401 ``unauthorized`` (unknown, revoked, or its user disabled) or ``token_expired``.
    """
    if match is None:
        raise unauthorized()
    if match.revoked:
        raise unauthorized("token revoked")
    if match.disabled:
        raise unauthorized("account disabled")
    # A missing expiry fails closed: migration 3 gave every existing device one.
    if match.expires_at is None or now >= match.expires_at:
        raise token_expired()
    return match


def confirm_current(conn: Connection, device_id: str, token: str) -> None:
    """First use of a rotated token: the token it replaced stops working (write transaction)."""
    conn.execute(update(t.devices).where(
        t.devices.c.device_id == device_id, t.devices.c.token_hash == token_hash(token),
    ).values(prev_token_hash=None, prev_token_valid_until=None))


@dataclass(frozen=True)
class IssuedToken:
    device_id: str
    token: str
    expires_at: float


def rotate(conn: Connection, token: str, settings: Settings, now: float) -> IssuedToken:
    """Replace the device's token (write transaction; see the module doc for the lost-reply case).

    Raises:
        ApiError: 401 when ``token`` may not be used (any more).
    """
    match = check_token(find_token(conn, token, for_update=True), now)
    fresh = new_token()
    values: dict[str, Any] = {"token_hash": token_hash(fresh), "token_expires_at": now + settings.token_ttl_s}
    if match.current:
        assert match.expires_at is not None
        values.update(prev_token_hash=token_hash(token),
                      prev_token_valid_until=min(now + settings.token_rotation_grace_s, match.expires_at))
    # else: the caller holds the replaced token (the reply carrying the current one was lost):
    # the unused current token is overwritten and the grace deadline stays as it was.
    conn.execute(update(t.devices).where(t.devices.c.device_id == match.device_id).values(**values))
    log.info("token rotated for device %s%s", match.device_id, "" if match.current else " (reply lost; re-issued)")
    return IssuedToken(match.device_id, fresh, values["token_expires_at"])


def reissue(conn: Connection, device_id: str, settings: Settings, now: float) -> IssuedToken:
    """A fresh token for an existing device after a password login (any older token dies)."""
    fresh = new_token()
    expires = now + settings.token_ttl_s
    conn.execute(update(t.devices).where(t.devices.c.device_id == device_id).values(
        token_hash=token_hash(fresh), token_expires_at=expires, prev_token_hash=None, prev_token_valid_until=None))
    return IssuedToken(device_id, fresh, expires)
