"""User administration and device registration/revocation."""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from desmig_desktop.domain.ids import utc_now
from desmig_server.auth import lineage as lineages
from desmig_server.auth import lockout, tokens
from desmig_server.auth.passwords import Passwords
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.errors import ApiError, unauthorized
from desmig_server.settings import Settings

log = logging.getLogger(__name__)

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
USERNAME_RE = re.compile(USERNAME_PATTERN, re.ASCII)


class UserError(ValueError):
    """A user definition that cannot be stored (message fit for the operator)."""


@dataclass(frozen=True)
class Registration:
    device_id: str
    token: str
    username: str
    role: str
    token_expires_at: float  # epoch seconds
    lineage_base: int | None = None  # with a lineage: where this device's numbering starts (``auth.lineage``)


def _region_codes(conn: Connection, codes: list[str], level: int) -> set[str]:
    return set(conn.execute(select(t.regions.c.code).where(
        t.regions.c.code.in_(codes), t.regions.c.level == level)).scalars())


def add_user(conn: Connection, passwords: Passwords, settings: Settings, *, username: str, role: str,
             password: str, villages: list[str] | None = None, regency: str | None = None) -> None:
    """Create a user; officers need villages, supervisors a regency, HQ neither.

    Raises:
        UserError: invalid name, role, scope, weak password, or the user already exists.
    """
    villages = sorted(set(villages or []))
    if not USERNAME_RE.match(username):
        raise UserError("username must be 1-64 of a-z 0-9 . _ - (lower case)")
    if role not in t.ROLES:
        raise UserError(f"role must be one of {', '.join(t.ROLES)}")
    if len(password) < settings.min_password_length:
        raise UserError(f"password must have at least {settings.min_password_length} characters")
    if role == "officer":
        if not villages or regency:
            raise UserError("an officer needs --villages and no --regency")
        unknown = sorted(set(villages) - _region_codes(conn, villages, 4))
        if unknown:
            raise UserError(f"not Kemendagri village codes: {', '.join(unknown)}")
    elif role == "supervisor":
        if not regency or villages:
            raise UserError("a supervisor needs --regency and no --villages")
        if not _region_codes(conn, [regency], 2):
            raise UserError(f"not a Kemendagri regency code: {regency}")
    elif villages or regency:
        raise UserError("an hq user has no --villages or --regency (it sees everything)")
    if conn.execute(select(t.users.c.username).where(t.users.c.username == username)).first():
        raise UserError(f"user {username} already exists")
    conn.execute(insert(t.users).values(username=username, password_hash=passwords.hash(password), role=role,
                                        regency=regency, created_at=utc_now()))
    if villages:
        conn.execute(insert(t.user_scopes), [{"username": username, "village_code": v} for v in villages])
    log.info("user added: %s (%s)", username, role)


def register_device(db: Database, passwords: Passwords, settings: Settings, *, username: str, password: str,
                    device_name: str, device_id: str | None = None, now: float | None = None,
                    lineage: lineages.LineageClaim | None = None) -> Registration:
    """Check the password (with lockout) and issue a device token.

    Without ``device_id`` a new device is registered. With the id of an unrevoked device of the
    same user (a laptop whose token expired), that device gets a fresh token and keeps its
    ``last_op_seq``, so its op numbering — and exactly-once delivery — carry on. With ``lineage``
    (the laptop's database, ``auth.lineage``) ``device_id`` is only a wish: that device carries on
    if it is the lineage's live one, else a new device continues the lineage's numbering and the
    earlier ones are fenced — never a 404.

    Raises:
        ApiError: 429 while the username is locked out, 401 for wrong credentials, 404 for a
            ``device_id`` that is not an unrevoked device of this user.
    """
    now = time.time() if now is None else now
    with db.write() as conn:
        wait = lockout.begin_attempt(conn, username, now, settings)
    if wait > 0:
        raise ApiError(429, "locked_out", {"retry_after": int(wait) + 1},
                       headers={"Retry-After": str(int(wait) + 1)})
    with db.read() as conn:
        user = conn.execute(select(t.users.c.password_hash, t.users.c.role, t.users.c.disabled).where(
            t.users.c.username == username)).first()
    # Verify outside any transaction: argon2 is deliberately slow and must not hold DB locks.
    if not passwords.verify(user.password_hash if user else None, password):
        with db.write() as conn:
            locked = lockout.record_failure(conn, username, now, settings)
        # Only a well-formed name is logged: whatever else was typed there may be a password, and
        # control characters would forge log lines.
        shown = username if USERNAME_RE.match(username) else "(malformed username)"
        log.warning("failed login for %s%s", shown, " (now locked)" if locked else "")
        raise unauthorized("wrong username or password")
    assert user is not None
    if user.disabled:  # told only to someone who knows the password
        log.warning("login refused for disabled user %s", username)
        raise unauthorized("account disabled")
    issued: tokens.IssuedToken | None = None
    with db.write() as conn:
        lockout.reset(conn, username)  # committed even when the device_id below is refused
        if passwords.needs_rehash(user.password_hash):
            conn.execute(update(t.users).where(t.users.c.username == username).values(
                password_hash=passwords.hash(password)))
        base: int | None = None
        owner: str | None = None
        if lineage is not None:  # the device that carries on the laptop's lineage, or None: a new one
            succession = lineages.settle(conn, username, lineage, device_id)
            device_id, base, owner = succession.device_id, succession.lineage_base, username
        elif device_id is not None:
            owner = conn.execute(select(t.devices.c.username).where(
                t.devices.c.device_id == device_id, t.devices.c.revoked.is_(False)).with_for_update()).scalar()
        if device_id is not None:
            if owner == username:
                issued = tokens.reissue(conn, device_id, settings, now)
                conn.execute(update(t.devices).where(t.devices.c.device_id == device_id).values(
                    device_name=device_name, last_seen=utc_now()))
                log.info("device logged in again for %s: %s", username, device_id)
        else:
            token = tokens.new_token()
            issued = tokens.IssuedToken(str(uuid.uuid4()), token, now + settings.token_ttl_s)
            conn.execute(insert(t.devices).values(
                device_id=issued.device_id, username=username, device_name=device_name,
                token_hash=tokens.token_hash(token), token_expires_at=issued.expires_at, last_op_seq=0,
                revoked=False, created_at=utc_now(), last_seen=utc_now(),
                lineage=lineage.lineage if lineage else None, lineage_base=base or 0))
            log.info("device registered for %s: %s", username, issued.device_id)
    if issued is None:
        raise ApiError(404, "not_found", "no such device of this user")
    return Registration(device_id=issued.device_id, token=issued.token, username=username, role=user.role,
                        token_expires_at=issued.expires_at, lineage_base=base)


def revoke_device(conn: Connection, *, device_id: str, actor_username: str, actor_role: str) -> None:
    """Revoke a device of the caller (HQ may revoke any device).

    Raises:
        ApiError: 404 if there is no such device the caller may revoke.
    """
    query = select(t.devices.c.username).where(t.devices.c.device_id == device_id)
    owner = conn.execute(query).scalar()
    if owner is None or (owner != actor_username and actor_role != "hq"):
        raise ApiError(404, "not_found", "no such device")
    conn.execute(update(t.devices).where(t.devices.c.device_id == device_id).values(
        revoked=True, prev_token_hash=None, prev_token_valid_until=None))
    log.info("device revoked: %s", device_id)


def list_devices(conn: Connection, *, actor_username: str, actor_role: str, username: str | None = None) -> list[Any]:
    """Devices the actor may see: its own; HQ every user's (or ``username``'s)."""
    d = t.devices.c
    query = select(d.device_id, d.username, d.device_name, d.revoked, d.created_at, d.last_seen, d.last_op_seq,
                   d.token_expires_at).order_by(d.username, d.created_at, d.device_id)
    if actor_role != "hq":
        query = query.where(d.username == actor_username)
    if username is not None:
        query = query.where(d.username == username)
    return list(conn.execute(query))


def _existing(conn: Connection, username: str) -> None:
    if conn.execute(select(t.users.c.username).where(t.users.c.username == username).with_for_update()).first() is None:
        raise UserError(f"no user {username}")


def end_web_sessions(conn: Connection, username: str) -> int:
    """Sign ``username`` out of the dashboard everywhere (its session rows go)."""
    return int(conn.execute(delete(t.web_sessions).where(t.web_sessions.c.username == username)).rowcount)


def revoke_user_devices(conn: Connection, username: str) -> int:
    """Revoke every unrevoked device of ``username``; return how many."""
    return int(conn.execute(update(t.devices).where(
        t.devices.c.username == username, t.devices.c.revoked.is_(False)).values(
        revoked=True, prev_token_hash=None, prev_token_valid_until=None)).rowcount)


def set_password(conn: Connection, passwords: Passwords, settings: Settings, *, username: str, password: str,
                 revoke_devices: bool = False) -> int:
    """Change ``username``'s password; return the number of devices revoked.

    Dashboard sessions end at once. Device tokens survive by default: a laptop keeps syncing (and
    keeps its op sequence) after a routine change or a forgotten-password reset; the new password
    is needed only to log in again. After a suspected compromise pass ``revoke_devices``: every
    device of the user is refused from its next request and the officer logs in again as a new
    device (pending edits of a revoked laptop stay on it; see SECURITY.md).

    Raises:
        UserError: unknown user or a password too short.
    """
    if len(password) < settings.min_password_length:
        raise UserError(f"password must have at least {settings.min_password_length} characters")
    _existing(conn, username)
    conn.execute(update(t.users).where(t.users.c.username == username).values(password_hash=passwords.hash(password)))
    lockout.reset(conn, username)
    end_web_sessions(conn, username)
    revoked = revoke_user_devices(conn, username) if revoke_devices else 0
    log.info("password changed for %s (%d device(s) revoked)", username, revoked)
    return revoked


def set_disabled(conn: Connection, *, username: str, disabled: bool) -> None:
    """Disable (or enable again) ``username``: while disabled, its device tokens and dashboard
    sessions are refused on their next request and it cannot log in. Devices are not revoked, so
    enabling the user again lets its laptops carry on with their op sequences.

    Raises:
        UserError: unknown user.
    """
    _existing(conn, username)
    conn.execute(update(t.users).where(t.users.c.username == username).values(disabled=disabled))
    if disabled:
        end_web_sessions(conn, username)
    log.info("user %s: %s", "disabled" if disabled else "enabled", username)
