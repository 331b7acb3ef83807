"""``GET /v1/reference/{regions|countries|kbli}``: read-only reference data with a version/ETag."""

from __future__ import annotations

import functools
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from desmig_desktop.domain.ops import canonical_json
from desmig_desktop.domain.reference import load_countries, load_kbli_categories
from desmig_server.api.deps import Caller, Ctx
from desmig_server.api.responses import error_responses
from desmig_server.db import tables as t

router = APIRouter(prefix="/v1/reference", tags=["reference"])


def _versioned(request: Request, version: str, items: list[dict[str, Any]]) -> Response:
    etag = f'"{version}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return JSONResponse({"version": version, "items": items}, headers={"ETag": etag})


def _digest(items: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(items).encode("utf-8")).hexdigest()[:16]


@functools.cache
def _countries() -> tuple[str, list[dict[str, Any]]]:
    items = [{"code": c.code, "name_id": c.name_id, "name_en": c.name_en} for c in load_countries()]
    return _digest(items), items


@functools.cache
def _kbli() -> tuple[str, list[dict[str, Any]]]:
    items = [{"code": k.code, "name_id": k.name_id, "name_en": k.name_en} for k in load_kbli_categories()]
    return _digest(items), items


@router.get("/regions", responses=error_responses(304))
def regions(
    request: Request,
    caller: Caller,
    ctx: Ctx,
    parent: Annotated[str | None, Query(pattern=r"^[0-9]{2}(\.[0-9]{2}){0,2}$",
                                        description="parent code; omitted = provinces")] = None,
) -> Response:
    """The children of ``parent`` (Kemendagri codes), or the provinces."""
    r = t.regions.c
    with ctx.db.read() as conn:
        version = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "regions_version")).scalar() or "0"
        where = r.parent_code == parent if parent else r.level == 1
        rows = conn.execute(select(r.code, r.name, r.level, r.parent_code, r.kind).where(where)
                            .order_by(r.code)).mappings().all()
    return _versioned(request, version, [dict(row) for row in rows])


@router.get("/countries", responses=error_responses(304))
def countries(request: Request, caller: Caller) -> Response:
    """ISO 3166-1 alpha-2 countries with Indonesian and English names."""
    return _versioned(request, *_countries())


@router.get("/kbli", responses=error_responses(304))
def kbli(request: Request, caller: Caller) -> Response:
    """KBLI 2020 categories A–U."""
    return _versioned(request, *_kbli())
