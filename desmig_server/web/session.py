"""Dashboard sign-in: password check with the API's lockout, signed session cookie, CSRF tokens.

Workers are stateless (DESIGN §5), so the session is a cookie signed with HMAC-SHA256 under a
key kept in the database (``meta.web_session_key``, made once by whichever worker needs it
first). The cookie names the user, its expiry and a random session id; the id is kept in the
database (``web_sessions``, as its SHA-256) until logout or expiry. Every request re-reads the
user and the session row, so logging out kills the cookie everywhere — a copy of it is dead too —
and deleting or disabling a user, changing its role or its password (the cookie also carries a
keyed fingerprint of the password hash) ends its sessions at once.

CSRF: the login form carries ``HMAC(key, "login:" + <random cookie>)`` (double submit: a forged
cross-site form cannot read or set that cookie); forms of a signed-in user carry
``HMAC(key, "form:" + <session signature>)``. Cookies are ``HttpOnly; SameSite=Strict``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import utc_now
from desmig_server.auth import lockout
from desmig_server.auth.principal import Principal
from desmig_server.auth.users import USERNAME_RE
from desmig_server.context import HqContext
from desmig_server.db import tables as t

log = logging.getLogger(__name__)

SESSION_COOKIE = "desmig_hq_session"
LOGIN_CSRF_COOKIE = "desmig_hq_login"
SESSION_TTL_S = 8 * 3600  # one working day
DASHBOARD_ROLES = ("hq", "supervisor")
_KEY_NAME = "web_session_key"


@dataclass(frozen=True)
class WebUser:
    username: str
    role: str
    regency: str | None
    signature: str  # of the session cookie, binds form CSRF tokens to this session

    def principal(self) -> Principal:
        """The report scope of this user (no device: the dashboard only reads)."""
        return Principal(username=self.username, role=self.role, device_id="web", regency=self.regency)


class LoginRefused(Exception):
    """A sign-in that did not succeed; ``message`` is shown on the form."""

    def __init__(self, message: str, status: int = 401, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after


def session_key(ctx: HqContext) -> bytes:
    """The signing key, created on first use; concurrent creators agree on the stored one."""
    with ctx.db.read() as conn:
        stored = conn.execute(select(t.meta.c.value).where(t.meta.c.key == _KEY_NAME)).scalar()
    if stored is None:
        with ctx.db.write() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            conn.execute(insert(t.meta).values(key=_KEY_NAME, value=secrets.token_hex(32)).on_conflict_do_nothing())
            stored = conn.execute(select(t.meta.c.value).where(t.meta.c.key == _KEY_NAME)).scalar_one()
    return bytes.fromhex(stored)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, text: str) -> str:
    return _b64(hmac.new(key, f"{purpose}:{text}".encode(), hashlib.sha256).digest())


def _password_mark(key: bytes, password_hash: str) -> str:
    return _mac(key, "password", password_hash)[:22]


def authenticate(ctx: HqContext, username: str, password: str, now: float | None = None) -> tuple[str, str]:
    """Check a dashboard sign-in; return ``(role, password_hash)``.

    Failures count towards the same lockout as device registration. Officers are refused only
    after a correct password, so the answer tells nothing to someone without it.

    Raises:
        LoginRefused: wrong credentials (401), locked out (429), or an officer (403).
    """
    now = time.time() if now is None else now
    username = username.strip()
    with ctx.db.write() as conn:  # charged before the check, like device registration
        wait = lockout.begin_attempt(conn, username, now, ctx.settings)
    if wait > 0:
        minutes = int(wait // 60) + 1
        raise LoginRefused(_("Terlalu banyak percobaan gagal. Coba lagi dalam {minutes} menit.", minutes=minutes),
                           429, int(wait) + 1)
    with ctx.db.read() as conn:
        user = conn.execute(select(t.users.c.password_hash, t.users.c.role, t.users.c.disabled).where(
            t.users.c.username == username)).first()
    # Verified outside any transaction: argon2 is slow on purpose and must not hold DB locks.
    if not username or not ctx.passwords.verify(user.password_hash if user else None, password):
        with ctx.db.write() as conn:
            locked = lockout.record_failure(conn, username, now, ctx.settings)
        # Only a well-formed name is logged: what else was typed there may be a password.
        shown = username if USERNAME_RE.match(username) else "(malformed username)"
        log.warning("failed dashboard login for %s%s", shown, " (now locked)" if locked else "")
        raise LoginRefused(_("Nama pengguna atau kata sandi salah."))
    assert user is not None
    if user.disabled:  # told only to someone who knows the password
        raise LoginRefused(_("Akun ini dinonaktifkan. Hubungi admin HQ."), 403)
    with ctx.db.write() as conn:
        lockout.reset(conn, username)
    if user.role not in DASHBOARD_ROLES:
        raise LoginRefused(_("Dasbor ini hanya untuk pengguna HQ dan supervisor. Petugas memakai aplikasi "
                             "Desmig di laptop untuk melihat rekap desanya."), 403)
    log.info("dashboard login: %s (%s)", username, user.role)
    return str(user.role), str(user.password_hash)


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def make_session(ctx: HqContext, key: bytes, username: str, password_hash: str, now: float | None = None) -> str:
    """Start a session (its row; expired rows of anyone go) and return the cookie value
    ``<payload>.<signature>``."""
    now = time.time() if now is None else now
    session_id = secrets.token_urlsafe(24)
    expires = int(now + SESSION_TTL_S)
    with ctx.db.write() as conn:
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at <= now))
        conn.execute(insert(t.web_sessions).values(session_hash=_session_hash(session_id), username=username,
                                                   expires_at=expires, created_at=utc_now()))
    payload = _b64(json.dumps({"u": username, "exp": expires, "pw": _password_mark(key, password_hash),
                               "sid": session_id}, separators=(",", ":")).encode())
    return f"{payload}.{_mac(key, 'session', payload)}"


def _verified_payload(key: bytes, cookie: str | None) -> tuple[dict[str, str | float], str] | None:
    """The cookie's fields and signature if the signature is ours, else ``None``."""
    if not cookie or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    if not hmac.compare_digest(signature, _mac(key, "session", payload)):
        return None
    try:
        data = json.loads(_unb64(payload))
        fields: dict[str, str | float] = {"u": str(data["u"]), "exp": float(data["exp"]), "pw": str(data["pw"]),
                                          "sid": str(data["sid"])}
        fields["sid"].encode("ascii")  # type: ignore[union-attr]
    except (ValueError, KeyError, TypeError, UnicodeError):
        return None
    return fields, signature


def read_session(ctx: HqContext, key: bytes, cookie: str | None, now: float | None = None) -> WebUser | None:
    """The signed-in dashboard user behind ``cookie``; ``None`` when absent, forged, expired,
    logged out or stale."""
    verified = _verified_payload(key, cookie)
    if verified is None:
        return None
    fields, signature = verified
    now = time.time() if now is None else now
    username, mark = str(fields["u"]), str(fields["pw"])
    if float(fields["exp"]) <= now:
        return None
    u, s = t.users.c, t.web_sessions.c
    with ctx.db.read() as conn:
        user = conn.execute(select(u.password_hash, u.role, u.regency, u.disabled)
                            .join(t.web_sessions, s.username == u.username)
                            .where(u.username == username, s.session_hash == _session_hash(str(fields["sid"])),
                                   s.expires_at > now)).first()
    if user is None or user.disabled or user.role not in DASHBOARD_ROLES or \
            not hmac.compare_digest(mark, _password_mark(key, user.password_hash)):
        return None
    return WebUser(username=username, role=user.role, regency=user.regency, signature=signature)


def end_session(ctx: HqContext, key: bytes, cookie: str | None) -> None:
    """Log out: the session's row goes, so this cookie — and every copy of it — is dead."""
    verified = _verified_payload(key, cookie)
    if verified is not None:
        with ctx.db.write() as conn:
            conn.execute(delete(t.web_sessions).where(
                t.web_sessions.c.session_hash == _session_hash(str(verified[0]["sid"]))))


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def login_csrf(key: bytes, nonce: str) -> str:
    return _mac(key, "login", nonce)


def form_csrf(key: bytes, user: WebUser) -> str:
    return _mac(key, "form", user.signature)


def token_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")
