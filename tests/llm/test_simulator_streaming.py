"""Streaming is real: chunks leave the simulator paced by its latency model.

Only lower bounds and generous orderings are asserted (a sleep is never shorter than
asked); throughput numbers live in benchmarks/simulator_throughput.py.
"""

from __future__ import annotations

import asyncio
import time

from openai import AsyncOpenAI

from ai_platform.harness.waiting import wait_for
from ai_platform.llm.simulator import EmbeddedSimulator

PROMPT = [{"role": "user", "content": "Write a 200 word essay about lighthouses and ships"}]


async def test_first_chunk_arrives_well_before_the_last(
    sdk: AsyncOpenAI, sim: EmbeddedSimulator
) -> None:
    sim.config.update({"ttft_ms": 0, "tokens_per_s": 40})
    started = time.perf_counter()
    stream = await sdk.chat.completions.create(
        model="gpt-4o-mini", messages=PROMPT, max_tokens=40, stream=True
    )
    arrivals: list[float] = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 40
    # 40 tokens at 40/s take about a second; the first must not wait for the rest (a
    # buffered stream would deliver them all within a few milliseconds of each other).
    assert arrivals[-1] - arrivals[0] > 0.1
    assert arrivals[-1] >= 39 / 40 - 0.01


async def test_time_to_first_token_is_applied(sdk: AsyncOpenAI, sim: EmbeddedSimulator) -> None:
    sim.config.update({"ttft_ms": 400, "tokens_per_s": 0})
    started = time.perf_counter()
    stream = await sdk.chat.completions.create(model="gpt-4o", messages=PROMPT, stream=True)
    first: float | None = None
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    assert first is not None and first >= 0.39

    started = time.perf_counter()
    await sdk.chat.completions.create(model="gpt-4o", messages=PROMPT)
    assert time.perf_counter() - started >= 0.39


async def test_per_model_latency_override(sdk: AsyncOpenAI, sim: EmbeddedSimulator) -> None:
    sim.config.update({"ttft_ms": 800, "models": {"gpt-4.1-nano": {"ttft_ms": 0}}})
    assert sim.config.latency_for("gpt-4.1-nano").ttft_ms == 0
    order: list[str] = []

    async def call(model: str) -> None:
        await sdk.chat.completions.create(model=model, messages=PROMPT, max_tokens=5)
        order.append(model)

    await asyncio.gather(call("gpt-4.1"), call("gpt-4.1-nano"))
    assert order == ["gpt-4.1-nano", "gpt-4.1"]


async def test_a_client_that_leaves_mid_stream_stops_it(
    sdk: AsyncOpenAI, sim: EmbeddedSimulator
) -> None:
    sim.config.update({"tokens_per_s": 20})
    before = sim.app.stats["disconnects"]
    stream = await sdk.chat.completions.create(model="gpt-4o", messages=PROMPT, stream=True)
    received = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received += 1
            if received == 3:
                break
    await stream.close()
    # 200 words at 20 tokens/s would run for over ten seconds; the server notices the
    # client left (a stream run to its end is not counted as a disconnect).
    await wait_for(
        lambda: sim.app.stats["disconnects"] > before,
        timeout_s=30,
        what="the simulator counting the disconnect",
    )
    assert sim.app.stats["disconnects"] == before + 1
