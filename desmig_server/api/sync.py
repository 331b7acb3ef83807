"""``/v1/sync/hello``, ``/v1/sync/push``, ``/v1/sync/pull``, ``/v1/sync/changes``, ``/v1/sync/conflicts``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from desmig_desktop.domain import jsontext
from desmig_server.api.body import JsonRoute
from desmig_server.api.deps import Caller, Ctx, Updater
from desmig_server.api.responses import error_responses
from desmig_server.sync import lost as lost_feed
from desmig_server.sync import pull as pull_feed
from desmig_server.sync import push as push_apply
from desmig_server.sync.models import (
    MAX_INT32,
    MAX_INT64,
    VILLAGE_PATTERN,
    HelloReply,
    LostValuesReply,
    PullReply,
    PushReply,
    PushRequest,
    ResolutionsReply,
    ScopesPullReply,
)

router = APIRouter(prefix="/v1/sync", tags=["sync"], route_class=JsonRoute)  # push bodies: jsontext.loads


@router.get("/hello", response_model=HelloReply)
def hello(caller: Updater, ctx: Ctx) -> JSONResponse:
    """Server time, accepted schema window, this device's watermark and its scopes, and the newest
    app release (``update``). Answered to an app too old to sync, too: that is how it learns to update."""
    return JSONResponse(pull_feed.hello(ctx.db, ctx.settings, caller))


@router.post("/push", response_model=PushReply, responses=error_responses(403, 409, 413, 426, descriptions={
    403: "the body's device_id is another device's; nothing applied (an op outside the caller's scopes is"
         " rejected per op in the 200 reply)",
    409: "replay_mismatch or gap (with last_op_seq); nothing applied",
    413: "body or batch too large", 426: "app schema too old"}))
def push(body: PushRequest, caller: Caller, ctx: Ctx) -> Response:
    """Apply ops in order, exactly once per (device, op_seq); the reply's last_op_seq is the ack."""
    return Response(jsontext.compact(push_apply.push(ctx.db, ctx.settings, caller, body, ctx.prepare)),
                    media_type="application/json")


OwnAfter = Annotated[int, Query(ge=0, le=MAX_INT64, description=(
    "with own_through: this device's op numbers in (own_after, own_through] are ops whose answers it"
    " applied; a version that is exactly one of them is left out (no echo). Default: nothing left out"))]
OwnThrough = Annotated[int, Query(ge=0, le=MAX_INT64, description="see own_after")]


def _own(own_after: int, own_through: int) -> pull_feed.Own:
    return pull_feed.Own(own_after, own_through) if own_through > own_after else pull_feed.Own()


@router.get("/pull", response_model=PullReply)
def pull(
    caller: Caller,
    ctx: Ctx,
    scope: Annotated[str, Query(pattern=VILLAGE_PATTERN, description="a village code of the caller")],
    since: Annotated[int, Query(ge=0, le=MAX_INT64, description="server_seq cursor (exclusive)")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=MAX_INT64, description="page size (capped by the server)")] = None,
    own_after: OwnAfter = 0,
    own_through: OwnThrough = 0,
) -> Response:
    """Records of one scope changed after ``since`` (tombstones included), in commit order."""
    size = min(limit or ctx.settings.pull_default_limit, ctx.settings.pull_max_limit)
    return Response(pull_feed.pull(ctx.db, caller, scope=scope, since=since, limit=size,
                                   own=_own(own_after, own_through)), media_type="application/json")


_ONE_CURSOR = r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}:[0-9]{1,18}"
# Up to MAX_SCOPES_PER_PULL ``CODE:SEQ`` pairs; 18 digits keep every cursor within BIGINT.
CURSORS_PATTERN = rf"^{_ONE_CURSOR}(,{_ONE_CURSOR}){{0,{pull_feed.MAX_SCOPES_PER_PULL - 1}}}$"


def parse_cursors(text: str) -> list[tuple[str, int]]:
    """``CODE:SEQ,CODE:SEQ`` (already matched against ``CURSORS_PATTERN``) → ``[(code, seq)]``,
    in the order given; a scope named twice keeps its lower cursor (it reads more, never less)."""
    out: dict[str, int] = {}
    for part in text.split(","):
        code, _, seq = part.partition(":")
        out[code] = min(int(seq), out.get(code, int(seq)))
    return list(out.items())


@router.get("/changes", response_model=ScopesPullReply, responses=error_responses(403, 422))
def changes(
    caller: Caller,
    ctx: Ctx,
    cursors: Annotated[str, Query(pattern=CURSORS_PATTERN, max_length=4096, description=(
        "CODE:SEQ,CODE:SEQ — the caller's village codes, each with its server_seq cursor (exclusive)"))],
    limit: Annotated[int | None, Query(ge=1, le=MAX_INT64, description="page size (capped by the server)")] = None,
    own_after: OwnAfter = 0,
    own_through: OwnThrough = 0,
) -> Response:
    """Records of several scopes after their cursors, one page: each scope's changes in commit
    order, the scopes one after the other in the order given, each with its own cursor."""
    size = min(limit or ctx.settings.pull_default_limit, ctx.settings.pull_max_limit)
    return Response(pull_feed.pull_scopes(ctx.db, caller, cursors=parse_cursors(cursors), limit=size,
                                          own=_own(own_after, own_through)), media_type="application/json")


@router.get("/conflicts", response_model=LostValuesReply)
def lost_values(
    caller: Caller,
    ctx: Ctx,
    since: Annotated[int, Query(ge=0, le=MAX_INT32, description="conflict id cursor (exclusive)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 500,
) -> JSONResponse:
    """The conflicts in which this device's values lost, oldest first (its conflicts inbox)."""
    return JSONResponse(lost_feed.feed(ctx.db, caller, since=since, limit=limit))


@router.get("/resolutions", response_model=ResolutionsReply)
def resolutions(
    caller: Caller,
    ctx: Ctx,
    since: Annotated[int, Query(ge=0, le=MAX_INT64, description="resolution number cursor (exclusive)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 500,
) -> JSONResponse:
    """Conflicts this device lost that were resolved after ``since`` (its inbox closes them)."""
    return JSONResponse(lost_feed.resolutions(ctx.db, caller, since=since, limit=limit))
