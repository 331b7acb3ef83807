"""User administration on the web, for HQ only: create officers and supervisors, change their
villages or regency, reset passwords, disable and enable, see and revoke devices.

Every field is checked here first, with a Bahasa Indonesia message per field (``FormError``),
before anything is written; each action then runs in one transaction together with its
``admin_log`` row, reusing ``auth.users`` (the CLI's functions), so a failure leaves nothing
half-written and the web and the CLI keep one definition of what each action does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, false, func, insert, select, update

from desmig_desktop.domain.i18n import _
from desmig_server.auth import users as auth_users
from desmig_server.auth.passwords import Passwords
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.errors import ApiError, forbidden
from desmig_server.review import adminlog
from desmig_server.settings import Settings

CREATABLE_ROLES = ("officer", "supervisor")
MAX_VILLAGES = 200


class FormError(ValueError):
    """Fields that cannot be stored: ``{field: message}`` in Bahasa Indonesia."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _hq_only(actor: Principal) -> None:
    if actor.role != "hq":
        raise forbidden("only HQ administers users")


def _scope_errors(conn: Connection, role: str, villages: list[str], regency: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if role == "officer":
        if not villages:
            errors["villages"] = _("Pilih paling sedikit satu desa/kelurahan tugas.")
        elif len(villages) > MAX_VILLAGES:
            errors["villages"] = _("Paling banyak {n} desa/kelurahan per petugas.", n=MAX_VILLAGES)
        else:
            known = set(conn.execute(select(t.regions.c.code).where(
                t.regions.c.code.in_(villages), t.regions.c.level == 4)).scalars())
            unknown = [v for v in villages if v not in known]
            if unknown:
                errors["villages"] = _("Bukan kode desa/kelurahan Kemendagri: {codes}",
                                       codes=", ".join(v[:20] for v in unknown[:5]))
    elif role == "supervisor":
        if not regency:
            errors["regency"] = _("Pilih satu kabupaten/kota.")
        elif conn.execute(select(t.regions.c.code).where(t.regions.c.code == regency,
                                                         t.regions.c.level == 2)).first() is None:
            errors["regency"] = _("Bukan kode kabupaten/kota Kemendagri: {code}", code=regency[:20])
    return errors


def _password_errors(settings: Settings, password: str, again: str) -> dict[str, str]:
    if len(password) < settings.min_password_length:
        return {"password": _("Kata sandi minimal {n} karakter.", n=settings.min_password_length)}
    if len(password) > 1024:
        return {"password": _("Kata sandi terlalu panjang (paling banyak 1024 karakter).")}
    if password != again:
        return {"password_again": _("Kedua kata sandi tidak sama.")}
    return {}


def create(db: Database, passwords: Passwords, settings: Settings, actor: Principal, *, username: str, role: str,
           password: str, password_again: str, villages: list[str], regency: str) -> None:
    """Create an officer (with villages) or a supervisor (with a regency).

    Raises:
        FormError: any field wrong (nothing written); ApiError 403 for a non-HQ actor.
    """
    _hq_only(actor)
    villages = sorted(set(villages))
    errors: dict[str, str] = {}
    if not auth_users.USERNAME_RE.match(username):
        errors["username"] = _("Nama pengguna 1–64 karakter: huruf kecil a–z, angka, titik, garis bawah atau tanda "
                               "hubung, diawali huruf atau angka.")
    if role not in CREATABLE_ROLES:
        errors["role"] = _("Pilih peran: petugas atau supervisor.")
    errors.update(_password_errors(settings, password, password_again))
    with db.read() as conn:
        if role in CREATABLE_ROLES:
            errors.update(_scope_errors(conn, role, villages, regency))
        if "username" not in errors and conn.execute(select(t.users.c.username).where(
                t.users.c.username == username)).first() is not None:
            errors["username"] = _("Nama pengguna ini sudah dipakai.")
    if errors:
        raise FormError(errors)
    password_hash_input = password  # hashed inside add_user (argon2, outside no lock worth holding)
    with db.write() as conn:
        try:
            auth_users.add_user(conn, passwords, settings, username=username, role=role, password=password_hash_input,
                                villages=villages if role == "officer" else None,
                                regency=regency if role == "supervisor" else None)
        except auth_users.UserError:  # a concurrent admin took the name meanwhile
            raise FormError({"username": _("Nama pengguna ini sudah dipakai.")}) from None
        adminlog.write(conn, actor.username, "user_create", f"user:{username}", role=role,
                       villages=villages if role == "officer" else [], regency=regency if role == "supervisor" else None)


def _user(conn: Connection, username: str) -> Any:
    row = conn.execute(select(t.users).where(t.users.c.username == username)).mappings().first()
    if row is None:
        raise ApiError(404, "not_found", "no such user")
    return row


def set_scope(db: Database, actor: Principal, username: str, *, villages: list[str], regency: str) -> None:
    """Replace an officer's villages or a supervisor's regency (HQ users have no scope)."""
    _hq_only(actor)
    villages = sorted(set(villages))
    with db.write() as conn:
        user = _user(conn, username)
        if user["role"] not in CREATABLE_ROLES:
            raise FormError({"role": _("Pengguna HQ melihat semua wilayah; tidak ada wilayah yang perlu diatur.")})
        errors = _scope_errors(conn, user["role"], villages, regency)
        if errors:
            raise FormError(errors)
        before: dict[str, Any]
        if user["role"] == "officer":
            before = {"villages": sorted(conn.execute(select(t.user_scopes.c.village_code).where(
                t.user_scopes.c.username == username)).scalars())}
            conn.execute(delete(t.user_scopes).where(t.user_scopes.c.username == username))
            conn.execute(insert(t.user_scopes), [{"username": username, "village_code": v} for v in villages])
            after: dict[str, Any] = {"villages": villages}
        else:
            before, after = {"regency": user["regency"]}, {"regency": regency}
            conn.execute(update(t.users).where(t.users.c.username == username).values(regency=regency))
        adminlog.write(conn, actor.username, "user_scope", f"user:{username}", before=before, after=after)


def reset_password(db: Database, passwords: Passwords, settings: Settings, actor: Principal, username: str, *,
                   password: str, password_again: str, revoke_devices: bool) -> int:
    """Set a new password (sessions end; devices keep syncing unless ``revoke_devices``)."""
    _hq_only(actor)
    errors = _password_errors(settings, password, password_again)
    if errors:
        raise FormError(errors)
    with db.write() as conn:
        _user(conn, username)
        revoked = auth_users.set_password(conn, passwords, settings, username=username, password=password,
                                          revoke_devices=revoke_devices)
        adminlog.write(conn, actor.username, "user_password", f"user:{username}", devices_revoked=revoked)
    return revoked


def set_disabled(db: Database, actor: Principal, username: str, disabled: bool) -> None:
    _hq_only(actor)
    if username == actor.username and disabled:
        raise FormError({"disabled": _("Anda tidak dapat menonaktifkan akun Anda sendiri.")})
    with db.write() as conn:
        _user(conn, username)
        auth_users.set_disabled(conn, username=username, disabled=disabled)
        adminlog.write(conn, actor.username, "user_disable" if disabled else "user_enable", f"user:{username}")


def revoke_device(db: Database, actor: Principal, username: str, device_id: str) -> None:
    """Revoke one device of ``username`` (404 when it is not one of that user's devices)."""
    _hq_only(actor)
    with db.write() as conn:
        owner = conn.execute(select(t.devices.c.username, t.devices.c.revoked).where(
            t.devices.c.device_id == device_id)).first()
        if owner is None or owner.username != username:
            raise ApiError(404, "not_found", "no such device")
        if owner.revoked:
            raise FormError({"device": _("Perangkat ini sudah dicabut.")})
        auth_users.revoke_device(conn, device_id=device_id, actor_username=actor.username, actor_role=actor.role)
        adminlog.write(conn, actor.username, "device_revoke", f"user:{username}", device_id=device_id)


def list_users(db: Database, actor: Principal) -> list[dict[str, Any]]:
    """Every user with its scope, device count and last contact of an unrevoked device."""
    _hq_only(actor)
    u, d, s = t.users.c, t.devices.c, t.user_scopes.c
    with db.read() as conn:
        rows = conn.execute(select(u.username, u.role, u.regency, u.disabled, u.created_at).order_by(u.username)).all()
        scopes: dict[str, list[str]] = {}
        for name, code in conn.execute(select(s.username, s.village_code).order_by(s.village_code)).all():
            scopes.setdefault(name, []).append(code)
        seen = {r.username: (int(r.n), r.last) for r in conn.execute(
            select(d.username, func.count().label("n"), func.max(d.last_seen).label("last"))
            .where(d.revoked == false()).group_by(d.username)).all()}
    return [{"username": r.username, "role": r.role, "regency": r.regency, "disabled": bool(r.disabled),
             "created_at": r.created_at, "villages": scopes.get(r.username, []),
             "devices": seen.get(r.username, (0, None))[0], "last_sync": seen.get(r.username, (0, None))[1]}
            for r in rows]


def user_detail(db: Database, actor: Principal, username: str) -> dict[str, Any]:
    _hq_only(actor)
    with db.read() as conn:
        user = dict(_user(conn, username))
        user["villages"] = sorted(conn.execute(select(t.user_scopes.c.village_code).where(
            t.user_scopes.c.username == username)).scalars())
        user["devices"] = [dict(r._mapping) for r in auth_users.list_devices(
            conn, actor_username=actor.username, actor_role="hq", username=username)]
    user.pop("password_hash", None)
    user["log"] = adminlog.recent(db, target=f"user:{username}", limit=20)
    return user
