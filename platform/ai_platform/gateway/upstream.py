"""A lean HTTP/1.1 client for the gateway's hop to a service.

The proxy forwards bytes: it needs a pool of keep-alive connections, one write per
request, the response head as soon as it arrives and the body chunk by chunk. A
general client (aiohttp) spends more on cookies, URL objects, redirects and stream
readers than the whole service round trip costs on a fast path; this one is an
``asyncio.Protocol`` with uvicorn's own parser (``httptools``) and costs about a third
of it per request (``benchmarks/proxy_hop.py``).

Errors are three kinds the proxy maps to envelopes: ``UpstreamConnectError`` (no
connection: refused, unreachable or not within the connect timeout),
``UpstreamReadTimeout`` (no byte for ``read_timeout_s``) and ``UpstreamClosed`` (the
connection ended before the response did). A reused keep-alive connection that the
service closed while it sat idle is retried once on a new connection when the request
body was in memory and no byte of a response came back.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

IDLE_TTL_S = 4.0
"""A pooled connection idle longer than this is not reused: uvicorn closes idle
keep-alive connections after 5 s, and reusing one it is closing loses the request."""
MAX_IDLE = 64
HIGH_WATER = 1 << 20  # buffered body bytes at which reading from the service pauses


class UpstreamError(Exception):
    """The service could not be reached or did not finish its answer."""


class UpstreamConnectError(UpstreamError):
    pass


class UpstreamReadTimeout(UpstreamError):
    pass


class UpstreamClosed(UpstreamError):
    pass


@dataclass(frozen=True, slots=True)
class Origin:
    host: str
    port: int
    host_header: bytes
    base_path: bytes
    tls: bool

    @classmethod
    def parse(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a service URL is http(s)://host[:port][/path], got {url!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{port}"
        return cls(
            parts.hostname,
            port,
            host_header.encode("idna"),
            parts.path.rstrip("/").encode(),
            tls,
        )


class _Connection(asyncio.Protocol):
    """One keep-alive connection; serves one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.idle_since = time.monotonic()
        self.lost = False
        self._reset()

    def _reset(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.head: asyncio.Future[None] | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.complete = False
        self.interim = False
        self.keep_alive = False
        self.received = False  # any byte of the current response
        self.error: UpstreamError | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport is not an asyncio.Transport subclass, but has its API.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamClosed(f"malformed response from the service: {exc}"))
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.complete:
            self._fail(UpstreamClosed("the service closed the connection mid-response"))

    # -- httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.parser.get_status_code() < 200:
            # An interim answer (100 Continue, 103 Early Hints): the real one follows.
            self.interim = True
            self.headers = []
            return
        if self.head is not None and not self.head.done():
            self.head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered >= HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        self.complete = True
        # Only meaningful inside the parser's callbacks: it resets for the next message.
        self.keep_alive = self.parser.should_keep_alive()
        self._wake()

    # -- internals
    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self.error is None:
            self.error = error
        if self.head is not None and not self.head.done():
            self.head.set_exception(error)
            self.head.exception()  # retrieved: the awaiting request re-raises it
        self._wake()

    def reusable(self) -> bool:
        return (
            not self.lost
            and self.transport is not None
            and not self.transport.is_closing()
            and time.monotonic() - self.idle_since < IDLE_TTL_S
        )

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()


class UpstreamResponse:
    """A response whose head has arrived; ``chunks()`` yields its body as it comes."""

    def __init__(
        self, pool: UpstreamPool, conn: _Connection, status: int, head_only: bool
    ) -> None:
        self._pool = pool
        self._conn: _Connection | None = conn
        self.status = status
        self.headers = conn.headers
        self._done = head_only or (conn.complete and not conn.chunks)
        if head_only:
            conn.close()  # a HEAD answer's length describes a body that is not sent

    async def chunks(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            return
        loop = asyncio.get_running_loop()
        while not self._done:
            if conn.chunks:
                # Whatever has arrived goes on as one piece: one write downstream for a
                # burst of events, not one per event.
                chunk = conn.chunks.popleft() if len(conn.chunks) == 1 else b"".join(conn.chunks)
                conn.chunks.clear()
                conn.buffered = 0
                if conn.paused and conn.transport:
                    conn.paused = False
                    conn.transport.resume_reading()
                yield chunk
                continue
            if conn.complete:
                self._done = True
                break
            if conn.error is not None:
                raise conn.error
            conn.waiter = loop.create_future()
            try:
                async with asyncio.timeout(self._pool.read_timeout_s):
                    await conn.waiter
            except TimeoutError as exc:
                raise UpstreamReadTimeout("the service stopped sending") from exc
            finally:
                conn.waiter = None
        self.release()

    def release(self) -> None:
        """Back to the pool when the exchange finished cleanly; closed otherwise."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._done and conn.complete and conn.keep_alive:
            self._pool._put(conn)
        else:
            conn.close()


class UpstreamPool:
    """Keep-alive connections to one service."""

    def __init__(self, url: str, *, connect_timeout_s: float, read_timeout_s: float) -> None:
        self.origin = Origin.parse(url)
        self._tls = ssl.create_default_context() if self.origin.tls else None
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._idle: list[_Connection] = []
        self._closed = False

    def _put(self, conn: _Connection) -> None:
        if self._closed or len(self._idle) >= MAX_IDLE or not conn.reusable():
            conn.close()
            return
        conn._reset()
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    def _take(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable():
                return conn
            conn.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                _, conn = await loop.create_connection(
                    _Connection, self.origin.host, self.origin.port, ssl=self._tls
                )
        except TimeoutError as exc:
            raise UpstreamConnectError("connect timed out") from exc
        except OSError as exc:
            raise UpstreamConnectError(str(exc) or type(exc).__name__) from exc
        return conn

    def _head(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], length: int | None
    ) -> bytes:
        lines = [
            method.encode("ascii"), b" ", self.origin.base_path, target, b" HTTP/1.1\r\nhost: ",
            self.origin.host_header, b"\r\n",
        ]  # fmt: skip
        for name, value in headers:
            lines += (name, b": ", value, b"\r\n")
        if length is None:
            lines.append(b"transfer-encoding: chunked\r\n\r\n")
        else:
            lines += (b"content-length: ", b"%d" % length, b"\r\n\r\n")
        return b"".join(lines)

    async def request(
        self,
        method: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | AsyncIterator[bytes],
    ) -> UpstreamResponse:
        """Send a request (``target`` is the path and query) and wait for the response
        head. ``headers`` must not hold host, content-length or transfer-encoding."""
        if isinstance(body, bytes):
            data = self._head(method, target, headers, len(body)) + body
            conn = self._take()
            if conn is not None:
                try:
                    return await self._exchange(conn, method, data, None)
                except UpstreamClosed:
                    if conn.received:
                        raise
                    # The service closed the idle connection as the request went out.
            return await self._exchange(await self._connect(), method, data, None)
        head = self._head(method, target, headers, None)
        conn = self._take() or await self._connect()
        return await self._exchange(conn, method, head, body)

    async def _exchange(
        self, conn: _Connection, method: str, data: bytes, stream: AsyncIterator[bytes] | None
    ) -> UpstreamResponse:
        assert conn.transport is not None
        conn.head = asyncio.get_running_loop().create_future()
        try:
            conn.transport.write(data)
            if stream is not None:
                async for chunk in stream:
                    if chunk:
                        conn.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                conn.transport.write(b"0\r\n\r\n")
            async with asyncio.timeout(self.read_timeout_s):
                await conn.head
        except TimeoutError as exc:
            conn.close()
            raise UpstreamReadTimeout("the service did not answer in time") from exc
        except BaseException:
            conn.close()
            raise
        return UpstreamResponse(self, conn, conn.parser.get_status_code(), method == "HEAD")

    async def aclose(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()
