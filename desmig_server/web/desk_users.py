"""User administration for HQ admins (``/pengguna``): create officers and supervisors with the
region picker, change their villages or regency, reset passwords, disable/enable, see and revoke
devices. Every action is logged in ``admin_log`` (``review.people``), in its own transaction.

The region picker works without script (the pages' CSP forbids any): its "open" buttons submit
the same POST form with ``buka=<code>``, and the page comes back with that region's children
and every field as it was — except passwords, which are never written back into a page (the
admin types them again; the page says so). Only the "Simpan" button stores anything.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from desmig_desktop.domain.i18n import _
from desmig_server.auth.users import USERNAME_RE
from desmig_server.db import tables as t
from desmig_server.errors import ApiError
from desmig_server.review import people
from desmig_server.web.desk import (
    Form,
    bad_form,
    first,
    page,
    role_name,
    short_time,
    signed_in,
    signed_post,
)
from desmig_server.web.session import WebUser
from desmig_server.web.views import _chain, _ctx, _error, harden

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_OPEN_RE = re.compile(r"^(\d{2}(\.\d{2}){0,2})?$", re.ASCII)
_CODE_RE = re.compile(r"^[0-9.]{2,13}$", re.ASCII)
_DEVICE_RE = re.compile(r"^[A-Za-z0-9-]{1,36}$", re.ASCII)


def _regions(request: Request, parent: str) -> list[Any]:
    r = t.regions.c
    query = select(r.code, r.name, r.level).order_by(r.code)
    query = query.where(r.parent_code == parent) if parent else query.where(r.level == 1)
    with _ctx(request).db.read() as conn:
        return list(conn.execute(query).all())


def _names(request: Request, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    with _ctx(request).db.read() as conn:
        return dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(codes))).all())


def picker(request: Request, role: str, opened: str, villages: list[str], regency: str) -> dict[str, Any]:
    """The region picker's state: where it is opened, the children there, what is chosen elsewhere."""
    if role == "supervisor" and len(opened) > 2:
        opened = opened[:2]  # a supervisor's regency is chosen from its province
    children = _regions(request, opened)
    shown = {c.code for c in children}
    chosen = villages if role == "officer" else [regency] if regency else []
    names = _names(request, [*chosen, *_chain(opened)])
    pickable = 4 if role == "officer" else 2
    return {
        "opened": opened, "crumbs": [(c, names.get(c, c)) for c in _chain(opened)],
        "children": [{"code": c.code, "name": c.name, "pick": c.level == pickable, "open": c.level < pickable,
                      "checked": c.code in chosen} for c in children],
        "elsewhere": [{"code": c, "name": names.get(c, c)} for c in chosen if c not in shown],
        "multi": role == "officer",
    }


def _codes(form: Form, name: str) -> list[str]:
    return sorted({v.strip() for v in form.get(name, []) if v.strip()})[:people.MAX_VILLAGES + 1]


def _form_state(form: Form) -> tuple[str, list[str], str]:
    opened = first(form, "buka" if "buka" in form else "dibuka", 20).strip()
    return (opened if _OPEN_RE.match(opened) else ""), _codes(form, "desa"), first(form, "kabupaten", 20).strip()


# -- the list -----------------------------------------------------------------------------------
@router.get("/pengguna", response_class=HTMLResponse)
def users_page(request: Request) -> Response:
    user = signed_in(request, hq_only=True)
    if isinstance(user, Response):
        return user
    rows = people.list_users(_ctx(request).db, user.principal())
    for r in rows:
        r["role_name"], r["last_sync_text"] = role_name(r["role"]), short_time(r["last_sync"])
        r["scope_text"] = r["regency"] or (", ".join(r["villages"][:3]) + (" …" if len(r["villages"]) > 3 else ""))
    return page(request, user, "users.html", _("Pengguna"), rows=rows)


# -- create -------------------------------------------------------------------------------------
def _new_form(request: Request, user: WebUser, *, status: int = 200, values: dict[str, Any] | None = None,
              errors: dict[str, str] | None = None, retype: bool = False) -> Response:
    v = {"username": "", "role": "officer", "villages": [], "regency": "", "opened": "", **(values or {})}
    return page(request, user, "user_new.html", _("Tambah pengguna"), status=status, v=v, errors=errors or {},
                retype=retype, p=picker(request, v["role"], v["opened"], v["villages"], v["regency"]))


@router.get("/pengguna/baru", response_class=HTMLResponse)
def new_user_page(request: Request) -> Response:
    user = signed_in(request, hq_only=True)
    if isinstance(user, Response):
        return user
    return _new_form(request, user)


@router.post("/pengguna/baru")
async def new_user_submit(request: Request) -> Response:
    got = await signed_post(request, hq_only=True)
    if isinstance(got, Response):
        return got
    user, form = got
    opened, villages, regency = _form_state(form)
    role = first(form, "peran", 20)
    values: dict[str, Any] = {"username": first(form, "username", 200).strip(),
                              "role": role if role in people.CREATABLE_ROLES else "officer",
                              "villages": villages, "regency": regency, "opened": opened}
    password, again = first(form, "password", 1100), first(form, "password_again", 1100)
    if "simpan" not in form:  # the picker moved or the role changed: show the form again, store nothing
        return await run_in_threadpool(lambda: _new_form(request, user, values=values, retype=bool(password)))
    ctx = _ctx(request)
    try:
        await run_in_threadpool(lambda: people.create(
            ctx.db, ctx.passwords, ctx.settings, user.principal(), username=values["username"], role=role,
            password=password, password_again=again, villages=villages, regency=regency))
    except people.FormError as exc:
        errors = exc.errors
        return await run_in_threadpool(lambda: _new_form(request, user, status=422, values=values, errors=errors,
                                                         retype=True))
    log.info("user %s created on the web by %s", values["username"], user.username)
    return harden(RedirectResponse(f"/pengguna/{values['username']}?dibuat=1", status_code=303))


# -- one user -----------------------------------------------------------------------------------
def _user_page(request: Request, user: WebUser, username: str, *, status: int = 200, errors: dict[str, str] | None = None,
               scope: tuple[str, list[str], str] | None = None, notice: str = "") -> Response:
    try:
        target = people.user_detail(_ctx(request).db, user.principal(), username)
    except ApiError:
        return _error(request, 404, _("Pengguna tidak ditemukan."), user)
    opened, villages, regency = scope or ("", target["villages"], target["regency"] or "")
    if scope is None and target["role"] == "officer" and villages:
        opened = villages[0][:8]
    elif scope is None and target["role"] == "supervisor" and regency:
        opened = regency[:2]
    for d in target["devices"]:
        d["last_seen_text"], d["created_text"] = short_time(d["last_seen"]), short_time(d["created_at"])
    for e in target["log"]:
        e["at_text"] = short_time(e["at"])
    return page(request, user, "user.html", username, status=status, u=target, role_label_of=role_name(target["role"]),
                errors=errors or {}, notice=notice,
                p=picker(request, target["role"], opened, villages, regency) if target["role"] != "hq" else None)


def _target(username: str) -> bool:
    return bool(USERNAME_RE.match(username))


@router.get("/pengguna/{username}", response_class=HTMLResponse)
def user_page(request: Request, username: str, dibuat: str | None = None) -> Response:
    user = signed_in(request, hq_only=True)
    if isinstance(user, Response):
        return user
    if not _target(username):
        return _error(request, 404, _("Pengguna tidak ditemukan."), user)
    return _user_page(request, user, username, notice=_("Pengguna dibuat.") if dibuat == "1" else "")


async def _post(request: Request, username: str) -> tuple[WebUser, Form] | Response:
    got = await signed_post(request, hq_only=True)
    if not isinstance(got, Response) and not _target(username):
        return await run_in_threadpool(_error, request, 404, _("Pengguna tidak ditemukan."), got[0])
    return got


async def _act(request: Request, user: WebUser, username: str, action: Any, done: str,
               scope: tuple[str, list[str], str] | None = None) -> Response:
    try:
        await run_in_threadpool(action)
    except people.FormError as exc:
        errors = exc.errors
        return await run_in_threadpool(lambda: _user_page(request, user, username, status=422, errors=errors,
                                                          scope=scope))
    except ApiError as exc:
        if exc.status == 404:
            return await run_in_threadpool(_error, request, 404, _("Pengguna atau perangkat tidak ditemukan."), user)
        raise
    log.info("user %s: %s on the web by %s", username, done, user.username)
    return harden(RedirectResponse(f"/pengguna/{username}", status_code=303))


@router.post("/pengguna/{username}/wilayah")
async def scope_submit(request: Request, username: str) -> Response:
    got = await _post(request, username)
    if isinstance(got, Response):
        return got
    user, form = got
    state = _form_state(form)
    if "simpan" not in form:
        return await run_in_threadpool(lambda: _user_page(request, user, username, scope=state))
    db = _ctx(request).db
    return await _act(request, user, username, lambda: people.set_scope(
        db, user.principal(), username, villages=state[1], regency=state[2]), "scope changed", scope=state)


@router.post("/pengguna/{username}/sandi")
async def password_submit(request: Request, username: str) -> Response:
    got = await _post(request, username)
    if isinstance(got, Response):
        return got
    user, form = got
    ctx = _ctx(request)
    return await _act(request, user, username, lambda: people.reset_password(
        ctx.db, ctx.passwords, ctx.settings, user.principal(), username, password=first(form, "password", 1100),
        password_again=first(form, "password_again", 1100), revoke_devices=first(form, "cabut") == "1"),
        "password reset")


@router.post("/pengguna/{username}/status")
async def status_submit(request: Request, username: str) -> Response:
    got = await _post(request, username)
    if isinstance(got, Response):
        return got
    user, form = got
    wanted = first(form, "nonaktif", 1)
    if wanted not in ("0", "1"):
        return await run_in_threadpool(bad_form, request, user)
    db = _ctx(request).db
    return await _act(request, user, username, lambda: people.set_disabled(db, user.principal(), username, wanted == "1"),
                      "disabled" if wanted == "1" else "enabled")


@router.post("/pengguna/{username}/perangkat")
async def revoke_submit(request: Request, username: str) -> Response:
    got = await _post(request, username)
    if isinstance(got, Response):
        return got
    user, form = got
    device_id = first(form, "device_id", 40)
    if not _DEVICE_RE.match(device_id):
        return await run_in_threadpool(_error, request, 404, _("Pengguna atau perangkat tidak ditemukan."), user)
    db = _ctx(request).db
    return await _act(request, user, username, lambda: people.revoke_device(db, user.principal(), username, device_id),
                      "device revoked")
