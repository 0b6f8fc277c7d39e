"""Lesson 01's numbers, measured at length: N LLM calls one after another, all at once
(``asyncio.gather``) and at most K at a time (``asyncio.Semaphore``); then a blocking
call inside ``async def`` against ``await`` and a plain ``def`` route.

Part 1: the simulator runs as its own process with a fixed latency (no jitter) and the
official ``openai`` SDK calls it N times per strategy, plus N calls through the
platform's ``LLMClient`` with ``gather``. Each strategy runs ``--rounds`` times,
interleaved; the table shows the median and best wall time, the ideal (what the latency
alone costs) and the speed-up over sequential (medians).

Part 2: a tiny FastAPI app with three routes that each wait 200 ms (``await
asyncio.sleep``, ``time.sleep`` inside ``async def``, ``time.sleep`` in a plain ``def``)
served by uvicorn in a thread of its own; C concurrent requests per route, per round.

    python benchmarks/async_llm_calls.py                       # 20 calls of 200 ms, 5 rounds
    python benchmarks/async_llm_calls.py --calls 50 --latency-ms 500 --limit 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from openai import AsyncOpenAI

from ai_platform.config import Settings
from ai_platform.harness.processes import simulator_process
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.tables import fmt_number, markdown_table
from ai_platform.llm.client import LLMClient

Strategy = Callable[[], Awaitable[None]]


def _seconds(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), min(values)


async def llm_part(args: argparse.Namespace) -> None:
    latency_s = args.latency_ms / 1000
    n, limit = args.calls, args.limit
    with simulator_process(ttft_ms=args.latency_ms) as simulator:
        base_url = simulator.url + "/v1"
        sdk = AsyncOpenAI(base_url=base_url, api_key="sk-simulator")
        llm = LLMClient.from_settings(
            Settings(_env_file=None, llm_provider="simulator"), base_url=base_url
        )
        slots = asyncio.Semaphore(limit)

        async def ask(i: int) -> None:
            response = await sdk.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"Question {i}: why async?"}],
                max_tokens=40,
            )
            assert response.choices[0].message.content

        async def bounded(i: int) -> None:
            async with slots:
                await ask(i)

        async def sequential() -> None:
            for i in range(n):
                await ask(i)

        async def gathered() -> None:
            await asyncio.gather(*(ask(i) for i in range(n)))

        async def semaphore() -> None:
            await asyncio.gather(*(bounded(i) for i in range(n)))

        async def llm_client() -> None:
            results = await asyncio.gather(
                *(llm.chat([{"role": "user", "content": f"Question {i}"}], max_tokens=20)
                  for i in range(n))
            )  # fmt: skip
            assert all(r.content for r in results)

        strategies: dict[str, tuple[Strategy, float]] = {
            "sequential": (sequential, n * latency_s),
            "gather": (gathered, latency_s),
            f"semaphore({limit})": (semaphore, -(-n // limit) * latency_s),
            "LLMClient + gather": (llm_client, latency_s),
        }
        try:
            await gathered()  # warm the connection pools
            await llm_client()
            times: dict[str, list[float]] = {name: [] for name in strategies}
            for _ in range(args.rounds):
                for name, (run, _ideal) in strategies.items():
                    started = time.perf_counter()
                    await run()
                    times[name].append(time.perf_counter() - started)
        finally:
            await llm.aclose()
            await sdk.close()

    sequential_median = statistics.median(times["sequential"])
    rows = []
    for name, (_run, ideal) in strategies.items():
        median, best = _seconds(times[name])
        rows.append(
            [
                name,
                fmt_number(median, 3),
                fmt_number(best, 3),
                fmt_number(ideal, 3),
                fmt_number(sequential_median / median, 1) + "x",
                fmt_number(sequential_median / median / (n * latency_s / ideal) * 100, 0) + " %",
            ]
        )
    print(f"## {n} LLM calls of {args.latency_ms:g} ms ({args.rounds} rounds, simulator process)\n")
    print(
        markdown_table(
            ["strategy", "median s", "best s", "ideal s", "speed-up", "of ideal speed-up"],
            rows,
            align="lrrrrr",
        )
    )


def blocking_app(hold_s: float) -> FastAPI:
    app = FastAPI()

    @app.get("/async-await")
    async def async_await() -> dict[str, str]:
        await asyncio.sleep(hold_s)
        return {"slept": "awaited"}

    @app.get("/async-blocking")
    async def async_blocking() -> dict[str, str]:
        time.sleep(hold_s)  # noqa: ASYNC251 - the anti-pattern being measured
        return {"slept": "blocked"}

    @app.get("/sync-def")
    def sync_def() -> dict[str, str]:
        time.sleep(hold_s)
        return {"slept": "in a thread"}

    return app


async def server_part(args: argparse.Namespace) -> None:
    hold_s = args.latency_ms / 1000
    c = args.concurrent
    paths = {
        "/async-await": hold_s,
        "/async-blocking": c * hold_s,
        "/sync-def": hold_s,
    }
    times: dict[str, list[float]] = {path: [] for path in paths}
    async with (
        serve_in_background(blocking_app(hold_s), in_thread=True) as url,
        httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=c)) as http,
    ):
        await asyncio.gather(*(http.get("/async-await") for _ in range(c)))  # open c connections
        for _ in range(args.rounds):
            for path in paths:
                started = time.perf_counter()
                responses = await asyncio.gather(*(http.get(path) for _ in range(c)))
                times[path].append(time.perf_counter() - started)
                assert all(r.status_code == 200 for r in responses)
    rows = []
    for path, ideal in paths.items():
        median, best = _seconds(times[path])
        rows.append([path, fmt_number(median, 3), fmt_number(best, 3), fmt_number(ideal, 3)])
    print(
        f"## {c} concurrent requests to routes that each wait {args.latency_ms:g} ms"
        f" (uvicorn in its own thread, {args.rounds} rounds)\n"
    )
    print(markdown_table(["route", "median s", "best s", "ideal s"], rows, align="lrrr"))


async def main(args: argparse.Namespace) -> None:
    await llm_part(args)
    await server_part(args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="LLM calls per strategy")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="simulated latency")
    parser.add_argument("--limit", type=int, default=5, help="the semaphore's bound")
    parser.add_argument("--concurrent", type=int, default=10, help="requests per route")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per strategy")
    asyncio.run(main(parser.parse_args()))
