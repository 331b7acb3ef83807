"""``GET /v1/records/{entity}/{id}/history``: a record's field history (HQ; supervisors in their regency)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from desmig_desktop.domain.fields import ENTITY_ORDER
from desmig_server.api.deps import Caller, Ctx
from desmig_server.api.responses import error_responses
from desmig_server.sync.audit import record_history
from desmig_server.sync.models import ID_PATTERN, MAX_INT64, HistoryReply

router = APIRouter(prefix="/v1/records", tags=["records"])

# The questionnaire's entities, read from it (never listed here): a new entity is one
# declaration, and OpenAPI documents the set as the parameter's enum.
_ENTITY_PATTERN = "^(" + "|".join(re.escape(name) for name in ENTITY_ORDER) + ")$"
Entity = Annotated[str, Path(pattern=_ENTITY_PATTERN, json_schema_extra={"enum": list(ENTITY_ORDER)})]


@router.get("/{entity}/{record_id}/history", response_model=HistoryReply, responses=error_responses(404))
def history(
    caller: Caller,
    ctx: Ctx,
    entity: Entity,
    record_id: Annotated[str, Path(pattern=ID_PATTERN)],
    after: Annotated[int, Query(ge=0, le=MAX_INT64, description="history row id cursor (exclusive)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description=(
        "history rows per page (one per op and record; its fields are separate entries)"))] = 500,
) -> JSONResponse:
    """Who changed which field from what to what, and when — oldest first.

    Officers get 403; a record outside the caller's scopes is 404, exactly like a missing one.
    """
    return JSONResponse(record_history(ctx.db, caller, entity, record_id, after=after, limit=limit))
