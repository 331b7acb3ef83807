"""``GET /v1/questionnaire``: the current questionnaire document (or ``?version=N``), with an ETag.

A device on an older version (hello's ``questionnaire_version``) fetches the new one here and
applies it; ``If-None-Match`` with the ETag it holds answers 304 with no body. Published
versions never change, so the ETag (version and content digest) names the exact document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from desmig_desktop.domain import jsontext
from desmig_server import questionnaires
from desmig_server.api.deps import Caller, Ctx
from desmig_server.api.responses import error_responses
from desmig_server.errors import ApiError

router = APIRouter(prefix="/v1", tags=["questionnaire"])


def etag(version: int, digest: str) -> str:
    return f'"q{version}-{digest[:32]}"'


def _matches(header: str | None, tag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of tags (weak ones compare by their opaque part)."""
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or tag in candidates


@router.get("/questionnaire", responses={
    200: {"content": {"application/json": {}}, "description": "the questionnaire document (resources/"
          "questionnaire/schema.json), with its ETag"},
    **error_responses(304, 404)})
def questionnaire(
    request: Request,
    _caller: Caller,
    ctx: Ctx,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="an older version; default: current")] = None,
) -> Response:
    """The questionnaire document of the current version (or of ``version``)."""
    with ctx.db.read() as conn:
        found = questionnaires.document(conn, version)
    if found is None:
        raise ApiError(404, "not_found", {"version": version})
    number, digest, doc = found
    tag = etag(number, digest)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(jsontext.compact(doc), media_type="application/json", headers=headers)
