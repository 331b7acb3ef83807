"""The benchmark's shaping proxy (``bench.shaping_proxy``): it must deliver every byte unchanged,
never faster than the link it models, with the latency added, and count HTTP requests on
keep-alive connections however the stream is cut into reads.

Timing assertions are lower bounds only: shaping can only slow a connection down, and a busy
machine can only make it slower still, never faster.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable

from hypothesis import given, settings
from hypothesis import strategies as hs

from bench.shaping_proxy import HttpFramer, LinkShape, ShapingProxy, TokenBucket

EARLY = 0.01  # an asyncio timer may fire up to the clock's resolution early


async def _echo_server() -> tuple[asyncio.Server, int]:
    """Upstream that answers every byte with the same byte (a stand-in for the HQ)."""
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


def _through(shape: LinkShape | None, body: Callable[[ShapingProxy], Awaitable[None]]) -> ShapingProxy:
    async def run() -> ShapingProxy:
        upstream, port = await _echo_server()
        proxy = ShapingProxy("127.0.0.1", port, shape)
        await proxy.start()
        try:
            await body(proxy)
        finally:
            await proxy.stop()
            upstream.close()
            await upstream.wait_closed()
        return proxy

    return asyncio.run(run())


async def _round_trip(port: int, payload: bytes) -> bytes:
    """Send ``payload``, read the same number of bytes back (the echo), close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    got = await reader.readexactly(len(payload))
    writer.close()
    return got


def test_every_byte_arrives_unchanged_and_is_counted_each_way() -> None:
    payload = random.Random(3).randbytes(200_000)
    fast = LinkShape(down_bps=80_000_000, up_bps=80_000_000, rtt_s=0.0, stall_every_bytes=20_000, stall_s=0.001)
    for shape in (None, fast):
        seen: list[bytes] = []

        async def body(proxy: ShapingProxy, seen: list[bytes] = seen) -> None:
            seen.append(await _round_trip(proxy.port, payload))

        proxy = _through(shape, body)
        assert hashlib.sha256(seen[0]).digest() == hashlib.sha256(payload).digest()
        assert proxy.stats.bytes_up == len(payload)
        assert proxy.stats.bytes_down == len(payload)
        assert proxy.stats.connections == 1
        if shape is not None:  # ~10 stalls expected in 400 kB at one per 20 kB
            assert proxy.stats.stalls >= 1


def test_throughput_never_above_the_limit() -> None:
    """~1 s of upload at 800 kbit/s (100 kB/s) through a 10 Mbit/s download: the upload rate
    bounds the whole echo, so it cannot take less than 100 kB / (1.2 × 100 kB/s)."""
    up_bps, size = 800_000, 100_000
    shape = LinkShape(down_bps=10_000_000, up_bps=up_bps, rtt_s=0.0)
    elapsed: list[float] = []

    async def body(proxy: ShapingProxy) -> None:
        start = time.monotonic()
        await _round_trip(proxy.port, bytes(size))
        elapsed.append(time.monotonic() - start)

    _through(shape, body)
    assert elapsed[0] >= size / (1.2 * up_bps / 8), elapsed


def test_download_limit_applies_to_the_other_direction() -> None:
    shape = LinkShape(down_bps=800_000, up_bps=100_000_000, rtt_s=0.0)
    elapsed: list[float] = []

    async def body(proxy: ShapingProxy) -> None:
        start = time.monotonic()
        await _round_trip(proxy.port, bytes(100_000))
        elapsed.append(time.monotonic() - start)

    _through(shape, body)
    assert elapsed[0] >= 100_000 / (1.2 * 800_000 / 8), elapsed


def test_latency_is_added_to_every_round_trip() -> None:
    """Five small exchanges on one connection: each waits the whole added round trip."""
    shape = LinkShape(down_bps=100_000_000, up_bps=100_000_000, rtt_s=0.2)
    times: list[float] = []

    async def body(proxy: ShapingProxy) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        for _ in range(5):
            start = time.monotonic()
            writer.write(b"ping")
            await writer.drain()
            await reader.readexactly(4)
            times.append(time.monotonic() - start)
        writer.close()

    _through(shape, body)
    assert min(times) >= 0.2 - EARLY, times


def test_stalls_follow_the_seed() -> None:
    """The same bytes over the same seed stall at the same places; another seed differs."""
    def stalls(seed: int) -> int:
        shape = LinkShape(100_000_000, 100_000_000, 0.0, stall_every_bytes=4_000, stall_s=0.001, seed=seed)

        async def body(proxy: ShapingProxy) -> None:
            await _round_trip(proxy.port, bytes(100_000))

        return _through(shape, body).stats.stalls

    counts = [stalls(seed) for seed in (1, 1, 2, 3)]
    assert counts[0] == counts[1] > 0
    assert len(set(counts)) > 1


def test_token_bucket_spends_at_most_rate_per_second() -> None:
    async def run() -> float:
        bucket = TokenBucket(rate=50_000, capacity=1000)
        start = time.monotonic()
        for _ in range(50):  # 50 kB: one full bucket free, 49 kB at 50 kB/s
            await bucket.take(1000)
        return time.monotonic() - start

    assert asyncio.run(run()) >= 49_000 / 50_000 - EARLY


# -- request counting ---------------------------------------------------------------------------
def _request(method: str, target: str, body: bytes = b"", *, chunked: bool = False) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: gzip\r\n"
    if chunked:
        cut = len(body) // 2
        parts = [p for p in (body[:cut], body[cut:]) if p]
        encoded = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\nX-Trailer: 1\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + encoded
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


# Bodies that look like requests or header ends must not be taken for them.
HOSTILE_BODIES = (b"", b"GET /v1/sync/hello HTTP/1.1\r\n\r\n", b"\r\n\r\n\r\n", b"0\r\n\r\n",
                  bytes(range(256)), b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde")


@settings(max_examples=200, deadline=None)
@given(hs.lists(hs.tuples(hs.sampled_from(("GET", "POST")), hs.sampled_from(
    ("/v1/sync/hello", "/v1/sync/push", "/v1/sync/pull?scope=33.01.01.2001&since=0&limit=2000")),
    hs.sampled_from(HOSTILE_BODIES), hs.booleans()), min_size=1, max_size=8),
    hs.lists(hs.integers(min_value=1, max_value=200), min_size=1, max_size=50))
def test_requests_counted_however_the_stream_is_cut(requests: list[tuple[str, str, bytes, bool]],
                                                     cuts: list[int]) -> None:
    messages = [_request(m, t, b, chunked=c) for m, t, b, c in requests]
    stream = b"".join(messages)
    seen: list[tuple[str, int]] = []
    parser = HttpFramer(lambda line, size: seen.append((line, size)))
    pos, i = 0, 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        parser.feed(stream[pos:pos + step])
        pos, i = pos + step, i + 1
    assert seen == [(f"{m} {t} HTTP/1.1", len(msg)) for (m, t, _b, _c), msg in zip(requests, messages)]
    assert not parser.broken and parser.buffer == b"" and parser.body_left == 0 and not parser.chunked


def _response(status: str, body: bytes, *, chunked: bool) -> bytes:
    return _request("X", "Y", body, chunked=chunked).replace(b"X Y HTTP/1.1", b"HTTP/1.1 " + status.encode(), 1)


@settings(max_examples=100, deadline=None)
@given(hs.lists(hs.tuples(hs.sampled_from(("200 OK", "409 Conflict", "426 Upgrade Required")),
                          hs.sampled_from(HOSTILE_BODIES), hs.booleans()), min_size=1, max_size=6),
       hs.integers(min_value=1, max_value=97))
def test_responses_framed_with_their_sizes(responses: list[tuple[str, bytes, bool]], step: int) -> None:
    messages = [_response(st, b, chunked=c) for st, b, c in responses]
    stream = b"".join(messages)
    seen: list[tuple[str, int]] = []
    parser = HttpFramer(lambda line, size: seen.append((line, size)))
    for pos in range(0, len(stream), step):
        parser.feed(stream[pos:pos + step])
    assert seen == [(f"HTTP/1.1 {st}", len(msg)) for (st, _b, _c), msg in zip(responses, messages)]


def test_requests_on_a_keep_alive_connection_are_counted_through_the_proxy() -> None:
    stream = b"".join(_request("POST", "/v1/sync/push", body) for body in HOSTILE_BODIES)

    async def body(proxy: ShapingProxy) -> None:
        assert await _round_trip(proxy.port, stream) == stream

    proxy = _through(LinkShape(50_000_000, 50_000_000, 0.01), body)
    assert [(r.method, r.path, r.connection) for r in proxy.stats.requests] == \
        [("POST", "/v1/sync/push", 1)] * len(HOSTILE_BODIES)
    assert sum(r.bytes_up for r in proxy.stats.requests) == proxy.stats.bytes_up == len(stream)


def test_non_http_bytes_stop_counting_but_not_proxying() -> None:
    parser = HttpFramer(lambda _line, _size: None)
    parser.feed(b"\x16\x03\x01 TLS hello\r\n\r\n")
    assert parser.broken
    parser.feed(b"GET / HTTP/1.1\r\n\r\n")  # ignored once broken
