"""A small raw-asyncio HTTP/1.1 load generator and the process helpers the governance
benchmarks share.

Keep-alive connections, a prebuilt request, responses framed by Content-Length (or a
chunked body's last chunk). Much cheaper per request than httpx or aiohttp, so on a
2-core machine the generator is less likely to be what is measured.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def platform_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SIMULATOR_", "LLM_", "REDIS_", "DATABASE_", "PROMETHEUS_"))
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "platform"), str(ROOT), env.get("PYTHONPATH", "")]
    )
    env.update(overrides)
    return env


def wait_for_health(proc: subprocess.Popen[bytes], port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"server on port {port} did not start within {timeout_s} s")


def start_simulator(
    port: int, cpus: set[int] | None = None, *, ttft_ms: float = 0, tokens_per_s: float = 0
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "ai_platform.llm.simulator", "--host", "127.0.0.1",
        "--port", str(port), "--ttft-ms", str(ttft_ms), "--tokens-per-s", str(tokens_per_s),
        "--jitter", "0", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=platform_env())
    if cpus:
        os.sched_setaffinity(proc.pid, cpus)
    wait_for_health(proc, port)
    return proc


def start_platform(
    port: int,
    env: Mapping[str, str],
    *,
    workers: int = 1,
    cpus: set[int] | None = None,
) -> subprocess.Popen[bytes]:
    """``benchmarks.governed_app`` under uvicorn (uvloop, httptools, no access log)."""
    cmd = [
        sys.executable, "-m", "uvicorn", "benchmarks.governed_app:create", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=platform_env(**env), cwd=ROOT)
    if cpus:
        os.sched_setaffinity(proc.pid, cpus)
    wait_for_health(proc, port, timeout_s=60)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def prepare_tenant(
    database_url: str,
    secret: str,
    *,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: float | None = None,
) -> tuple[str, str]:
    """Migrate the database and create a client with one key: (client_id, key)."""
    import uuid

    from ai_platform.db.engine import create_engine, create_sessionmaker
    from ai_platform.db.migrate import upgrade
    from ai_platform.governance.tenants import create_client, issue_key

    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            client = await create_client(
                session, f"bench-{uuid.uuid4().hex[:8]}", rpm=rpm, tpd=tpd, budget_usd=budget_usd
            )
            issued = await issue_key(session, secret, client.id)
            await session.commit()
            return client.id, issued.plaintext
    finally:
        await engine.dispose()
