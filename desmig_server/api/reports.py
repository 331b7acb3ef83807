"""``GET /v1/reports``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from desmig_server.api.deps import Caller, Ctx
from desmig_server.reports.queries import build_report
from desmig_server.sync.models import REGION_PREFIX_PATTERN

router = APIRouter(prefix="/v1", tags=["reports"])


@router.get("/reports")
def reports(
    caller: Caller,
    ctx: Ctx,
    level: Annotated[Literal["province", "regency", "district", "village"], Query()] = "province",
    prefix: Annotated[str, Query(pattern=REGION_PREFIX_PATTERN, description=(
        "a region code no deeper than the level (422 otherwise: e.g. a regency for level=province)"))] = "",
) -> dict[str, Any]:
    """Counts per region (same JSON as ``desmig report --json``), limited to the caller's scopes."""
    return build_report(ctx.db, level=level, prefix=prefix, actor=caller)
