"""Composition root: ``create_app(db_url)`` wires settings, database, routes and middleware."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from desmig_desktop.domain.i18n import set_language
from desmig_server.aggregates.follower import Follower
from desmig_server.api import conflicts, devices, questionnaire, records, reference, releases, reports, sync
from desmig_server.api.body import RequestBodyMiddleware
from desmig_server.api.headers import SecurityHeadersMiddleware, headers_for
from desmig_server.api.openapi import install_openapi
from desmig_server.api.responses import SHARED as SHARED_ERRORS
from desmig_server.context import HqContext
from desmig_server.db.migrations import migrate
from desmig_server.errors import ApiError
from desmig_server.settings import Settings
from desmig_server.web import install_web

log = logging.getLogger(__name__)

DB_URL_ENV = "DESMIG_HQ_DB"
_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: the offending input may be personal data (a NIK) and is not echoed.
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _validation_detail(exc)
        if any(e["type"] == "json_invalid" for e in detail):
            return JSONResponse({"error": "malformed_json", "detail": detail}, status_code=400)
        return JSONResponse({"error": "invalid_request", "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # Engines hide SQL parameters, so the traceback carries no record values.
        # exc_info=exc, not log.exception: this handler is not an ``except`` block of ours.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        # Sent by Starlette's outermost layer, past the security-headers middleware: add them here.
        return JSONResponse({"error": "internal", "detail": None}, status_code=500,
                            headers=headers_for("application/json", request.url.scheme == "https"))


def create_app(db_url: str, settings: Settings | None = None, *, run_migrations: bool = True,
               follow_aggregates: bool = False) -> FastAPI:
    """Build the HQ app on ``db_url`` (``sqlite:///hq.db`` or ``postgresql+psycopg://...``).

    Migrations run here (idempotent, serialised between processes) unless disabled. A serving
    process (``follow_aggregates``) keeps the report aggregates caught up in the background.
    """
    set_language("id")  # rejection reasons go to officers in Bahasa Indonesia
    ctx = HqContext.open(db_url, settings)
    if run_migrations:
        migrate(ctx.db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        interval = ctx.settings.aggregates_follow_s
        follower = Follower(ctx.db, interval).start() if follow_aggregates and interval > 0 else None
        yield
        if follower is not None:
            follower.stop()
        if ctx.prepare is not None:
            ctx.prepare.close()
        ctx.db.dispose()

    # No /docs or /redoc: they load scripts from a CDN (which a strict CSP forbids and an HQ
    # network should not depend on); the schema stays at /openapi.json.
    app = FastAPI(title="Desmig HQ", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Sync, reference data, reports and conflicts for the Desmig desktop app.")
    app.state.hq = ctx
    for module in (devices, sync, reference, reports, conflicts, records, releases, questionnaire):
        app.include_router(module.router, responses=SHARED_ERRORS)
    install_web(app)  # the HQ dashboard at /
    install_openapi(app, ctx.settings)
    _install_error_handlers(app)
    app.add_middleware(RequestBodyMiddleware, max_body_bytes=ctx.settings.max_body_bytes,
                       max_decompressed_bytes=ctx.settings.max_decompressed_bytes)
    # Level 6 (zlib's default), not Starlette's 9: on a 1,000-record pull page 9 cost 2.7x the
    # CPU of 6 (25 vs 9.4 ms) for ~6 % fewer bytes — more than the rest of the page's work.
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost of ours: every reply gets the headers
    return app


def app_from_env(*, follow_aggregates: bool = False) -> FastAPI:
    """Factory for ``uvicorn --factory`` / multi-worker serving: the DB URL comes from the env."""
    return create_app(os.environ.get(DB_URL_ENV, "sqlite:///hq.db"), follow_aggregates=follow_aggregates)


def serving_app_from_env() -> FastAPI:
    """``app_from_env`` for a worker process of ``desmig-hq serve``, its collector tuned."""
    app = app_from_env(follow_aggregates=True)
    tune_gc_for_serving()
    return app


# Young-generation collections every 50,000 new container objects instead of 700; the older
# generations' factors are raised with it.
GC_THRESHOLD = (50_000, 20, 20)


def tune_gc_for_serving() -> None:
    """Tune the cyclic garbage collector of a serving process (not of whoever builds an app).

    A push allocates dozens of dicts and lists per op (records, field metadata, history). With
    Python's default thresholds the collector ran ~2,950 times during a 61,315-op push and took
    1.9 s of the server's ~12 s (16 %; measured with ``gc.callbacks``), 1.5 s of it in full
    collections re-scanning the ~190,000 long-lived objects of the loaded web stack. Those are
    frozen here (``gc.freeze``: never scanned again) and the young generation is collected far
    less often. Cycles are still collected; all other garbage is freed by reference counting.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
