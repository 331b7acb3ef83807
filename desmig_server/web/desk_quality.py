"""Data quality per village (``/mutu``, ``/mutu/desa``) and the read-only household view
(``/rumah-tangga/{id}``), for supervisors (their regency) and HQ.

The household view masks NIK, KK and phone numbers for every dashboard role today
(``desk.show``); it is reached from the village page, which the dashboard's village level links.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.reference import is_kemendagri_code, is_village_code
from desmig_server.errors import ApiError
from desmig_server.review import quality
from desmig_server.web.desk import (
    entity_label,
    label,
    page,
    short_time,
    show,
    signed_in,
)
from desmig_server.web.session import WebUser
from desmig_server.web.views import _chain, _ctx, _error, _region_names

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$", re.ASCII)
DEFAULT_STALE_DAYS = 14


@router.get("/mutu", response_class=HTMLResponse)
def quality_page(request: Request, kode: str | None = None, hari: str | None = None,
                 halaman: str | None = None) -> Response:
    user = signed_in(request)
    if isinstance(user, Response):
        return user
    code = (kode if kode is not None else (user.regency or "") if user.role == "supervisor" else "").strip()
    days_text = (hari or str(DEFAULT_STALE_DAYS)).strip()
    if not (days_text.isascii() and days_text.isdigit() and 1 <= int(days_text) <= 3650):
        return _error(request, 400, _("Jumlah hari harus angka 1–3650."), user)
    page_text = (halaman or "1").strip() or "1"
    if not (page_text.isascii() and page_text.isdigit() and 1 <= int(page_text) <= 100_000):
        return _error(request, 400, _("Nomor halaman tidak valid."), user)
    if code and not is_kemendagri_code(code):
        return _error(request, 404, _("Kode wilayah tidak dikenal: {code}", code=code[:20]), user)
    principal = user.principal()
    if code and not principal.overlaps_prefix(code):
        return _error(request, 403, _("Wilayah ini di luar wilayah kerja Anda."), user)
    stale, number = int(days_text), int(page_text)
    found = quality.overview(_ctx(request).db, principal, code, stale_days=stale,
                             offset=(number - 1) * quality.PAGE_SIZE, limit=quality.PAGE_SIZE)
    last = max(1, -(-found.villages // quality.PAGE_SIZE))
    if number > last:
        return _error(request, 404, _("Nomor halaman tidak valid."), user)
    for r in found.rows:
        r["last_sync_text"] = short_time(r["last_sync"])
        for o in r["officers"]:
            o["last_sync_text"] = short_time(o["last_sync"])
    names = _region_names(_ctx(request), _chain(code))
    heading = names.get(code, _("Nasional")) if code else _("Nasional")
    totals = {"households": found.households, "rejected": found.rejected,
              "without_head": sum(r["without_head"] for r in found.rows)}
    link = "/mutu?" + urlencode({"kode": code, "hari": stale}) + "&halaman="
    return page(request, user, "quality.html", _("Mutu data"), rows=found.rows, code=code, heading=heading,
                stale=stale, stale_count=found.stale, totals=totals, villages=found.villages, page=number,
                last_page=last, prev_url=f"{link}{number - 1}" if number > 1 else None,
                next_url=f"{link}{number + 1}" if number < last else None)


@router.get("/mutu/desa", response_class=HTMLResponse)
def village_page(request: Request, kode: str | None = None) -> Response:
    user = signed_in(request)
    if isinstance(user, Response):
        return user
    code = (kode or "").strip()
    if not is_village_code(code):
        return _error(request, 404, _("Kode desa tidak dikenal: {code}", code=code[:20]), user)
    try:
        found = quality.village(_ctx(request).db, user.principal(), code)
    except ApiError:
        return _error(request, 404, _("Desa ini tidak ada di wilayah kerja Anda."), user)
    names = _region_names(_ctx(request), _chain(code))
    warnings = [{"household_url": f"/rumah-tangga/{w.household_id}", "name": w.name,
                 "entity": entity_label(w.entity), "field": label(w.entity, w.field), "message": w.message}
                for w in found["warnings"]]
    rejected = [{"entity": entity_label(x["entity"]), "record_id": x["record_id"], "reason": x["reason"] or "",
                 "officer": x["username"], "at": short_time(x["applied_at"])} for x in found["rejected"]]
    for h in found["households"]:
        h["updated"] = short_time(h["updated_at"])
    for o in found["officers"]:
        o["last_sync_text"] = short_time(o["last_sync"])
    log.info("village review page %s viewed by %s", code, user.username)
    return page(request, user, "village.html", names.get(code, code), code=code, village=names.get(code, code),
                crumbs=[(names.get(c, c), f"/mutu?kode={c}") for c in _chain(code)[:-1]],
                households=found["households"], warnings=warnings, rejected=rejected, officers=found["officers"])


def _fields(entity: str, data: dict[str, Any], user: WebUser) -> list[tuple[str, str]]:
    spec = ENTITIES[entity]
    return [(label(entity, f.key), show(entity, f.key, data.get(f.key), user))
            for f in spec.fields if f.kind.value != "ref" and not f.hidden and data.get(f.key) not in (None, "")]


@router.get("/rumah-tangga/{household_id}", response_class=HTMLResponse)
def household_page(request: Request, household_id: str) -> Response:
    user = signed_in(request)
    if isinstance(user, Response):
        return user
    missing = _("Rumah tangga tidak ditemukan di wilayah kerja Anda.")
    if not _ID_RE.match(household_id):
        return _error(request, 404, missing, user)
    try:
        h = quality.household(_ctx(request).db, user.principal(), household_id)
    except ApiError:
        return _error(request, 404, missing, user)
    placements: dict[str, list[list[tuple[str, str]]]] = {}
    for p in h["placements"]:
        placements.setdefault(p["_parent"], []).append(_fields("placements", p, user))
    members = [{"id": m["id"], "name": m.get("name") or "", "fields": _fields("members", m, user),
                "placements": placements.get(m["id"], [])} for m in h["members"]]
    log.info("household view by %s (%s)", user.username, h["scope"])
    names = _region_names(_ctx(request), _chain(h["scope"]))
    shown = show("households", "village_code", h["scope"], user)
    fields = [(k, f"{names.get(h['scope'], '')} ({v})" if v == shown and k == label("households", "village_code") else v)
              for k, v in _fields("households", h["data"], user)]
    return page(request, user, "household.html", h["data"].get("head_name") or _("Rumah tangga"), h=h,
                head=show("households", "head_name", h["data"].get("head_name"), user),
                fields=fields, members=members,
                businesses=[_fields("businesses", b, user) for b in h["businesses"]],
                village_name=names.get(h["scope"], h["scope"]), updated=short_time(h["updated_at"]))
