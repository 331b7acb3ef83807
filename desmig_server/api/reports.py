"""``GET /v1/reports``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from desmig_desktop.domain.report_period import PeriodError, parse_period
from desmig_server.api.deps import Caller, Ctx
from desmig_server.errors import ApiError
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
    start: Annotated[date | None, Query(alias="from", description=(
        "first day the programme's activities count (YYYY-MM-DD; default: from the first record)"))] = None,
    end: Annotated[date | None, Query(alias="to", description=(
        "last day they count, and the day open cases and children of PMI are taken at (default: today)"))] = None,
) -> dict[str, Any]:
    """Counts per region (same JSON as ``desmig report --json``), limited to the caller's scopes;
    the programme's activities counted from ``from`` to ``to``."""
    try:
        period = parse_period(start.isoformat() if start else None, end.isoformat() if end else None)
    except PeriodError:
        raise ApiError(422, "invalid_request", {"period": "from not after to"}) from None
    return build_report(ctx.db, level=level, prefix=prefix, actor=caller, period=period)
