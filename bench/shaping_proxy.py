"""A TCP proxy on 127.0.0.1 that shapes the link like a village's mobile connection (asyncio).

Each direction is its own pipe: a chunk read from one side waits out the added one-way latency
(half the round trip, counted from when it was read), then leaves through a token bucket at that
direction's bandwidth, in pieces of at most one bucket (so there are no bursts above the rate),
with the direction's byte clock deciding stalls: after an exponentially distributed number of
bytes (mean ``stall_every_bytes``, from a seeded RNG, so a run sees the same stalls at the same
byte offsets) the pipe stops for ``stall_s`` — the 3G/4G link that freezes now and then. Bytes are
counted each way as they are delivered, and both streams are framed as HTTP/1.1 (start line,
``Content-Length`` or chunked body), so requests are counted on keep-alive connections that carry
many, each with its own bytes and those of its response.

Shaping can only slow a connection down: nothing here sends earlier than loopback would.
``shape=None`` passes bytes through unshaped (set-up traffic); ``ProxyThread`` runs the proxy's
event loop on a thread, for callers that are not asyncio (the benchmarks).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import parse_qs, urlsplit

READ_CHUNK = 16 * 1024
BUCKET_BYTES = 1460  # one TCP segment: the largest burst the bucket lets out at once


@dataclass(frozen=True)
class LinkShape:
    """``down_bps``/``up_bps``: bits per second server→client / client→server; ``rtt_s``: the
    round trip added (half each way); stalls: a pause of ``stall_s`` after every
    ``stall_every_bytes`` bytes on average (0 = never), per direction, from ``seed``."""

    down_bps: float
    up_bps: float
    rtt_s: float
    stall_every_bytes: float = 0.0
    stall_s: float = 0.0
    seed: int = 1

    @classmethod
    def village(cls, seed: int = 1) -> LinkShape:
        """DESIGN §7's village link: 1 Mbit/s down, 384 kbit/s up, 300 ms round trip, a 150 ms
        stall every 64 KiB on average."""
        return cls(1_000_000, 384_000, 0.300, stall_every_bytes=64 * 1024, stall_s=0.150, seed=seed)


@dataclass
class Request:
    """One HTTP request seen on the client→server stream: method, target, connection number,
    its bytes (head and body) and those of its response (0 until the response has passed)."""

    method: str
    target: str
    connection: int
    bytes_up: int
    bytes_down: int = 0
    status: str = ""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def query(self, name: str) -> str | None:
        values = parse_qs(urlsplit(self.target).query).get(name)
        return values[0] if values else None


@dataclass
class ProxyStats:
    bytes_up: int = 0  # client → server, delivered
    bytes_down: int = 0  # server → client, delivered
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    stalls: int = 0
    stall_seconds: float = 0.0
    first_byte_at: float | None = None  # time.monotonic() of the first byte read from either side
    last_byte_at: float | None = None  # ... and of the last byte delivered

    def busy_seconds(self) -> float:
        if self.first_byte_at is None or self.last_byte_at is None:
            return 0.0
        return self.last_byte_at - self.first_byte_at


class TokenBucket:
    """``rate`` bytes per second, at most ``capacity`` bytes at once (a full bucket to start)."""

    def __init__(self, rate: float, capacity: int = BUCKET_BYTES) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.stamp = time.monotonic()

    async def take(self, n: int) -> None:
        """Wait until ``n`` (≤ capacity) bytes may leave, and spend them."""
        while True:
            now = time.monotonic()
            self.tokens = min(float(self.capacity), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= n:
                self.tokens -= n
                return
            await asyncio.sleep((n - self.tokens) / self.rate)


class HttpFramer:
    """Incremental HTTP/1.1 message framing of one direction of one connection.

    Calls ``on_message(start_line, size)`` when a message (head and body: ``Content-Length`` or
    chunked) has passed whole; ``size`` counts its bytes on the wire. Responses without a body
    despite their headers (to HEAD, 1xx, 204, 304) are not expected from the sync endpoints.
    """

    def __init__(self, on_message: Callable[[str, int], None]) -> None:
        self.on_message = on_message
        self.buffer = b""
        self.start_line = ""  # of the message whose body is being read
        self.size = 0  # its bytes so far
        self.body_left = 0  # bytes of the current Content-Length body still to skip
        self.chunked = False  # inside a chunked body
        self.broken = False  # not HTTP as we know it: stop parsing, keep proxying

    def feed(self, data: bytes) -> None:
        if self.broken:
            return
        self.buffer += data
        while self.buffer and not self.broken:
            if self.body_left:
                skip = min(self.body_left, len(self.buffer))
                self._take(skip)
                self.body_left -= skip
                if not self.body_left:
                    self._done()
            elif self.chunked:
                if not self._chunk():
                    return
            elif not self._head():
                return

    def _take(self, n: int) -> None:
        self.buffer = self.buffer[n:]
        self.size += n

    def _done(self) -> None:
        self.on_message(self.start_line, self.size)
        self.size = 0

    def _head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            self.broken = len(self.buffer) > 64 * 1024
            return False
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        self._take(end + 4)
        parts = lines[0].split(" ", 2)
        if len(parts) < 3 or not (parts[2].startswith("HTTP/") or parts[0].startswith("HTTP/")):
            self.broken = True
            return False
        self.start_line = lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.chunked = True
            return True
        try:
            self.body_left = int(headers.get("content-length", "0"))
        except ValueError:
            self.broken = True
            return False
        if not self.body_left:
            self._done()
        return True

    def _chunk(self) -> bool:
        """One chunk (size line, data, CRLF); the zero chunk and its trailers end the body."""
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        try:
            size = int(self.buffer[:end].split(b";")[0], 16)
        except ValueError:
            self.broken = True
            return False
        if size == 0:
            tail = self.buffer.find(b"\r\n\r\n", end)  # the size line's CRLF, any trailers, the empty line
            if tail < 0:
                return False
            self._take(tail + 4)
            self.chunked = False
            self._done()
            return True
        if len(self.buffer) < end + 2 + size + 2:
            return False
        self._take(end + 2 + size + 2)
        return True


class _Direction:
    """The shaping state of one direction (bucket and stall clock), shared by its connections:
    two connections at once share the link as they would on a phone."""

    def __init__(self, bps: float, shape: LinkShape, rng: random.Random) -> None:
        self.bucket = TokenBucket(bps / 8)
        self.one_way = shape.rtt_s / 2
        self.stall_s = shape.stall_s
        self.every = shape.stall_every_bytes
        self.rng = rng
        self.until_stall = self.draw()

    def draw(self) -> float:
        return self.rng.expovariate(1 / self.every) if self.every > 0 and self.stall_s > 0 else float("inf")


class ShapingProxy:
    """Listens on 127.0.0.1 (``port`` 0: a free one) and forwards each connection to the upstream."""

    def __init__(self, upstream_host: str, upstream_port: int, shape: LinkShape | None, *,
                 port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.stats = ProxyStats()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.set_shape(shape)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_shape(self, shape: LinkShape | None) -> None:
        """Shape from now on (``None``: pass through) and start counting afresh."""
        self.shape = shape
        self.stats = ProxyStats()
        if shape is None:
            self._down = self._up = None
        else:
            self._down = _Direction(shape.down_bps, shape, random.Random(shape.seed * 2 + 1))
            self._up = _Direction(shape.up_bps, shape, random.Random(shape.seed * 2))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        number = self.stats.connections
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        stats = self.stats
        waiting: list[Request] = []  # sent, not yet answered (HTTP/1.1 answers in order)

        def sent(line: str, size: int) -> None:
            method, target, _version = line.split(" ", 2)
            waiting.append(Request(method, target, number, size))
            stats.requests.append(waiting[-1])

        def answered(line: str, size: int) -> None:
            if waiting:
                request = waiting.pop(0)
                request.bytes_down, request.status = size, line.split(" ", 2)[1]

        up = asyncio.ensure_future(self._pipe(client_r, server_w, self._up, HttpFramer(sent).feed, upstream=True))
        down = asyncio.ensure_future(self._pipe(server_r, client_w, self._down, HttpFramer(answered).feed,
                                                upstream=False))
        for task in (up, down):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # One side closing ends the connection (HTTP has no use for a half-open one here).
        await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        await asyncio.gather(up, down, return_exceptions=True)
        for writer in (client_w, server_w):
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, way: _Direction | None,
                    parse: Callable[[bytes], None] | None, *, upstream: bool) -> None:
        """Read chunks as they come (stamped), deliver them in order after latency and bandwidth."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def read() -> None:
            try:
                while data := await reader.read(READ_CHUNK):
                    now = time.monotonic()
                    if self.stats.first_byte_at is None:
                        self.stats.first_byte_at = now
                    if parse is not None:
                        parse(data)
                    await queue.put((now, data))
            except (ConnectionError, OSError):
                pass
            await queue.put(None)

        reading = asyncio.ensure_future(read())
        try:
            while (item := await queue.get()) is not None:
                read_at, data = item
                if way is not None:
                    await self._shaped(writer, way, read_at, data, upstream=upstream)
                else:
                    writer.write(data)
                    await writer.drain()
                    self._count(len(data), upstream)
        except (ConnectionError, OSError):
            pass
        finally:
            reading.cancel()

    async def _shaped(self, writer: asyncio.StreamWriter, way: _Direction, read_at: float, data: bytes, *,
                      upstream: bool) -> None:
        delay = read_at + way.one_way - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        view = memoryview(data)
        while view:
            if way.until_stall <= 0:
                self.stats.stalls += 1
                self.stats.stall_seconds += way.stall_s
                await asyncio.sleep(way.stall_s)
                way.until_stall = way.draw()
            n = min(len(view), way.bucket.capacity)
            if way.until_stall < n:
                n = max(1, int(way.until_stall))
            await way.bucket.take(n)
            writer.write(bytes(view[:n]))
            await writer.drain()
            view = view[n:]
            way.until_stall -= n
            self._count(n, upstream)

    def _count(self, n: int, upstream: bool) -> None:
        if upstream:
            self.stats.bytes_up += n
        else:
            self.stats.bytes_down += n
        self.stats.last_byte_at = time.monotonic()


class ProxyThread:
    """A ``ShapingProxy`` whose event loop runs on a daemon thread (``with ProxyThread(...) as p``)."""

    def __init__(self, upstream_port: int, shape: LinkShape | None = None, *, upstream_host: str = "127.0.0.1") -> None:
        self.proxy = ShapingProxy(upstream_host, upstream_port, shape)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="shaping-proxy", daemon=True)

    @property
    def url(self) -> str:
        return self.proxy.url

    @property
    def stats(self) -> ProxyStats:
        return self.proxy.stats

    def set_shape(self, shape: LinkShape | None) -> None:
        """Change the shaping (and reset the counts) between connections' traffic."""
        self.loop.call_soon_threadsafe(self.proxy.set_shape, shape)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.loop).result(10)  # applied before we return

    def __enter__(self) -> Self:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(30)
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()
