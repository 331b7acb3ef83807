"""Shared plumbing of the review-desk pages: who may see them, forms, value display.

Same sign-in, session and CSRF as the dashboard (``views``/``session``): every POST needs the
signed-in user's form token and a same-origin ``Origin``; anything else is refused with 400 and
changes nothing. Roles: supervisors and HQ for conflicts, data quality and the household view
(each only within its scopes: a record or village outside them answers 404, like a missing one);
user administration for HQ only (403 for a supervisor).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from desmig_desktop.domain.fields import ENTITIES, Kind
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.privacy import mask_identifiers
from desmig_server.checks.duplicates import FULL_NIK_ROLES
from desmig_server.web import session
from desmig_server.web.session import WebUser
from desmig_server.web.views import (
    _current_user,
    _error,
    _key,
    _page,
    _role_label,
    _same_origin,
    _to_login,
)

MAX_FORM_BYTES = 32 * 1024  # a user form carries up to ``people.MAX_VILLAGES`` village codes
BAD_FORM = "Formulir kedaluwarsa atau tidak sah. Silakan coba lagi."
Form = dict[str, list[str]]  # an urlencoded form, repeated fields kept


def signed_in(request: Request, *, hq_only: bool = False) -> WebUser | Response:
    """The signed-in dashboard user, or the response that sends them away (login, 403)."""
    user = _current_user(request)
    if user is None:
        return _to_login()
    if hq_only and user.role != "hq":
        return _error(request, 403, _("Halaman ini hanya untuk admin HQ."), user)
    return user


async def form_of(request: Request) -> Form:
    """An urlencoded form with repeated fields kept (checkbox lists); empty when not one or too big."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=1000)


def first(form: Form, name: str, limit: int = 200) -> str:
    values = form.get(name) or [""]
    return values[0][:limit]


def csrf_ok(request: Request, user: WebUser, form: Form) -> bool:
    return _same_origin(request) and session.token_ok(session.form_csrf(_key(request), user), first(form, "csrf"))


def bad_form(request: Request, user: WebUser) -> Response:
    return _error(request, 400, _(BAD_FORM), user)


async def signed_post(request: Request, *, hq_only: bool = False) -> tuple[WebUser, Form] | Response:
    """The signed-in user and the form of a desk POST whose CSRF token and origin hold, or the refusal.

    The form is read first (the body must be awaited on the event loop); the checks that read the
    database run in the thread pool, as the routes' own work does.
    """
    form = await form_of(request)
    user = await run_in_threadpool(signed_in, request, hq_only=hq_only)
    if isinstance(user, Response):
        return user
    if not await run_in_threadpool(csrf_ok, request, user, form):
        return await run_in_threadpool(bad_form, request, user)
    return user, form


def page(request: Request, user: WebUser, template: str, title: str, status: int = 200, **values: Any) -> Response:
    """A desk page in the dashboard's frame (nav, who is signed in, logout form)."""
    return _page(template, status, title=title, user=user, role_label=_role_label(request, user),
                 csrf=session.form_csrf(_key(request), user), **values)


def show(entity: str, key: str, value: Any, user: WebUser) -> str:
    """A stored value as a reader sees it: choice labels, Ya/Tidak, and NIK, KK and phone numbers
    masked unless the role may see them whole (``FULL_NIK_ROLES``; none today)."""
    if value is None or value == "":
        return "—"
    spec = ENTITIES[entity]
    if isinstance(value, dict) and value.get("deleted") is not None:
        return _("(rekaman dihapus)") if value["deleted"] else _("(rekaman tetap ada)")
    if isinstance(value, dict):
        return "; ".join(f"{label(entity, k)}: {show(entity, k, v, user)}" for k, v in value.items())
    if spec.has(key):
        fs = spec.field(key)
        if fs.kind == Kind.BOOL or isinstance(value, bool):
            return _("Ya") if value else _("Tidak")
        if fs.choices:
            value = fs.choice_label(str(value), "id")
    text = str(value)
    return text if user.role in FULL_NIK_ROLES else mask_identifiers(text)


def label(entity: str, key: str) -> str:
    spec = ENTITIES.get(entity)
    if key == "*":
        return _("Seluruh rekaman")
    if spec is None or not spec.has(key):
        return key
    fs = spec.field(key)
    return pick(fs.label_id, fs.label_en)


def entity_label(entity: str) -> str:
    spec = ENTITIES.get(entity)
    return pick(spec.label_id, spec.label_en) if spec else entity


def role_name(role: str | None) -> str:
    return {"officer": _("Petugas"), "supervisor": _("Supervisor"), "hq": _("HQ")}.get(role or "", role or "—")


def short_time(iso: str | None) -> str:
    """``2026-12-05T02:36:04.123Z`` → ``2026-12-05 02:36`` (UTC); a dash when never."""
    return f"{iso[:10]} {iso[11:16]}" if iso else "—"
