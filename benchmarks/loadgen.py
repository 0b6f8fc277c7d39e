"""A small raw-asyncio HTTP/1.1 load generator and the process helpers the governance
benchmarks share.

Keep-alive connections, a prebuilt request, responses framed by Content-Length (or a
chunked body's last chunk). Much cheaper per request than httpx or aiohttp, so on a
2-core machine the generator is less likely to be what is measured.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from ai_platform.harness.ports import free_port
from ai_platform.harness.processes import ROOT, ServerProcess, child_env, simulator_process
from ai_platform.harness.stats import percentile
from ai_platform.harness.tenants import create_tenant

__all__ = [
    "ROOT",
    "build_request",
    "drive",
    "free_port",
    "percentile",
    "platform_env",
    "prepare_tenant",
    "start_platform",
    "start_simulator",
    "stop",
]


def build_request(
    port: int, path: str, body: Mapping[str, object], headers: Mapping[str, str] | None = None
) -> bytes:
    payload = orjson.dumps(body)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\n{extra}"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


@dataclass
class Result:
    remaining: int
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0


class _Connection(asyncio.Protocol):
    def __init__(self, request: bytes, result: Result, finished: asyncio.Future[None]) -> None:
        self.request = request
        self.result = result
        self.finished = finished
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        if self.result.remaining <= 0:
            self.transport.close()
            if not self.finished.done():
                self.finished.set_result(None)
            return
        self.result.remaining -= 1
        self.sent_at = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            if b"transfer-encoding: chunked" in head:
                tail = self.buffer.find(b"\r\n0\r\n\r\n", end)
                if tail < 0:
                    return
                total = tail + 7
            else:
                at = head.find(b"content-length:")
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15 : stop if stop >= 0 else None])
                total = end + 4 + length
                if len(self.buffer) < total:
                    return
            status = int(self.buffer[9:12])
            self.result.statuses[status] = self.result.statuses.get(status, 0) + 1
            del self.buffer[:total]
            self.result.latencies.append(time.perf_counter() - self.sent_at)
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


async def drive(port: int, request: bytes, connections: int, count: int) -> Result:
    """Send ``count`` requests over ``connections`` keep-alive connections."""
    loop = asyncio.get_running_loop()
    result = Result(count)
    waits: list[asyncio.Future[None]] = []
    transports = []
    started = time.perf_counter()
    for _ in range(connections):
        finished: asyncio.Future[None] = loop.create_future()
        transport, _ = await loop.create_connection(
            lambda f=finished: _Connection(request, result, f), "127.0.0.1", port
        )
        transports.append(transport)
        waits.append(finished)
    await asyncio.gather(*waits)
    result.elapsed = time.perf_counter() - started
    for transport in transports:
        transport.close()
    return result


def platform_env(**overrides: str) -> dict[str, str]:
    """The environment of a benchmark's platform: only ``overrides`` configure it."""
    return child_env(overrides, clean=True)


def start_simulator(
    port: int, cpus: set[int] | None = None, *, ttft_ms: float = 0, tokens_per_s: float = 0
) -> ServerProcess:
    return simulator_process(
        port=port, cpus=cpus, ttft_ms=ttft_ms, tokens_per_s=tokens_per_s
    ).start()


def start_platform(
    port: int,
    env: Mapping[str, str],
    *,
    workers: int = 1,
    cpus: set[int] | None = None,
) -> ServerProcess:
    """``benchmarks.governed_app`` under uvicorn (uvloop, httptools, no access log)."""
    cmd = [
        sys.executable, "-m", "uvicorn", "benchmarks.governed_app:create", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = ServerProcess(
        "governed app", cmd, port=port, env=env, clean_env=True, cpus=cpus
    )
    return server.start()


def stop(server: ServerProcess) -> None:
    server.stop(timeout_s=30)


async def prepare_tenant(
    database_url: str,
    secret: str,
    *,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: float | None = None,
) -> tuple[str, str]:
    """Migrate the database and create a client with one key: (client_id, key)."""
    from ai_platform.db.migrate import upgrade

    await upgrade(database_url)
    tenant = await create_tenant(
        database_url, secret, rpm=rpm, tpd=tpd, budget_usd=budget_usd, prefix="bench"
    )
    return tenant.client_id, tenant.api_key
