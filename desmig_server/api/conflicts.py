"""``GET /v1/conflicts`` and ``POST /v1/conflicts/{id}/resolve``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from desmig_server.api.deps import Caller, Ctx
from desmig_server.api.responses import error_responses
from desmig_server.sync import conflicts as conflict_service
from desmig_server.sync.models import MAX_INT32, VILLAGE_PATTERN

router = APIRouter(prefix="/v1", tags=["conflicts"])


@router.get("/conflicts")
def conflicts(
    caller: Caller,
    ctx: Ctx,
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    scope: Annotated[str | None, Query(pattern=VILLAGE_PATTERN)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_INT32, description="id cursor (exclusive)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> dict[str, Any]:
    """Conflicts in the caller's scopes, oldest first (officers see theirs, supervisors their regency)."""
    return conflict_service.list_conflicts(ctx.db, caller, status=status, scope=scope, after=after, limit=limit)


class ResolveRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    action: Literal["dismiss", "apply_losing"]


@router.post("/conflicts/{conflict_id}/resolve", responses=error_responses(404, 409))
def resolve(conflict_id: Annotated[int, Path(ge=1, le=MAX_INT32)], body: ResolveRequest, caller: Caller,
            ctx: Ctx) -> dict[str, Any]:
    """Close a conflict: ``dismiss`` keeps the winner, ``apply_losing`` writes the losing value as a new edit."""
    return conflict_service.resolve(ctx.db, ctx.settings, caller, conflict_id, body.action)
