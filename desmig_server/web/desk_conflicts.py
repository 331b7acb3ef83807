"""The conflicts desk: ``/konflik`` (list with filters) and ``/konflik/{id}`` (both values side
by side; keep the winner, take the other value, or enter a third one).

Resolving goes through ``review.conflicts.resolve`` — the push's applier — so the outcome is a
new version of the record in its village's feed and every officer's laptop pulls it at its next
sync. Filters are query parameters (village code, officer username, minimum age in days): no
personal data in URLs.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from desmig_desktop.domain.fields import ENTITIES, Kind
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.reference import is_village_code
from desmig_server.auth.users import USERNAME_RE
from desmig_server.db import tables as t
from desmig_server.errors import ApiError
from desmig_server.review import conflicts as review
from desmig_server.web.desk import (
    entity_label,
    first,
    label,
    page,
    role_name,
    short_time,
    show,
    signed_in,
    signed_post,
)
from desmig_server.web.session import WebUser
from desmig_server.web.views import _ctx, _error, _region_names, harden

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
MAX_AGE_DAYS = 3650


def _filters(desa: str | None, petugas: str | None, umur: str | None, status: str | None,
             halaman: str | None) -> dict[str, Any] | str:
    """The list's filters, or the Bahasa Indonesia message naming the one that is wrong."""
    village, officer = (desa or "").strip(), (petugas or "").strip()
    if village and not is_village_code(village):
        return _("Kode desa harus berbentuk PP.KK.CC.DDDD, misalnya 32.01.01.1001.")
    if officer and not USERNAME_RE.match(officer):
        return _("Nama petugas tidak valid.")
    age_text, page_text = (umur or "").strip(), (halaman or "1").strip() or "1"
    if age_text and not (age_text.isascii() and age_text.isdigit() and 1 <= int(age_text) <= MAX_AGE_DAYS):
        return _("Umur konflik harus angka hari 1–{n}.", n=MAX_AGE_DAYS)
    if not (page_text.isascii() and page_text.isdigit() and 1 <= int(page_text) <= 100_000):
        return _("Nomor halaman tidak valid.")
    if (status or "open") not in ("open", "resolved", "all"):
        return _("Status tidak dikenal.")
    return {"village": village or None, "officer": officer or None, "age": int(age_text) if age_text else None,
            "status": status or "open", "page": int(page_text)}


def _household_of(request: Request, entity: str, record_id: str) -> str | None:
    """The household a record belongs to (for the link to the household view)."""
    r = t.records.c
    with _ctx(request).db.read() as conn:
        for _step in range(3):
            if entity == "households":
                return record_id
            row = conn.execute(select(r.parent_id).where(r.entity == entity, r.id == record_id)).first()
            if row is None or row.parent_id is None:
                return None
            parent = ENTITIES[entity].parent_entity
            if parent is None:
                return None
            entity, record_id = parent, row.parent_id
    return None


def _row(c: dict[str, Any], user: WebUser, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": c["id"], "scope": c["scope"], "village": (names or {}).get(c["scope"], ""),
            "entity": entity_label(c["entity"]), "field": label(c["entity"], c["field"]),
            "winning": show(c["entity"], c["field"], c["winning_value"], user),
            "losing": show(c["entity"], c["field"], c["losing_value"], user),
            "winner": c["winner"]["username"] or "—", "winner_role": role_name(c["winner"]["role"]),
            "loser": c["loser"]["username"] or "—", "loser_role": role_name(c["loser"]["role"]),
            "created": short_time(c["created_at"]), "status": c["status"],
            "resolution": c["resolution"], "resolved_by": c["resolved_by"], "resolved": short_time(c["resolved_at"])}


@router.get("/konflik", response_class=HTMLResponse)
def conflicts_page(request: Request, desa: str | None = None, petugas: str | None = None, umur: str | None = None,
                   status: str | None = None, halaman: str | None = None) -> Response:
    user = signed_in(request)
    if isinstance(user, Response):
        return user
    filters = _filters(desa, petugas, umur, status, halaman)
    if isinstance(filters, str):
        return _error(request, 400, filters, user)
    principal = user.principal()
    if filters["village"] and not principal.can_access(filters["village"]):
        return _error(request, 404, _("Desa ini tidak ada di wilayah kerja Anda."), user)
    offset = (filters["page"] - 1) * review.PAGE_SIZE
    found, total = review.list_open(_ctx(request).db, principal, village=filters["village"], officer=filters["officer"],
                                    older_than_days=filters["age"], status=filters["status"], offset=offset)
    last = max(1, -(-total // review.PAGE_SIZE))
    query = {k: v for k, v in (("desa", filters["village"]), ("petugas", filters["officer"]),
                               ("umur", filters["age"]), ("status", filters["status"])) if v}
    link = "/konflik?" + urlencode(query) + ("&" if query else "")
    names = _region_names(_ctx(request), sorted({c["scope"] for c in found}))
    return page(request, user, "conflicts.html", _("Konflik data"), rows=[_row(c, user, names) for c in found],
                total=total,
                f=filters, page=filters["page"], last_page=last,
                prev_url=f"{link}halaman={filters['page'] - 1}" if filters["page"] > 1 else None,
                next_url=f"{link}halaman={filters['page'] + 1}" if filters["page"] < last else None)


def _input(entity: str, field: str) -> dict[str, Any]:
    """How the third value is typed: a list for choices and Ya/Tidak, a text box otherwise."""
    spec = ENTITIES[entity]
    if field == "*" or not spec.has(field):
        return {"kind": "none"}
    fs = spec.field(field)
    if fs.kind == Kind.BOOL:
        return {"kind": "select", "options": [("true", _("Ya")), ("false", _("Tidak"))]}
    if fs.choices and fs.kind == Kind.CHOICE:
        return {"kind": "select", "options": [(c.value, pick(c.label_id, c.label_en)) for c in fs.choices]}
    return {"kind": "text", "max": fs.max_length or 300}


def _detail(request: Request, user: WebUser, conflict_id: int, status: int = 200, message: str = "",
            typed: str = "") -> Response:
    try:
        c = review.get(_ctx(request).db, user.principal(), conflict_id)
    except ApiError:
        return _error(request, 404, _("Konflik tidak ditemukan di wilayah kerja Anda."), user)
    household = _household_of(request, c["entity"], c["record_id"])
    return page(request, user, "conflict.html", _("Konflik #{id}", id=conflict_id), status=status, c=_row(c, user),
                raw=c, household_url=f"/rumah-tangga/{household}" if household else None,
                input=_input(c["entity"], c["field"]), message=message, typed=typed,
                can_resolve=c["status"] == "open")


@router.get("/konflik/{conflict_id}", response_class=HTMLResponse)
def conflict_page(request: Request, conflict_id: str) -> Response:
    user = signed_in(request)
    if isinstance(user, Response):
        return user
    if not (conflict_id.isascii() and conflict_id.isdigit() and 1 <= int(conflict_id) <= 2**31 - 1):
        return _error(request, 404, _("Konflik tidak ditemukan di wilayah kerja Anda."), user)
    return _detail(request, user, int(conflict_id))


@router.post("/konflik/{conflict_id}")
async def resolve_submit(request: Request, conflict_id: str) -> Response:
    got = await signed_post(request)
    if isinstance(got, Response):
        return got
    user, form = got
    if not (conflict_id.isascii() and conflict_id.isdigit() and 1 <= int(conflict_id) <= 2**31 - 1):
        return await run_in_threadpool(_error, request, 404, _("Konflik tidak ditemukan di wilayah kerja Anda."), user)
    choice, typed = first(form, "pilihan", 10), first(form, "nilai", 2000)
    value: Any = typed.strip() or None
    if choice == "value" and value is None:
        return await run_in_threadpool(_detail, request, user, int(conflict_id), 422,
                                       _("Isi nilai ketiga, atau pilih salah satu nilai yang ada."), typed)
    ctx = _ctx(request)
    try:
        done = await run_in_threadpool(review.resolve, ctx.db, ctx.settings, user.principal(), int(conflict_id),
                                       choice, value)
    except ApiError as exc:
        if exc.status == 404:
            return await run_in_threadpool(_error, request, 404, _("Konflik tidak ditemukan di wilayah kerja Anda."),
                                           user)
        if exc.code == "rejected":
            message = _("Nilai ini tidak bisa disimpan: {reason}", reason=str(exc.detail))
        elif exc.code == "already_resolved":
            message = _("Konflik ini sudah diselesaikan oleh {who}.", who=(exc.detail or {}).get("resolved_by") or "—")
        else:
            message = _("Pilih salah satu cara menyelesaikan konflik.")
        return await run_in_threadpool(_detail, request, user, int(conflict_id), 409 if exc.status == 409 else 422,
                                       message, typed)
    log.info("conflict %s resolved on the web by %s: %s (version %s)", conflict_id, user.username, choice,
             done["version"])
    return harden(RedirectResponse(f"/konflik/{conflict_id}?selesai=1", status_code=303))
