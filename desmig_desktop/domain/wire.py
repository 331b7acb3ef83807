"""The sync wire shapes of DESIGN §4, defined once: the op a device pushes, the server's result
for it, and a record of a pulled page — with their kinds and statuses and their JSON form.

The laptop's outbox and sync client and the HQ server speak these. The server's pydantic
models (``desmig_server.sync.models``) stay the validating, OpenAPI-documented side of the same
shapes; ``tests/contract/test_wire_contract.py`` holds them to these types (same fields, same
JSON for the same value). Stdlib only.

The enums are ``StrEnum``: a member *is* its text, so JSON, SQL parameters and comparisons with
stored text stay exactly what they were. The JSON forms emit plain ``str`` values (``.value``)
all the same: ``jsontext``'s fast encoder takes exact built-in types only.

Hot paths (a push of 1,000 ops, a pull of 600k records) do no per-item work here beyond what
they did before: ``op_json`` and ``result_json`` are the dict builders both sides already ran,
and ``parse_records`` is the page-level loop of the pull parser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class OpKind(StrEnum):
    """What an op does to its record."""

    UPSERT = "upsert"
    DELETE = "delete"


class OpStatus(StrEnum):
    """The server's verdict on one op (a push result's ``status``)."""

    OK = "ok"  # applied; nobody else changed the record since the op's base
    MERGED = "merged"  # applied, merged with another device's concurrent change of other fields
    CONFLICT = "conflict"  # a field (or the delete) clashed; the losing values are in ``conflicts``
    REJECTED = "rejected"  # a business rule refused it (``reason``); consumed all the same
    PRUNED = "pruned"  # a replay of an op applied so long ago that its result is no longer kept


class ProtocolError(ValueError):
    """A body that does not have the documented shape (the server answered 200 with it)."""


def _int(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if type(value) is not int:
        raise ProtocolError(f"{key!r} must be an integer, got {type(value).__name__}")
    return value


def _str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{key!r} must be a string, got {type(value).__name__}")
    return value


# -- the op -----------------------------------------------------------------------------------
def op_json(op_seq: int, entity: str, record_id: str, kind: str, base_version: int, fields: dict[str, Any],
            op_hash: str | None, captured_at: str | None, questionnaire_version: int = 1) -> dict[str, Any]:
    """An op as ``POST /v1/sync/push`` takes it (server numbering); ``kind``: an ``OpKind`` value.
    ``op_hash`` None: left out (a server with feature ``optional_op_hash`` computes it).
    ``questionnaire_version``: the version the op was validated under, sent only when not 1
    (absent means 1, so a version-1 op is byte for byte what it was before versions existed;
    it is not part of ``op_hash``: the op's content is the same whatever version checked it)."""
    if op_hash is None:
        out = {"op_seq": op_seq, "entity": entity, "id": record_id, "kind": kind, "base_version": base_version,
               "fields": fields, "captured_at": captured_at}
    else:
        out = {"op_seq": op_seq, "entity": entity, "id": record_id, "kind": kind, "base_version": base_version,
               "fields": fields, "op_hash": op_hash, "captured_at": captured_at}
    if questionnaire_version != 1:
        out["questionnaire_version"] = questionnaire_version
    return out


@dataclass(frozen=True)
class WireOp:
    """One op as pushed (``op_seq`` in the server's numbering of the device's log)."""

    op_seq: int
    entity: str
    id: str
    kind: OpKind
    base_version: int
    fields: dict[str, Any]
    op_hash: str | None = None  # None: not sent (the server computes it; feature ``optional_op_hash``)
    captured_at: str | None = None
    questionnaire_version: int = 1  # the questionnaire version the op was validated under

    def to_json(self) -> dict[str, Any]:
        return op_json(self.op_seq, self.entity, self.id, _KIND_TEXT[self.kind], self.base_version, self.fields,
                       self.op_hash, self.captured_at, self.questionnaire_version)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> WireOp:
        kind = body.get("kind")
        if kind not in _KINDS:
            raise ProtocolError(f"'kind' must be one of {', '.join(_KINDS)}")
        fields = body.get("fields")
        if type(fields) is not dict:
            raise ProtocolError("'fields' must be an object")
        captured_at = body.get("captured_at")
        if captured_at is not None and not isinstance(captured_at, str):
            raise ProtocolError("'captured_at' must be a string")
        version = 1 if body.get("questionnaire_version") is None else _int(body, "questionnaire_version")
        if version < 1:
            raise ProtocolError("'questionnaire_version' must be at least 1")
        return cls(_int(body, "op_seq"), _str(body, "entity"), _str(body, "id"), OpKind(kind),
                   _int(body, "base_version"), fields, None if body.get("op_hash") is None else _str(body, "op_hash"),
                   captured_at, version)


_KINDS = tuple(k.value for k in OpKind)
_KIND_TEXT: dict[str, str] = {k: k.value for k in OpKind}


# -- the op's result --------------------------------------------------------------------------
def result_json(op_seq: int, status: OpStatus, version: int, reason: str | None,
                conflicts: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    """A push result: ``conflicts`` (one entry per clashing field) only when there are any."""
    out: dict[str, Any] = {"op_seq": op_seq, "status": _STATUS_TEXT[status], "version": version, "reason": reason}
    if conflicts:
        out["conflicts"] = list(conflicts)
    return out


@dataclass(frozen=True)
class OpResult:
    """The server's result for one op (server numbering). ``conflicts``: per clashing field
    ``{"field", "won", ...}``, with the detail of a lost one (``sync.lost.detail`` on the server)."""

    op_seq: int
    status: OpStatus
    version: int
    reason: str | None = None
    conflicts: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return result_json(self.op_seq, self.status, self.version, self.reason, self.conflicts)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> OpResult:
        status = body.get("status")
        if status not in _STATUSES:
            raise ProtocolError(f"'status' must be one of {', '.join(_STATUSES)}")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ProtocolError("'reason' must be a string")
        conflicts = body.get("conflicts") or []
        if not isinstance(conflicts, list) or not all(type(c) is dict for c in conflicts):
            raise ProtocolError("'conflicts' must be a list of objects")
        return cls(_int(body, "op_seq"), OpStatus(status), _int(body, "version"), reason, tuple(conflicts))


_STATUSES = tuple(s.value for s in OpStatus)
# member -> its plain text: a dict lookup is cheaper than ``.value`` (a descriptor), once per op
_STATUS_TEXT: dict[str, str] = {s: s.value for s in OpStatus}


# -- the pulled record ------------------------------------------------------------------------
class PulledRecord(NamedTuple):
    """One record of a pulled page (a tuple: a 100k-household pull builds 600k of them)."""

    entity: str
    id: str
    data: dict[str, Any]
    version: int
    deleted: bool
    server_seq: int
    moved_out: bool = False  # a move-out notice: no data; drop copies older than ``version``
    by: str | None = None  # the username whose op last changed it on the server, when the server says

    def to_json(self) -> dict[str, Any]:
        """The record as ``GET /v1/sync/pull`` writes it: ``moved_out`` only on a notice, ``by``
        only when known (the server splices the same keys in the same order, ``sync/pull.py``)."""
        out: dict[str, Any] = {"entity": self.entity, "id": self.id, "data": self.data, "version": self.version,
                               "deleted": self.deleted, "server_seq": self.server_seq}
        if self.moved_out:
            out["moved_out"] = True
        elif self.by is not None:
            out["by"] = self.by
        return out

    @classmethod
    def from_json(cls, body: Any) -> PulledRecord:
        return parse_records([body])[0]


BY_MAX = 64  # longest ``by`` kept (a username); a longer one is cut, never refused


def parse_records(raw: Any) -> tuple[PulledRecord, ...]:
    """A pull page's ``records``. Runs for every record of every page: type checks inline."""
    if not isinstance(raw, list):
        raise ProtocolError("records must be a list")
    recs = []
    for r in raw:
        if type(r) is not dict:
            raise ProtocolError("a pulled record must be an object")
        data, version, seq = r.get("data"), r.get("version"), r.get("server_seq")
        if type(data) is not dict:
            raise ProtocolError("a pulled record needs a data object")
        if type(version) is not int or type(seq) is not int:
            version, seq = _int(r, "version"), _int(r, "server_seq")  # raises, naming the bad key
        by = r.get("by")
        recs.append(PulledRecord(str(r["entity"]), str(r["id"]), data, version, bool(r.get("deleted")), seq,
                                 r.get("moved_out") is True, by[:BY_MAX] if isinstance(by, str) and by else None))
    return tuple(recs)
