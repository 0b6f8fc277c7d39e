"""The gateway's HTTP/1.1 client for the hop to a service, against a scripted server
that decides per connection and per request what to answer (or not)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from ai_platform.gateway.upstream import (
    UpstreamClosed,
    UpstreamConnectError,
    UpstreamPool,
    UpstreamReadTimeout,
)
from ai_platform.harness.ports import free_port

# (connection number, request number on it, raw request) -> answer; None closes; a
# list is written piece by piece, a moment apart.
Script = Callable[[int, int, bytes], Awaitable[bytes | list[bytes] | None]]


def ok(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n" % len(body)
    return head + b"".join(h + b"\r\n" for h in extra) + b"\r\n" + body


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return head + body
            body += chunk[:-2]
    length = 0
    for line in lowered.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


class Scripted:
    def __init__(self, script: Script, *, close_after_answer: bool = False) -> None:
        self.script = script
        self.close_after_answer = close_after_answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = free_port()
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        count = 0
        try:
            while True:
                request = await read_request(reader)
                self.requests.append(request)
                count += 1
                answer = await self.script(number, count, request)
                if answer is None:
                    break
                for piece in answer if isinstance(answer, list) else [answer]:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.02 if isinstance(answer, list) else 0)
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> Scripted:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    def pool(self, **timeouts: float) -> UpstreamPool:
        options = {"connect_timeout_s": 1.0, "read_timeout_s": 2.0, **timeouts}
        return UpstreamPool(f"http://127.0.0.1:{self.port}", **options)


async def body_of(pool: UpstreamPool, body: bytes | AsyncIterator[bytes] = b"{}") -> bytes:
    response = await pool.request("POST", b"/api/v1/x?q=1", [(b"x-test", b"1")], body)
    return b"".join([chunk async for chunk in response.chunks()])


async def test_connections_are_kept_alive_and_the_request_is_well_formed() -> None:
    async def script(conn: int, n: int, request: bytes) -> bytes:
        return ok(b"answer %d.%d" % (conn, n))

    async with Scripted(script) as server:
        pool = server.pool()
        answers = [await body_of(pool) for _ in range(3)]
        assert answers == [b"answer 1.1", b"answer 1.2", b"answer 1.3"]
        await pool.aclose()
    first = server.requests[0]
    assert first.startswith(b"POST /api/v1/x?q=1 HTTP/1.1\r\n")
    assert b"host: 127.0.0.1:%d\r\n" % server.port in first
    assert b"x-test: 1\r\n" in first and b"content-length: 2\r\n" in first
    assert first.endswith(b"\r\n\r\n{}")


async def test_a_streamed_body_goes_up_chunked_and_the_answer_comes_down_as_it_is_written() -> None:
    async def script(conn: int, n: int, request: bytes) -> bytes:
        # The first chunk only: the rest of the body is never written.
        return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n"

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"", b"two"):
            yield part

    async with Scripted(script) as server:
        pool = server.pool(read_timeout_s=5.0)
        response = await pool.request("POST", b"/s", [], parts())
        chunks = response.chunks()
        assert await chunks.__anext__() == b"first"
        response.release()  # abandoned mid-body: the connection is not reused
        await pool.aclose()
    assert server.requests[0].endswith(b"\r\n\r\none two")
    assert b"transfer-encoding: chunked" in server.requests[0]
    assert pool._idle == []


async def test_an_idle_connection_the_service_dropped_is_retried_on_a_new_one() -> None:
    async def script(conn: int, n: int, request: bytes) -> bytes | None:
        if conn == 1 and n == 2:
            return None  # closes as the second request arrives: the keep-alive race
        return ok(b"from %d" % conn)

    async with Scripted(script) as server:
        pool = server.pool()
        assert await body_of(pool) == b"from 1"
        assert await body_of(pool) == b"from 2"
        await pool.aclose()
    assert server.connections == 2


async def test_an_interim_answer_is_skipped_for_the_real_one() -> None:
    async def script(conn: int, n: int, request: bytes) -> list[bytes]:
        return [b"HTTP/1.1 100 Continue\r\n\r\n", ok(b"the answer", b"x-real: yes")]

    async with Scripted(script) as server:
        pool = server.pool()
        response = await pool.request("POST", b"/x", [], b"{}")
        assert response.status == 200
        assert (b"x-real", b"yes") in response.headers
        assert b"".join([chunk async for chunk in response.chunks()]) == b"the answer"
        assert await body_of(pool) == b"the answer"  # and the connection is reused
        await pool.aclose()
    assert server.connections == 1


async def test_a_new_connection_closed_before_an_answer_is_an_error_not_a_retry() -> None:
    async def script(conn: int, n: int, request: bytes) -> bytes | None:
        return None

    async with Scripted(script) as server:
        with pytest.raises(UpstreamClosed):
            await body_of(server.pool())
    assert server.connections == 1


async def test_a_body_cut_short_is_an_error() -> None:
    async def script(conn: int, n: int, request: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"

    async with Scripted(script, close_after_answer=True) as server:
        response = await server.pool().request("GET", b"/", [], b"")
        assert response.status == 200
        with pytest.raises(UpstreamClosed):
            async for _ in response.chunks():
                pass


async def test_a_service_that_does_not_answer_times_out() -> None:
    async def script(conn: int, n: int, request: bytes) -> bytes:
        await asyncio.sleep(5)
        return ok(b"late")

    async with Scripted(script) as server:
        with pytest.raises(UpstreamReadTimeout):
            await body_of(server.pool(read_timeout_s=0.2))


async def test_nothing_listening_is_a_connect_error() -> None:
    pool = UpstreamPool(f"http://127.0.0.1:{free_port()}", connect_timeout_s=1, read_timeout_s=1)
    with pytest.raises(UpstreamConnectError):
        await body_of(pool)


async def test_garbage_from_the_service_is_an_error() -> None:
    async def script(conn: int, n: int, request: bytes) -> bytes:
        return b"NOT HTTP AT ALL\r\n\r\n"

    async with Scripted(script) as server:
        with pytest.raises(UpstreamClosed):
            await body_of(server.pool())


def test_service_urls_are_parsed_once() -> None:
    with pytest.raises(ValueError, match="http"):
        UpstreamPool("ftp://knowledge", connect_timeout_s=1, read_timeout_s=1)
    pool = UpstreamPool("http://knowledge:8001/base/", connect_timeout_s=1, read_timeout_s=1)
    assert (pool.origin.host_header, pool.origin.port) == (b"knowledge:8001", 8001)
    assert (pool.origin.base_path, pool.origin.tls) == (b"/base", False)
    secure = UpstreamPool("https://knowledge.internal", connect_timeout_s=1, read_timeout_s=1)
    assert (secure.origin.host_header, secure.origin.port) == (b"knowledge.internal", 443)
    assert secure.origin.tls
