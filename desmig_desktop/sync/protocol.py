"""The wire shapes of DESIGN §4, parsed into frozen dataclasses (unknown keys ignored, none required
beyond what the design names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desmig_desktop.store.sync_pull import ServerRecord
from desmig_desktop.store.sync_store import OpOutcome


class ProtocolError(ValueError):
    """The server answered 200 with a body that does not have the documented shape."""


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

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Registration:
        if not isinstance(body.get("device_id"), str) or not isinstance(body.get("token"), str):
            raise ProtocolError("register reply needs device_id and token")
        expires = body.get("token_expires_at")
        return cls(body["device_id"], body["token"], expires if isinstance(expires, str) else None)


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

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Hello:
        scopes = body.get("scopes", [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ProtocolError("scopes must be a list of village codes")
        seqs = body.get("scope_seqs")
        if seqs is not None and not (isinstance(seqs, dict) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in seqs.values())):
            seqs = None  # a malformed hint is ignored: pulling every scope is always correct
        return cls(str(body.get("server_time", "")), _int(body, "min_schema"), _int(body, "max_schema"),
                   _int(body, "last_op_seq"), tuple(scopes), body.get("role"), body.get("username"),
                   dict(seqs) if seqs is not None else None,
                   body["token_expires_at"] if isinstance(body.get("token_expires_at"), str) else None)


@dataclass(frozen=True)
class PushReply:
    last_op_seq: int  # server numbering
    results: tuple[dict[str, Any], ...]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> PushReply:
        results = body.get("results", [])
        if not isinstance(results, list):
            raise ProtocolError("results must be a list")
        return cls(_int(body, "last_op_seq"), tuple(results))

    def outcomes(self, base: int) -> list[OpOutcome]:
        """The per-op results in local numbering."""
        out = []
        for r in self.results:
            clashes = tuple((str(c.get("field")), bool(c.get("won"))) for c in (r.get("conflicts") or []))
            version = r.get("version")
            out.append(OpOutcome(_int(r, "op_seq") + base, str(r.get("status")),
                                 int(version) if isinstance(version, int) else None, r.get("reason"), clashes))
        return out


@dataclass(frozen=True)
class PullPage:
    records: tuple[ServerRecord, ...]
    next: int
    more: bool
    last_op_seq: int  # server numbering, same snapshot as the page

    @classmethod
    def parse(cls, body: dict[str, Any]) -> PullPage:
        raw = body.get("records", [])
        if not isinstance(raw, list):
            raise ProtocolError("records must be a list")
        recs = []
        for r in raw:  # per record of every page: type checks inline rather than through _int
            if type(r) is not dict:
                raise ProtocolError("a pulled record must be an object")
            data, version, seq = r.get("data"), r.get("version"), r.get("server_seq")
            if type(data) is not dict:
                raise ProtocolError("a pulled record needs a data object")
            if type(version) is not int or type(seq) is not int:
                _int(r, "version"), _int(r, "server_seq")  # raises, naming the bad key
            recs.append(ServerRecord(str(r["entity"]), str(r["id"]), data, version, bool(r.get("deleted")), seq,
                                     r.get("moved_out") is True))
        return cls(tuple(recs), _int(body, "next"), bool(body.get("more")), _int(body, "last_op_seq"))
