"""Dependencies: the app context and the authenticated principal behind a bearer token."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from desmig_server.auth.principal import Principal, authenticate
from desmig_server.context import HqContext
from desmig_server.errors import ApiError, unauthorized

SCHEMA_HEADER = "X-Desmig-App-Schema"
SCHEMA_HEADER_PATTERN = r"^[ \t]*[0-9]{1,9}[ \t]*$"
_bearer = HTTPBearer(auto_error=False, description="Per-device token from POST /v1/devices/register")


def get_ctx(request: Request) -> HqContext:
    ctx: HqContext = request.app.state.hq
    return ctx


def bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The bearer token of the request; 401 without one."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise unauthorized()
    return credentials.credentials


def current_principal(
    ctx: Annotated[HqContext, Depends(get_ctx)],
    token: Annotated[str, Depends(bearer_token)],
    announced: Annotated[str | None, Header(alias=SCHEMA_HEADER, pattern=SCHEMA_HEADER_PATTERN, description=(
        "the app schema of the client; 426 upgrade_required when older than the server accepts"))] = None,
) -> Principal:
    """The caller; 401 without a valid, unexpired, unrevoked token; 426 if it announces a too-old app schema.

    A malformed schema header is refused (422) by its declared pattern: ASCII digits only, since
    ``str.isdigit()`` also accepts "²", which ``int()`` refuses.
    """
    principal = authenticate(ctx.db, token, time.time())
    if announced is not None:
        if int(announced) < ctx.settings.min_schema:
            raise ApiError(426, "upgrade_required", {"min_schema": ctx.settings.min_schema})
    return principal


Ctx = Annotated[HqContext, Depends(get_ctx)]
Caller = Annotated[Principal, Depends(current_principal)]
Token = Annotated[str, Depends(bearer_token)]
