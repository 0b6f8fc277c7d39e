"""What streaming buys the customer agent: time to the first event vs the whole answer.

Serves the platform with uvicorn on a loopback port (SQLite in a temporary directory,
the embedded simulator paced like a hosted model), seeds one tenant with the demo
orders, then asks the same order question N times through ``POST /api/v1/agent/chat``
(JSON: the client waits for the whole turn) and ``POST /api/v1/agent/chat/stream``
(SSE). Prints medians and p95 of: time to the first event, to the first token, to the
last event, and the JSON route's total time.

    python benchmarks/agent_stream.py                   # 20 turns each, 150 ms TTFT, 200 tok/s
    python benchmarks/agent_stream.py --ttft-ms 400 --tokens-per-s 60 --turns 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.migrate import upgrade
from ai_platform.gateway.app import create_app
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.stats import percentile
from ai_platform.harness.tenants import tenant_for
from ai_platform.services.agent.demo import seed_customer_data

QUESTION = "Where is my order ORD-1001?"


async def _tenant_key(settings: Settings) -> str:
    tenant = await tenant_for(settings, "bench-agent", rpm=100_000, tpd=10**9)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            await seed_customer_data(session, tenant.client_id)
            await session.commit()
    finally:
        await engine.dispose()
    return tenant.api_key


def _row(name: str, values: list[float]) -> str:
    return (
        f"{name:<34} median {statistics.median(values) * 1000:8.1f} ms"
        f"   p95 {percentile(values, 95) * 1000:8.1f} ms"
    )


async def _stream_once(http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[float, ...]:
    started = time.perf_counter()
    first_event = first_token = last = None
    async with http.stream(
        "POST", "/api/v1/agent/chat/stream", json={"message": QUESTION}, headers=headers
    ) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("event: "):
                continue
            now = time.perf_counter() - started
            first_event = now if first_event is None else first_event
            if line == "event: token" and first_token is None:
                first_token = now
            if line in ("event: done", "event: error"):
                if line == "event: error":
                    raise RuntimeError("the stream ended with an error event")
                last = now
    assert first_event is not None and first_token is not None and last is not None
    return first_event, first_token, last


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            data_dir=tmp,
            access_log=False,
            log_level="WARNING",
            simulator_ttft_ms=args.ttft_ms,
            simulator_tokens_per_s=args.tokens_per_s,
            simulator_jitter=0,
        )
        await upgrade(settings.database_url)
        headers = {"X-API-Key": await _tenant_key(settings)}
        async with (
            serve_in_background(create_app(settings), lifespan="on") as base,
            httpx.AsyncClient(base_url=base, timeout=60) as http,
        ):
            json_total: list[float] = []
            firsts: list[float] = []
            tokens: list[float] = []
            lasts: list[float] = []
            for _ in range(args.turns):
                started = time.perf_counter()
                resp = await http.post(
                    "/api/v1/agent/chat", json={"message": QUESTION}, headers=headers
                )
                resp.raise_for_status()
                json_total.append(time.perf_counter() - started)
                first, token, last = await _stream_once(http, headers)
                firsts.append(first)
                tokens.append(token)
                lasts.append(last)
    print(
        f"agent turn '{QUESTION}' (tool round + answer), simulator TTFT {args.ttft_ms:g} ms, "
        f"{args.tokens_per_s:g} tokens/s, {args.turns} turns each, sequential"
    )
    print(_row("JSON /chat: whole response", json_total))
    print(_row("SSE /chat/stream: first event", firsts))
    print(_row("SSE /chat/stream: first token", tokens))
    print(_row("SSE /chat/stream: done event", lasts))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--ttft-ms", type=float, default=150.0)
    parser.add_argument("--tokens-per-s", type=float, default=200.0)
    asyncio.run(main(parser.parse_args()))
