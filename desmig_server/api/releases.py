"""``GET /v1/releases/{version}``: an app release package, resumable with HTTP ``Range``.

Only a single ``bytes=first-[last]`` range is served (what a resuming client sends); anything
else in a Range header is ignored and the whole package sent (RFC 9110 allows ignoring Range).
The package is streamed chunk by chunk from the database (``desmig_server.releases``).
Authenticated like every endpoint, but never 426: an app too old to sync must still update.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import StreamingResponse

from desmig_server import releases
from desmig_server.api.deps import Ctx, Updater
from desmig_server.api.responses import error_responses
from desmig_server.errors import ApiError

router = APIRouter(prefix="/v1/releases", tags=["releases"])
_RANGE = re.compile(r"^bytes=([0-9]{1,15})-([0-9]{0,15})$")
_VERSION = r"^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$"


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of a satisfiable single range, None for no usable Range; 416 past the end."""
    match = _RANGE.match((header or "").strip())
    if match is None:
        return None
    first, last = int(match[1]), int(match[2]) if match[2] else None
    if last is not None and last < first:
        return None  # syntactically invalid: ignored (RFC 9110 §14.1.1)
    if first >= size:
        raise ApiError(416, "range_not_satisfiable", {"size": size}, headers={"Content-Range": f"bytes */{size}"})
    return first, size - 1 if last is None else min(last, size - 1)


@router.get("/{version}", response_class=StreamingResponse, responses={
    200: {"content": {"application/zip": {}}, "description": "the whole package"},
    206: {"content": {"application/zip": {}}, "description": "the requested byte range (Content-Range)"},
    **error_responses(404, 416)})
def download(
    _caller: Updater,
    ctx: Ctx,
    version: Annotated[str, Path(pattern=_VERSION, description="release version X.Y.Z")],
    range_header: Annotated[str | None, Header(alias="Range", description="bytes=first-[last]")] = None,
) -> StreamingResponse:
    """The package of ``version``; with ``Range: bytes=N-`` the rest from byte N (206)."""
    release = releases.find(ctx.db, version)
    if release is None:
        raise ApiError(404, "not_found", {"version": version})
    wanted = _range(range_header, release.size)
    first, last = wanted or (0, release.size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(last - first + 1),
               "ETag": f'"{release.sha256}"', "Content-Disposition": f'attachment; filename="desmig-{version}.zip"'}
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{release.size}"
    return StreamingResponse(releases.stream(ctx.db, version, first, last), status_code=206 if wanted else 200,
                             media_type="application/zip", headers=headers)
