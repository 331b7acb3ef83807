"""Dependencies: the app context and the authenticated principal behind a bearer token."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from desmig_desktop.domain.release import is_older
from desmig_server.auth.principal import Principal, authenticate
from desmig_server.context import HqContext
from desmig_server.errors import ApiError, unauthorized
from desmig_server.releases import min_version

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


VERSION_HEADER = "X-Desmig-App-Version"
VERSION_HEADER_PATTERN = r"^[ \t]*[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}[ \t]*$"
SchemaHeader = Annotated[str | None, Header(alias=SCHEMA_HEADER, pattern=SCHEMA_HEADER_PATTERN, description=(
    "the app schema of the client; 426 upgrade_required when older than the server accepts"))]
VersionHeader = Annotated[str | None, Header(alias=VERSION_HEADER, pattern=VERSION_HEADER_PATTERN, description=(
    "the app version of the client (X.Y.Z); 426 upgrade_required when older than the newest release's"
    " min_version (hello and the release download still answer it: that is how it updates)"))]


def current_principal(
    ctx: Annotated[HqContext, Depends(get_ctx)],
    token: Annotated[str, Depends(bearer_token)],
    announced: SchemaHeader = None,
    app_version: VersionHeader = None,
) -> Principal:
    """The caller; 401 without a valid, unexpired, unrevoked token; 426 if it announces a too-old
    app schema or an app version below the newest release's ``min_version``.

    A malformed schema header is refused (422) by its declared pattern: ASCII digits only, since
    ``str.isdigit()`` also accepts "²", which ``int()`` refuses.
    """
    principal = authenticate(ctx.db, token, time.time())
    if announced is not None and int(announced) < ctx.settings.min_schema:
        raise ApiError(426, "upgrade_required", {"min_schema": ctx.settings.min_schema})
    if app_version is not None:
        with ctx.db.read() as conn:
            minimum = min_version(conn)
        if minimum is not None and is_older(app_version.strip(), minimum):
            raise ApiError(426, "upgrade_required", {"min_version": minimum})
    return principal


def updating_principal(
    ctx: Annotated[HqContext, Depends(get_ctx)],
    token: Annotated[str, Depends(bearer_token)],
    announced: SchemaHeader = None,
    app_version: VersionHeader = None,
) -> Principal:
    """The caller of hello and of a release download: authenticated like every call, headers
    checked for shape, but never 426 — an app too old to sync must still learn of the update
    and fetch it (hello tells it the schema and version windows; it stops syncing itself)."""
    del announced, app_version  # validated by their declared patterns only
    return authenticate(ctx.db, token, time.time())


Ctx = Annotated[HqContext, Depends(get_ctx)]
Caller = Annotated[Principal, Depends(current_principal)]
Updater = Annotated[Principal, Depends(updating_principal)]
Token = Annotated[str, Depends(bearer_token)]
