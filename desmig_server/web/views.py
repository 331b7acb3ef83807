"""The HQ web dashboard: sign-in, national → village drill-down, charts, CSV/XLSX of the table.

Server-rendered (Jinja2, autoescaped), no script at all: the charts are SVG drawn here. Every
response carries a strict CSP (``default-src 'none'``; styles and images from this origin only),
``frame-ancestors 'none'``/``X-Frame-Options``, ``nosniff`` and ``Referrer-Policy``; pages with
figures are ``no-store``. Supervisors land on their regency and can see nothing outside it.
The programme's figures (issue 15) have tiles of their own; ``dari``/``sampai`` (ISO dates, either
may be empty) choose the period their activities count in, kept by every link of the page.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.numbers import figure as number
from desmig_desktop.domain.reference import is_kemendagri_code
from desmig_desktop.domain.report_period import Period, PeriodError, parse_period
from desmig_desktop.domain.report_spec import (
    LEVEL_LABELS,
    LEVELS,
    METRIC,
    PROGRAMME_SUMMARY_KEYS,
    SUMMARY_KEYS,
    area_phrase,
    areas_held,
    child_level,
)
from desmig_server.context import HqContext
from desmig_server.db import tables as t
from desmig_server.errors import ApiError
from desmig_server.reports.queries import build_report
from desmig_server.web import charts, session
from desmig_server.web.question_charts import question_charts
from desmig_server.web.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL_S, LoginRefused, WebUser
from desmig_server.web.table import shown_columns, to_csv, to_xlsx
from desmig_server.web.texts import texts

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_FILES = {"desmig.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it browsers post forms with "Origin: null", defeating the origin check.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
_MAX_FORM_BYTES = 4096

router = APIRouter(include_in_schema=False)
_templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                         trim_blocks=True, lstrip_blocks=True)


# -- plumbing -----------------------------------------------------------------------------------
def _ctx(request: Request) -> HqContext:
    ctx: HqContext = request.app.state.hq
    return ctx


def _key(request: Request) -> bytes:
    """The session signing key (read from the DB once per worker; it never changes)."""
    key: bytes | None = getattr(request.app.state, "web_session_key", None)
    if key is None:
        key = session.session_key(_ctx(request))
        request.app.state.web_session_key = key
    return key


def harden(response: Response, *, cache: bool = False) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "private, max-age=3600" if cache else "no-store"
    return response


def _page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(t=texts(), **values)
    response = HTMLResponse(html, status_code=status)
    harden(response)
    return response


def _error(request: Request, status: int, message: str, user: WebUser | None = None) -> HTMLResponse:
    csrf = session.form_csrf(_key(request), user) if user else ""
    return _page("error.html", status, title=message, message=message, user=user, csrf=csrf,
                 role_label=_role_label(request, user))


def _role_label(request: Request, user: WebUser | None) -> str:
    if user is None:
        return ""
    if user.role == "hq":
        return _("HQ")
    regency = user.regency or ""
    return _("Supervisor {region}", region=_region_names(_ctx(request), [regency]).get(regency, regency))


def _current_user(request: Request) -> WebUser | None:
    return session.read_session(_ctx(request), _key(request), request.cookies.get(SESSION_COOKIE))


def _to_login() -> Response:
    return harden(RedirectResponse("/login", status_code=303))


def _same_origin(request: Request) -> bool:
    """A browser's ``Origin`` (when sent) must be this host: forms are never posted cross-site.

    Defence in depth (the CSRF token is the protection), so the host a reverse proxy forwarded
    is accepted too: a proxy that rewrites ``Host`` must not lock everyone out.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    hosts = {request.headers.get("host", ""), *request.headers.get("x-forwarded-host", "").split(",")}
    return urlsplit(origin).netloc in {h.strip() for h in hosts if h.strip()}


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form (no multipart parser needed for two fields)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=10)
    return {k: v[0] for k, v in parsed.items()}


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


# -- sign in / out ------------------------------------------------------------------------------
def _login_page(request: Request, status: int = 200, message: str = "", username: str = "") -> Response:
    nonce = session.new_login_nonce()
    response = _page("login.html", status, title=_("Masuk"), message=message, username=username,
                     csrf=session.login_csrf(_key(request), nonce), user=None)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, nonce, 3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    if _current_user(request) is not None:
        return harden(RedirectResponse("/", status_code=303))
    return _login_page(request)


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await _form(request)
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    key = await run_in_threadpool(_key, request)
    if not _same_origin(request) or not nonce or not session.token_ok(session.login_csrf(key, nonce), form.get("csrf")):
        return await run_in_threadpool(_login_page, request, 400,
                                       _("Formulir kedaluwarsa atau tidak sah. Silakan coba lagi."))
    username = form.get("username", "")[:64]
    try:
        _role, password_hash = await run_in_threadpool(session.authenticate, _ctx(request), username,
                                                       form.get("password", ""))
    except LoginRefused as refused:
        response = await run_in_threadpool(_login_page, request, refused.status, refused.message, username)
        if refused.retry_after:
            response.headers["Retry-After"] = str(refused.retry_after)
        return response
    response = harden(RedirectResponse("/", status_code=303))
    cookie = await run_in_threadpool(session.make_session, _ctx(request), key, username.strip(), password_hash)
    _set_cookie(request, response, SESSION_COOKIE, cookie, SESSION_TTL_S)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await _form(request)
    user = await run_in_threadpool(_current_user, request)
    if user is not None and _same_origin(request) and \
            session.token_ok(session.form_csrf(_key(request), user), form.get("csrf")):
        log.info("dashboard logout: %s", user.username)
        await run_in_threadpool(session.end_session, _ctx(request), _key(request), request.cookies.get(SESSION_COOKIE))
        response = _to_login()
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response
    if user is None:
        return _to_login()
    return await run_in_threadpool(_error, request, 400, _("Formulir kedaluwarsa atau tidak sah. Silakan coba lagi."),
                                   user)


# -- the dashboard ------------------------------------------------------------------------------
def _region_names(ctx: HqContext, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    with ctx.db.read() as conn:
        return dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(codes))).all())


def _chain(code: str) -> list[str]:
    """``32.01.05`` -> ``["32", "32.01", "32.01.05"]``."""
    return [code[:n] for n in LEVELS.values() if n <= len(code)] if code else []


def _period(dari: str | None, sampai: str | None) -> Period:
    """The period of the page's ``dari``/``sampai`` (empty: open).

    Raises:
        PeriodError: a date that is not ``YYYY-MM-DD``, or a start after the end.
    """
    return parse_period((dari or "").strip() or None, (sampai or "").strip() or None)


def _query(code: str, period: Period, **more: str) -> str:
    """A link's query: the region, the period (when one is chosen) and ``more``."""
    start, end = period.bounds()
    return urlencode({"kode": code, **({"dari": start} if start else {}), **({"sampai": end} if end else {}), **more})


def _view(request: Request, kode: str | None, dari: str | None = None,
          sampai: str | None = None) -> tuple[WebUser, str, dict[str, Any], dict[str, str]] | Response:
    """Who asks, for which region and period, and its report; or the response that refuses."""
    user = _current_user(request)
    if user is None:
        return _to_login()
    try:
        period = _period(dari, sampai)
    except PeriodError as exc:
        return _error(request, 400, str(exc).replace("--from", _("Dari")).replace("--to", _("Sampai")), user)
    code = (kode if kode is not None else (user.regency or "") if user.role == "supervisor" else "").strip()
    valid = code == "" or is_kemendagri_code(code)
    names = _region_names(_ctx(request), _chain(code)) if valid else {}
    if not valid or (code and code not in names):
        return _error(request, 404, _("Kode wilayah tidak dikenal: {code}", code=code[:20]), user)
    try:
        report = build_report(_ctx(request).db, level=child_level(code), prefix=code, actor=user.principal(),
                              period=period)
    except ApiError as exc:
        if exc.status == 403:
            return _error(request, 403, _("Wilayah ini di luar wilayah kerja Anda."), user)
        raise
    return user, code, report, names


def _cells(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": c.path[0], "raw": c.value(row), "text": number(c.value(row), c.money)} for c in shown_columns()]


def _tiles(totals: dict[str, Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"key": k, "label": METRIC[k].label, "raw": totals[k], "text": number(totals[k], METRIC[k].money),
             "help": METRIC[k].counted} for k in keys]


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, kode: str | None = None, dari: str | None = None,
              sampai: str | None = None) -> Response:
    found = _view(request, kode, dari, sampai)
    if isinstance(found, Response):
        return found
    user, code, report, names = found
    period = _period(dari, sampai)
    level = report["level"]
    at_village = len(code) == LEVELS["village"]
    totals = report["totals"]
    crumbs = [{"name": _("Nasional"), "link": "/?" + _query("", period) if code else None}]
    crumbs += [{"name": names.get(c, c), "link": None if c == code else "/?" + _query(c, period)}
               for c in _chain(code)]
    heading = names.get(code, _("Nasional")) if code else _("Nasional")
    subtitle = (_("Rekap desa/kelurahan {code}", code=code) if at_village else
                _("Rekap per {level}", level=pick(*LEVEL_LABELS[level]).lower()))
    rows = [{"code": r["code"], "name": r["name"], "cells": _cells(r),
             "link": None if at_village else "/?" + _query(r["code"], period)} for r in report["rows"]]
    tiles = _tiles(totals, SUMMARY_KEYS)
    start, end = period.bounds()
    coverage = [{"key": k, "raw": n, "text": area_phrase(k, n)} for k, n in areas_held(totals, code)]
    query = _query(code, period)
    return _page(
        "dashboard.html", title=heading, user=user, role_label=_role_label(request, user),
        csrf=session.form_csrf(_key(request), user), crumbs=crumbs, heading=heading, subtitle=subtitle,
        tiles=tiles, pillar_tiles=_tiles(totals, PROGRAMME_SUMMARY_KEYS), period_from=start or "",
        period_to=end or "", code=code, coverage=coverage, rows=rows, totals=_cells(totals), columns=shown_columns(), level=level,
        head_code=_("Kode"), head_name=pick(*LEVEL_LABELS[level]),
        csv_url=f"/download/rekap.csv?{query}", xlsx_url=f"/download/rekap.xlsx?{query}",
        review_url=f"/mutu/desa?{urlencode({'kode': code})}" if at_village else None,  # the review desk's village page
        charts={
            "sector": charts.bar_chart("chart-sector", _("Unit usaha per sektor (KBLI)"),
                                       charts.sector_bars(totals["businesses_by_kbli"]), _("Belum ada unit usaha."),
                                       label_width=220),
            "country": charts.bar_chart("chart-country", _("PMI per negara tujuan (10 teratas)"),
                                        charts.country_bars(totals["pmi_by_country"]),
                                        _("Belum ada riwayat penempatan.")),
            "status": charts.bar_chart("chart-status", _("Status migrasi anggota rumah tangga"),
                                       charts.status_bars(totals), _("Belum ada anggota rumah tangga."),
                                       colours=True),
        },
        question_charts=question_charts(report),  # questions HQ published after version 1

    )


@router.get("/download/rekap.{fmt}")
def download(request: Request, fmt: str, kode: str | None = None, dari: str | None = None,
             sampai: str | None = None) -> Response:
    if fmt not in ("csv", "xlsx"):
        return _error(request, 404, _("Format unduhan tidak dikenal."))
    found = _view(request, kode, dari, sampai)
    if isinstance(found, Response):
        return found
    user, code, report, names = found
    stem = f"rekap-{code.replace('.', '') or 'nasional'}-{report['level']}"
    if fmt == "csv":
        body, media = to_csv(report), "text/csv; charset=utf-8"
    else:
        title = " › ".join([_("Nasional"), *(names.get(c, c) for c in _chain(code))])
        body = to_xlsx(report, title=title, user=user.username)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    log.info("dashboard download by %s: %s %s", user.username, fmt, code or "national")
    response = Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})
    return harden(response)


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        return harden(Response(status_code=404))
    return harden(Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name]), cache=True)


@router.get("/favicon.ico")
def favicon() -> Response:
    return harden(RedirectResponse("/static/favicon.svg", status_code=308), cache=True)

