"""The client over real HTTP against the bundled simulator, with both transports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ai_platform.core.errors import ServiceUnavailableError, UpstreamError
from ai_platform.llm.client import LLMClient
from ai_platform.llm.simulator import EmbeddedSimulator, FailNext, SimulatorConfig
from ai_platform.llm.types import ContentDelta, StreamDone

from .upstream_fakes import Clock, Sleeps, settings


@pytest.fixture
async def simulator() -> AsyncIterator[EmbeddedSimulator]:
    sim = EmbeddedSimulator(SimulatorConfig(ttft_ms=0, tokens_per_s=0))
    await sim.start()
    yield sim
    await sim.stop()


def client_for(sim: EmbeddedSimulator, backend: str, **overrides: object) -> LLMClient:
    return LLMClient.from_settings(
        settings(
            llm_provider="simulator",
            llm_api_key="sk-simulator",
            llm_base_url=None,
            llm_http_backend=backend,
            default_model="sim-chat",
            embedding_model="sim-embed",
            **overrides,
        ),
        base_url=sim.base_url,
        sleep=Sleeps(),
        clock=Clock(),
    )


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_chat_stream_embed_and_ping(simulator: EmbeddedSimulator, backend: str) -> None:
    client = client_for(simulator, backend)
    try:
        await client.ping()
        messages = [{"role": "user", "content": "Say something about cost ledgers."}]
        result = await client.chat(messages)
        assert result.content
        assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
        assert result.usage.estimated is False
        assert result.price_known is True
        assert result.cost_usd > 0

        events = [event async for event in client.stream_chat(messages)]
        text = "".join(e.text for e in events if isinstance(e, ContentDelta))
        done = events[-1]
        assert isinstance(done, StreamDone)
        assert text and done.result.content == text
        assert done.usage.completion_tokens > 0 and done.usage.estimated is False
        assert done.ttft_ms is not None

        embedded = await client.embed(["alpha", "beta", "gamma"])
        assert len(embedded.vectors) == 3
        assert embedded.dimensions > 0
        assert embedded.price_known is True
    finally:
        await client.aclose()


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_injected_faults_are_retried(simulator: EmbeddedSimulator, backend: str) -> None:
    simulator.config.faults.fail_next = FailNext(count=2, status=503)
    client = client_for(simulator, backend)
    try:
        result = await client.chat([{"role": "user", "content": "hello"}])
        assert result.attempts == 3
    finally:
        await client.aclose()


async def test_breaker_opens_on_a_failing_simulator(simulator: EmbeddedSimulator) -> None:
    simulator.config.faults.fail_next = FailNext(count=10, status=500)
    client = client_for(simulator, "httpx", llm_max_retries=1, llm_breaker_failures=2)
    try:
        with pytest.raises(UpstreamError):
            await client.chat([{"role": "user", "content": "hello"}])
        with pytest.raises(ServiceUnavailableError):
            await client.chat([{"role": "user", "content": "hello"}])
    finally:
        await client.aclose()
