"""A table of bad requests: each gets its 4xx JSON error and leaves the database unchanged."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from desmig_server.settings import Settings

from .conftest import open_hq
from .support import V1, V_OTHER, Device, Hq, household, make_op

SETTINGS = dataclasses.replace(Settings.from_env(), max_body_bytes=64 * 1024, max_decompressed_bytes=256 * 1024,
                               max_ops_per_push=50)


@dataclass
class World:
    hq: Hq
    dev: Device


@pytest.fixture(scope="module")
def world(module_db_url: str) -> Iterator[World]:
    for hq_app in open_hq(module_db_url, SETTINGS):
        dev = hq_app.user_device("ofc", "officer", villages=[V1])
        dev.push_ok(dev.op("households", "h0", household()))
        boss = hq_app.user_device("pusat", "hq")
        boss.push_ok(boss.op("households", "hz", household(V_OTHER)))
        yield World(hq_app, dev)


def good_op(**over: Any) -> dict[str, Any]:
    op = make_op(2, "households", "h1", household())
    op.update(over)
    return op


def push_body(w: World, *ops: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"device_id": w.dev.device_id, "app_schema": 1, "ops": list(ops), **over}


Request = Callable[[World], tuple[str, str, dict[str, Any]]]


def push_json(make: Callable[[World], Any]) -> Request:
    return lambda w: ("POST", "/v1/sync/push", {"json": make(w)})


def push_raw(content: Callable[[World], bytes], **headers: str) -> Request:
    return lambda w: ("POST", "/v1/sync/push", {
        "content": content(w), "headers": {"Content-Type": "application/json", **headers}})


def get(path: str, **params: Any) -> Request:
    return lambda w: ("GET", path, {"params": params})


def _bomb(_w: World) -> bytes:
    # 10 MiB of spaces inside valid JSON compresses to ~10 KiB: far under the raw cap, far over
    # the decompressed one.
    return gzip.compress(b'{"ops": [], "pad": "' + b" " * (10 * 1024 * 1024) + b'"}')


CASES: list[Any] = [
    ("malformed json", push_raw(lambda w: b'{"device_id": '), 400, "malformed_json"),
    ("array body", push_json(lambda w: [1, 2]), 422, "invalid_request"),
    ("missing ops", push_json(lambda w: {"device_id": w.dev.device_id, "app_schema": 1}), 422, "invalid_request"),
    ("op_seq as string", push_json(lambda w: push_body(w, good_op(op_seq="2"))), 422, "invalid_request"),
    ("negative base_version", push_json(lambda w: push_body(w, good_op(base_version=-1))), 422, "invalid_request"),
    ("fields is a list", push_json(lambda w: push_body(w, good_op(fields=[1]))), 422, "invalid_request"),
    # (a missing op_hash is valid since issue 21 §3: the server computes it — test_hq_no_echo)
    ("op_hash not hex", push_json(lambda w: push_body(w, good_op(op_hash="x" * 64))), 422, "invalid_request"),
    ("op_hash too short", push_json(lambda w: push_body(w, good_op(op_hash="0" * 22))), 422, "invalid_request"),
    ("unknown entity", push_json(lambda w: push_body(w, make_op(2, "pets", "x1", {"name": "Kucing"}))),
     422, "unknown_entity"),
    ("unknown kind", push_json(lambda w: push_body(w, make_op(2, "households", "h1", household(), kind="patch"))),
     422, "invalid_request"),
    ("bad id characters", push_json(lambda w: push_body(w, make_op(2, "households", "h/1", household()))),
     422, "invalid_request"),
    ("hash does not match", push_json(lambda w: push_body(w, good_op(op_hash="0" * 64))), 400, "hash_mismatch"),
    ("hash of other fields", push_json(lambda w: push_body(w, good_op(fields=household(head_name="Lain")))),
     400, "hash_mismatch"),
    ("delete with fields", push_json(lambda w: push_body(w, make_op(2, "households", "h0", {"rt": "1"},
                                                                    kind="delete"))), 422, "invalid_request"),
    ("op_seq not increasing", push_json(lambda w: push_body(w, good_op(), good_op())), 422, "invalid_request"),
    ("app_schema too new", push_json(lambda w: push_body(w, good_op(), app_schema=99)), 400, "unsupported_schema"),
    ("app_schema as string", push_json(lambda w: push_body(w, good_op(), app_schema="1")), 422, "invalid_request"),
    ("too many ops", push_json(lambda w: push_body(w, *[make_op(2 + i, "households", f"n{i}", household())
                                                         for i in range(51)])), 413, "too_many_ops"),
    ("regions bad parent", get("/v1/reference/regions", parent="32-01"), 422, "invalid_request"),
    ("oversized body", push_raw(lambda w: json.dumps(push_body(w, good_op(), pad="x" * 70_000)).encode()),
     413, "body_too_large"),
    ("gzip bomb", push_raw(_bomb, **{"Content-Encoding": "gzip"}), 413, "body_too_large"),
    ("not gzip", push_raw(lambda w: b"plain text", **{"Content-Encoding": "gzip"}), 400, "bad_gzip"),
    ("truncated gzip", push_raw(lambda w: gzip.compress(json.dumps(push_body(w, good_op())).encode())[:-12],
                                **{"Content-Encoding": "gzip"}), 400, "bad_gzip"),
    ("unsupported encoding", push_raw(lambda w: b"{}", **{"Content-Encoding": "br"}), 415, "unsupported_encoding"),
    ("pull negative since", get("/v1/sync/pull", scope=V1, since=-1), 422, "invalid_request"),
    ("pull zero limit", get("/v1/sync/pull", scope=V1, limit=0), 422, "invalid_request"),
    ("pull bps code", get("/v1/sync/pull", scope="3201011001"), 422, "invalid_request"),
    ("pull without scope", get("/v1/sync/pull"), 422, "invalid_request"),
    ("report bad level", get("/v1/reports", level="country"), 422, "invalid_request"),
    ("report prefix below level", get("/v1/reports", level="province", prefix="32.01"), 422, "invalid_request"),
    ("conflicts bad status", get("/v1/conflicts", status="maybe"), 422, "invalid_request"),
    ("resolve unknown action", lambda w: ("POST", "/v1/conflicts/1/resolve", {"json": {"action": "merge"}}),
     422, "invalid_request"),
    ("officer resolves", lambda w: ("POST", "/v1/conflicts/999/resolve", {"json": {"action": "dismiss"}}),
     403, "forbidden"),
    ("register wrong types", lambda w: ("POST", "/v1/devices/register",
                                        {"json": {"username": "ofc", "password": 12345678, "device_name": "x"}}),
     422, "invalid_request"),
    ("unknown route", get("/v1/nothing"), 404, "not_found"),
]


@pytest.mark.parametrize(("make_request", "status", "error"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(world: World, make_request: Request, status: int,
                                                  error: str) -> None:
    method, path, kwargs = make_request(world)
    headers = {**world.dev.headers, **kwargs.pop("headers", {})}
    before = world.hq.snapshot()
    response = world.hq.client.request(method, path, headers=headers, **kwargs)
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert set(response.json()) == {"error", "detail"}
    assert world.hq.snapshot() == before


def test_gzip_request_and_response_bodies(world: World) -> None:
    """Positive control for the gzip cases: a gzip push within the caps is applied."""
    w = world
    ops = [make_op(2 + i, "households", f"g{i}", household()) for i in range(5)]
    body = gzip.compress(json.dumps(push_body(w, *ops)).encode())
    response = w.hq.client.post("/v1/sync/push", content=body, headers={
        **w.dev.headers, "Content-Type": "application/json", "Content-Encoding": "gzip", "Accept-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["ok"] * 5
    page = w.hq.client.get("/v1/sync/pull", params={"scope": V1}, headers={**w.dev.headers, "Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and len(page.json()["records"]) == 6
