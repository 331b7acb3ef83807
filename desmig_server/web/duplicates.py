"""The duplicated-NIK page of the HQ dashboard: same sign-in, roles and look.

HQ sees every NIK held in two or more households; a supervisor only those with a household in
its regency, the others reduced to "outside your area" (``checks.duplicates`` decides). NIKs are
always masked here: no dashboard role is in ``FULL_NIK_ROLES``. The page number is the only
parameter, so no NIK ever appears in a URL.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from desmig_desktop.domain.fields import RELATIONSHIP
from desmig_desktop.domain.i18n import _, pick
from desmig_server.checks.duplicates import FULL_NIK_ROLES, find_duplicates
from desmig_server.web import session
from desmig_server.web.views import _ctx, _current_user, _error, _key, _page, _role_label, _to_login

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
_MAX_PAGE = 100_000


def _page_number(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= _MAX_PAGE:
        return None
    return int(raw)


def _relationship(value: str | None) -> str:
    return next((pick(c.label_id, c.label_en) for c in RELATIONSHIP if c.value == value), value or "")


def _rows(entries: list[dict[str, Any]], first_number: int) -> list[dict[str, Any]]:
    out = []
    for number, entry in enumerate(entries, start=first_number):
        holders = [{"outside": True} if h["outside_scope"] else {
            "outside": False, "village": h["village_name"] or h["village_code"], "village_code": h["village_code"],
            "head_name": h["head_name"] or "", "name": h["name"] or "",
            "household_url": f"/rumah-tangga/{h['household_id']}",  # the review desk's household view
            "relationship": _relationship(h["relationship"]),
            "officer": h["officer"] or "—", "updated": (h["updated_at"] or "")[:10]} for h in entry["holders"]]
        out.append({"number": number, "nik": entry["nik"], "households": entry["households"],
                    "villages_differ": entry["villages_differ"], "officers_differ": entry["officers_differ"],
                    "holders": holders})
    return out


def _texts(total: int, page: int, last: int) -> dict[str, str]:
    return {
        "heading": _("NIK ganda"),
        "intro": _("NIK yang tercatat pada anggota di dua rumah tangga atau lebih. Satu NIK milik satu orang, dan "
                   "satu orang hanya tercatat di satu rumah tangga: periksa dengan KTP/KK lalu perbaiki datanya."),
        "scope_note": _("Hanya NIK yang salah satu rumah tangganya ada di wilayah Anda; rincian rumah tangga di luar "
                        "wilayah Anda tidak ditampilkan (hubungi HQ)."),
        "count": _("{count} NIK ganda", count=total),
        "page": _("Halaman {page} dari {last}", page=page, last=last),
        "prev": _("‹ Sebelumnya"),
        "next": _("Berikutnya ›"),
        "col_number": _("No."),
        "col_nik": _("NIK (disamarkan)"),
        "col_village": _("Desa/kelurahan"),
        "col_head": _("Kepala rumah tangga"),
        "col_member": _("Anggota"),
        "col_officer": _("Petugas"),
        "col_updated": _("Terakhir diubah"),
        "flag_villages": _("beda desa"),
        "flag_officers": _("beda petugas"),
        "outside": _("Rumah tangga di luar wilayah Anda"),
        "none": _("Tidak ada NIK ganda."),
    }


@router.get("/duplikat", response_class=HTMLResponse)
def duplicates_page(request: Request, halaman: str | None = None) -> Response:
    user = _current_user(request)
    if user is None:
        return _to_login()
    number = _page_number(halaman)
    if number is None:
        return _error(request, 404, _("Nomor halaman tidak valid."), user)
    found = find_duplicates(_ctx(request).db, user.principal(), limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE,
                            full_nik=user.role in FULL_NIK_ROLES)
    log.info("duplicates page %d viewed by %s: %d of %d", number, user.username, len(found.entries), found.total)
    last = max(1, -(-found.total // PAGE_SIZE))
    if number > last:
        return _error(request, 404, _("Nomor halaman tidak valid."), user)
    return _page(
        "duplicates.html", title=_("NIK ganda"), d=_texts(found.total, number, last), user=user,
        role_label=_role_label(request, user),
        csrf=session.form_csrf(_key(request), user), rows=_rows(found.entries, found.offset + 1), total=found.total,
        supervisor=user.role == "supervisor", page=number, last_page=last,
        prev_url=f"/duplikat?halaman={number - 1}" if number > 1 else None,
        next_url=f"/duplikat?halaman={number + 1}" if number < last else None,
    )
