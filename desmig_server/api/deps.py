"""Dependencies: the app context and the authenticated principal behind a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from desmig_server.auth.principal import Principal, load_principal
from desmig_server.context import HqContext
from desmig_server.errors import ApiError, unauthorized

SCHEMA_HEADER = "X-Desmig-App-Schema"
_bearer = HTTPBearer(auto_error=False, description="Per-device token from POST /v1/devices/register")


def get_ctx(request: Request) -> HqContext:
    ctx: HqContext = request.app.state.hq
    return ctx


def current_principal(
    request: Request,
    ctx: Annotated[HqContext, Depends(get_ctx)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; 401 without a valid, unrevoked token; 426 if it announces a too-old app schema."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise unauthorized()
    with ctx.db.read() as conn:
        principal = load_principal(conn, credentials.credentials)
    if principal is None:
        raise unauthorized()
    announced = request.headers.get(SCHEMA_HEADER)
    if announced is not None:
        if not announced.strip().isdigit():
            raise ApiError(400, "invalid_request", {SCHEMA_HEADER: "an integer"})
        if int(announced) < ctx.settings.min_schema:
            raise ApiError(426, "upgrade_required", {"min_schema": ctx.settings.min_schema})
    return principal


Ctx = Annotated[HqContext, Depends(get_ctx)]
Caller = Annotated[Principal, Depends(current_principal)]
