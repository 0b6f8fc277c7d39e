"""What the platform's LLM client costs on top of the bare openai SDK, and how its two
transports (httpx, aiohttp) behave as concurrency rises.

Part 1, in-process (no network): the same canned chat completion is served by an
``httpx.MockTransport`` to the bare ``AsyncOpenAI`` client and to ``LLMClient`` (breaker,
retry loop, usage, cost); the difference per call is the wrapper's overhead. Also times
the offline token estimate and the cost lookup, which run on every governed call.

Part 2, real HTTP: the simulator runs as its own process (zero latency, no faults) and
``LLMClient`` sends non-streaming chat completions at several concurrency levels, once
per transport. On a 2-core machine client and server share the CPUs, so the absolute
numbers are a floor; the comparison between transports is the point.

    python benchmarks/llm_client_overhead.py
    python benchmarks/llm_client_overhead.py --calls 20000 --http-requests 4000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx
import openai

from ai_platform.config import Settings
from ai_platform.harness.processes import simulator_process
from ai_platform.harness.stats import percentile
from ai_platform.llm.client import LLMClient
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.tokens import estimate_messages_tokens

MESSAGES = [
    {"role": "system", "content": "You are a concise assistant for an internal knowledge base."},
    {
        "role": "user",
        "content": "Summarise our refund policy for enterprise customers in two lines.",
    },
]
CANNED = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Refunds within 30 days, pro rata."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51},
    }
).encode()


def _canned(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=CANNED, headers={"content-type": "application/json"})


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "llm_provider": "simulator",
        "llm_api_key": "sk-simulator",
        "llm_base_url": "http://bench.invalid/v1",
        "default_model": "gpt-4o-mini",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def part_in_process(calls: int) -> None:
    bare = openai.AsyncOpenAI(
        api_key="sk-simulator",
        base_url="http://bench.invalid/v1",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(_canned)),
    )
    wrapped = LLMClient.from_settings(
        _settings(), http_client=httpx.AsyncClient(transport=httpx.MockTransport(_canned))
    )

    async def bare_call() -> None:
        await bare.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            max_tokens=1024,  # type: ignore[arg-type]
        )

    async def wrapped_call() -> None:
        await wrapped.chat(MESSAGES)

    results: dict[str, float] = {}
    for name, fn in (("bare SDK", bare_call), ("LLMClient", wrapped_call)):
        for _ in range(200):
            await fn()
        rounds = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(calls // 5):
                await fn()
            rounds.append((time.perf_counter() - start) / (calls // 5) * 1e6)
        results[name] = statistics.median(rounds)
    await bare.close()
    await wrapped.aclose()

    prices = PriceTable.load()
    n = 100_000
    start = time.perf_counter()
    for _ in range(n):
        estimate_messages_tokens(MESSAGES)
    estimate_us = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(n):
        prices.cost_usd("gpt-4o-mini-2024-07-18", 42, 9)
    cost_us = (time.perf_counter() - start) / n * 1e6

    print(f"in-process, {calls} sequential calls (median of 5 rounds), MockTransport:")
    for name, us in results.items():
        print(f"  {name:<10} {us:8.1f} us/call")
    print(f"  overhead   {results['LLMClient'] - results['bare SDK']:8.1f} us/call")
    print(f"  estimate_messages_tokens  {estimate_us:6.2f} us")
    print(f"  PriceTable.cost_usd       {cost_us:6.2f} us (dated name, prefix resolution)")


async def _drive(client: LLMClient, total: int, concurrency: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            await client.chat(MESSAGES, max_tokens=16)
            latencies.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return total / elapsed, percentile(latencies, 50), percentile(latencies, 95)


async def part_http(base_url: str, requests: int, levels: list[int]) -> None:
    print(f"\nreal HTTP to the simulator in its own process, {requests} requests per cell:")
    print(f"  {'transport':<9} {'conc':>5} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for backend in ("httpx", "aiohttp"):
        client = LLMClient.from_settings(_settings(llm_http_backend=backend), base_url=base_url)
        await _drive(client, min(200, requests), 4)  # warm the pool
        for level in levels:
            rps, p50, p95 = await _drive(client, requests, level)
            print(f"  {backend:<9} {level:>5} {rps:8.0f} {p50:8.2f} {p95:8.2f}")
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--http-requests", type=int, default=2_000)
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    asyncio.run(part_in_process(args.calls))
    if args.skip_http:
        return
    levels = [int(x) for x in args.levels.split(",")]
    with simulator_process() as simulator:
        asyncio.run(part_http(f"{simulator.url}/v1", args.http_requests, levels))


if __name__ == "__main__":
    main()
