"""The replies of the sync endpoints (DESIGN §4), parsed into frozen dataclasses (unknown keys
ignored, none required beyond what the design names). The op, its result and the pulled record
are ``domain.wire``'s; this module reads the replies that carry them into what the engine and
the store take (local numbering, the lost values' detail)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from desmig_desktop.domain.release import Announcement, ReleaseFormatError
from desmig_desktop.domain.wire import OpStatus, ProtocolError, PulledRecord, parse_records
from desmig_desktop.store.sync_lost import LostValue
from desmig_desktop.store.sync_store import OpOutcome

log = logging.getLogger(__name__)


def _int(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{key!r} must be an integer, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class Registration:
    """The reply of register (and of rotate): a device and its bearer token."""

    device_id: str
    token: str
    token_expires_at: str | None = None
    lineage_base: int | None = None  # register with a lineage: where this device's numbering starts

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Registration:
        if not isinstance(body.get("device_id"), str) or not isinstance(body.get("token"), str):
            raise ProtocolError("register reply needs device_id and token")
        expires = body.get("token_expires_at")
        base = body.get("lineage_base")
        if base is not None and (type(base) is not int or base < 0):
            raise ProtocolError("register reply: lineage_base must be a non-negative integer")
        return cls(body["device_id"], body["token"], expires if isinstance(expires, str) else None, base)


@dataclass(frozen=True)
class Hello:
    server_time: str
    min_schema: int
    max_schema: int
    last_op_seq: int  # server numbering
    scopes: tuple[str, ...]
    role: str | None = None
    username: str | None = None
    # Newest server_seq per scope (scopes without records absent); None when the server did not
    # say (an older server, or a caller with many scopes): then every scope is pulled.
    scope_seqs: dict[str, int] | None = None
    token_expires_at: str | None = None  # when the token used for this call expires (server clock)
    # Newest conflict id in which this device's value lost; None: the server has no such feed.
    conflict_seq: int | None = None
    update: Announcement | None = None  # the newest app release; None: none (or a malformed one)
    # Protocol additions the server speaks (``"changes"``: one pull for several scopes, and the
    # own-ops window that keeps this device's acknowledged changes from echoing back).
    features: tuple[str, ...] = ()
    # Newest resolution number of a conflict this device lost; None: the server has no such feed.
    resolution_seq: int | None = None
    # The questionnaire version HQ publishes now (``GET /v1/questionnaire``); None: not said
    # (a server from before questionnaire versions: every device stays on version 1).
    questionnaire_version: int | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Hello:
        scopes = body.get("scopes", [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ProtocolError("scopes must be a list of village codes")
        seqs = body.get("scope_seqs")
        if seqs is not None and not (isinstance(seqs, dict) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in seqs.values())):
            seqs = None  # a malformed hint is ignored: pulling every scope is always correct
        conflict_seq = body.get("conflict_seq")
        features = body.get("features")
        update = None
        if body.get("update") is not None:
            try:
                update = Announcement.parse(body["update"])
            except ReleaseFormatError as exc:  # never a reason to stop syncing
                log.warning("ignoring a malformed update announcement: %s", exc)
        return cls(str(body.get("server_time", "")), _int(body, "min_schema"), _int(body, "max_schema"),
                   _int(body, "last_op_seq"), tuple(scopes), body.get("role"), body.get("username"),
                   dict(seqs) if seqs is not None else None,
                   body["token_expires_at"] if isinstance(body.get("token_expires_at"), str) else None,
                   _int(body, "conflict_seq") if conflict_seq is not None else None, update,
                   tuple(f for f in features if isinstance(f, str)) if isinstance(features, list) else (),
                   _int(body, "resolution_seq") if body.get("resolution_seq") is not None else None,
                   _int(body, "questionnaire_version") if body.get("questionnaire_version") is not None else None)


@dataclass(frozen=True)
class PushReply:
    last_op_seq: int  # server numbering
    results: tuple[dict[str, Any], ...]
    # ``[op_seq, version, n]``: n plain "ok" results of consecutive ops with consecutive versions
    # (a server that answers a ``compact`` request so; they are then not in ``results``)
    ok_runs: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def parse(cls, body: dict[str, Any]) -> PushReply:
        results = body.get("results", [])
        if not isinstance(results, list):
            raise ProtocolError("results must be a list")
        for r in results:  # the (rare) conflict details are checked here, where a bad reply is a SyncError
            if isinstance(r, dict) and r.get("conflicts") is not None:
                _entries(r)
        runs = body.get("ok_runs") or []
        if not isinstance(runs, list) or not all(
                isinstance(run, list) and len(run) == 3 and all(type(v) is int for v in run) and run[2] >= 0
                for run in runs):
            raise ProtocolError("ok_runs must be a list of [op_seq, version, n]")
        return cls(_int(body, "last_op_seq"), tuple(results), tuple((a, b, n) for a, b, n in runs))

    def outcomes(self, base: int) -> list[OpOutcome]:
        """The per-op results in local numbering."""
        out = [OpOutcome(op_seq + i + base, OpStatus.OK, version + i)
               for op_seq, version, n in self.ok_runs for i in range(n)]
        for r in self.results:
            clashes: tuple[tuple[str, bool], ...] = ()
            lost: tuple[LostValue, ...] = ()
            if r.get("conflicts"):
                clashes, lost = _entries(r)
            version = r.get("version")
            out.append(OpOutcome(_int(r, "op_seq") + base, _status(r.get("status")),
                                 int(version) if isinstance(version, int) else None, r.get("reason"), clashes, lost))
        return out


_STATUSES = {s.value: s for s in OpStatus}


def _status(value: Any) -> str:
    """An ``OpStatus``; a status this app does not know (a newer server's) is kept as its text:
    the op is acknowledged by the watermark all the same, and journaled with it."""
    try:
        return _STATUSES[value]
    except (KeyError, TypeError):
        return str(value)


def _entries(result: dict[str, Any]) -> tuple[tuple[tuple[str, bool], ...], tuple[LostValue, ...]]:
    """A result's ``conflicts``: ``(field, won)`` per clash, and the detail of each lost field."""
    entries = result.get("conflicts") or []
    if not isinstance(entries, list) or not all(isinstance(c, dict) for c in entries):
        raise ProtocolError("conflicts must be a list of objects")
    clashes = tuple((str(c.get("field")), bool(c.get("won"))) for c in entries)
    return clashes, tuple(lost_value(c) for c in entries if not c.get("won") and c.get("id") is not None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def lost_value(c: dict[str, Any], *, base: int = 0, feed: bool = False) -> LostValue:
    """One lost field of a push result, or (``feed``) one item of the lost-values feed."""
    raw_winner = c.get("winner")
    winner: dict[str, Any] = raw_winner if isinstance(raw_winner, dict) else {}
    field = c.get("field")
    if not isinstance(field, str):
        raise ProtocolError("a lost value needs its field")
    if not feed:
        return LostValue(_int(c, "id"), field, c.get("theirs"), _text(winner.get("role")),
                         _text(winner.get("username")), _text(c.get("rule")))
    if not isinstance(c.get("entity"), str) or not isinstance(c.get("record_id"), str):
        raise ProtocolError("a lost value needs its record")
    op_seq = c.get("op_seq")
    return LostValue(_int(c, "id"), field, c.get("theirs"), _text(winner.get("role")), _text(winner.get("username")),
                     _text(c.get("rule")), c["entity"], c["record_id"], c.get("mine"),
                     _int(c, "op_seq") + base if op_seq is not None else None, c.get("status") == "resolved")


@dataclass(frozen=True)
class LostPage:
    """A page of ``GET /v1/sync/conflicts``: values of this device that lost (local numbering)."""

    items: tuple[LostValue, ...]
    next: int
    more: bool

    @classmethod
    def parse(cls, body: dict[str, Any], base: int) -> LostPage:
        raw = body.get("conflicts", [])
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            raise ProtocolError("conflicts must be a list of objects")
        return cls(tuple(lost_value(c, base=base, feed=True) for c in raw), _int(body, "next"), bool(body.get("more")))


@dataclass(frozen=True)
class PullPage:
    records: tuple[PulledRecord, ...]
    next: int
    more: bool
    last_op_seq: int  # server numbering, same snapshot as the page

    @classmethod
    def parse(cls, body: dict[str, Any]) -> PullPage:
        return cls(parse_records(body.get("records", [])), _int(body, "next"), bool(body.get("more")),
                   _int(body, "last_op_seq"))


@dataclass(frozen=True)
class ScopesPage:
    """A page of ``GET /v1/sync/changes``: records of several scopes, each scope's cursor after
    this page (the scopes it read), and the scopes with more to read, in the order asked."""

    records: tuple[PulledRecord, ...]
    cursors: dict[str, int]
    unfinished: tuple[str, ...]
    last_op_seq: int  # server numbering, same snapshot as the page

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ScopesPage:
        cursors, unfinished = body.get("cursors"), body.get("unfinished", [])
        if not isinstance(cursors, dict) or not all(
                isinstance(k, str) and type(v) is int for k, v in cursors.items()):
            raise ProtocolError("cursors must map scopes to integers")
        if not isinstance(unfinished, list) or not all(isinstance(s, str) for s in unfinished):
            raise ProtocolError("unfinished must be a list of scopes")
        return cls(parse_records(body.get("records", [])), dict(cursors), tuple(unfinished),
                   _int(body, "last_op_seq"))


@dataclass(frozen=True)
class ResolutionsPage:
    """A page of ``GET /v1/sync/resolutions``: ids of conflicts this device lost, resolved since."""

    ids: tuple[int, ...]
    next: int
    more: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ResolutionsPage:
        raw = body.get("resolved", [])
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise ProtocolError("resolved must be a list of objects")
        return cls(tuple(_int(r, "id") for r in raw), _int(body, "next"), bool(body.get("more")))
