"""Configuration: settings and environment, in-place updates, the admin routes, seeding."""

from __future__ import annotations

import random

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from ai_platform.config import Settings
from ai_platform.llm.simulator import SimulatorConfig, create_app
from ai_platform.llm.simulator.app import _pace
from ai_platform.llm.simulator.config import Latency

CHAT = {"model": "sim-chat", "messages": [{"role": "user", "content": "ping the ledger"}]}


def asgi_client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")


def test_from_settings_reads_the_simulator_fields() -> None:
    settings = Settings(
        simulator_ttft_ms=25, simulator_tokens_per_s=80, simulator_jitter=0.2, simulator_seed=11
    )
    config = SimulatorConfig.from_settings(settings)
    assert (config.ttft_ms, config.tokens_per_s, config.jitter, config.seed) == (25, 80, 0.2, 11)
    assert config.faults.total_rate == 0


def test_from_env() -> None:
    config = SimulatorConfig.from_env(
        {
            "SIMULATOR_TTFT_MS": "120",
            "SIMULATOR_TOKENS_PER_S": "60",
            "SIMULATOR_RATE_429": "0.25",
            "SIMULATOR_RETRY_AFTER_S": "3",
            "SIMULATOR_EXTRA_MODELS": "llama3, mistral-small",
            "UNRELATED": "x",
        }
    )
    assert config.ttft_ms == 120 and config.tokens_per_s == 60
    assert config.faults.rate_429 == 0.25 and config.faults.retry_after_s == 3
    assert config.extra_models == ["llama3", "mistral-small"]
    assert SimulatorConfig.from_env({}) == SimulatorConfig()


def test_update_merges_in_place_and_validates() -> None:
    config = SimulatorConfig(ttft_ms=10, models={"gpt-4o": {"ttft_ms": 50}})
    faults = config.faults
    config.update({"faults": {"rate_500": 0.1}, "models": {"gpt-4o": {"jitter": 0.5}}})
    assert config.ttft_ms == 10
    assert config.faults.rate_500 == 0.1
    assert config.latency_for("gpt-4o") == Latency(50, 0, 0.5)
    assert config.latency_for("o3") == Latency(10, 0, 0)
    assert faults is not config.faults  # replaced whole, never half-updated

    config.update({"models": {"gpt-4o": None}})
    assert config.models == {}
    with pytest.raises(ValidationError):
        config.update({"faults": {"rate_429": 0.6, "rate_503": 0.6}})
    with pytest.raises(ValidationError):
        config.update({"latency": 5})
    assert config.faults.rate_429 == 0  # a refused update changes nothing


def test_jitter_stays_within_its_band_and_is_seeded() -> None:
    latency = Latency(ttft_ms=100, tokens_per_s=50, jitter=0.2)
    draws = [_pace(latency, random.Random(seed)) for seed in range(200)]
    assert all(0.08 <= ttft <= 0.12 for ttft, _ in draws)
    assert all(1 / 60 <= interval <= 1 / 40 for _, interval in draws)
    assert len({ttft for ttft, _ in draws}) > 100
    assert _pace(latency, random.Random(3)) == _pace(latency, random.Random(3))
    assert _pace(Latency(0, 0, 0.5), None) == (0.0, 0.0)


async def _statuses(seed: int, count: int = 40) -> list[int]:
    app = create_app(SimulatorConfig(seed=seed, faults={"rate_500": 0.5}))
    async with asgi_client(app) as client:
        return [
            (await client.post("/v1/chat/completions", json=CHAT)).status_code for _ in range(count)
        ]


async def test_faults_are_reproducible_from_the_seed() -> None:
    first = await _statuses(seed=1)
    assert first == await _statuses(seed=1)
    assert first != await _statuses(seed=2)
    assert set(first) == {200, 500}


async def test_admin_routes() -> None:
    app = create_app(SimulatorConfig(ttft_ms=5))
    async with LifespanManager(app), asgi_client(app) as client:
        shown = (await client.get("/_simulator/config")).json()
        assert shown["ttft_ms"] == 5 and shown["faults"]["fail_next"] == {"count": 0, "status": 503}

        patch = {"faults": {"fail_next": {"count": 2, "status": 500}}, "tokens_per_s": 0}
        updated = await client.post("/_simulator/config", json=patch)
        assert updated.status_code == 200
        assert updated.json()["faults"]["fail_next"] == {"count": 2, "status": 500}
        assert app.config.faults.fail_next.count == 2

        codes = [
            (await client.post("/v1/chat/completions", json=CHAT)).status_code for _ in range(3)
        ]
        assert codes == [500, 500, 200]
        left = (await client.get("/_simulator/config")).json()["faults"]["fail_next"]["count"]
        assert left == 0

        refused = await client.post("/_simulator/config", json={"faults": {"rate_429": 2}})
        assert refused.status_code == 400
        assert "rate_429" in refused.json()["error"]["message"]

        await client.post("/_simulator/config", json={"ttft_ms": 0, "faults": {"rate_503": 1}})
        assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 503
        reset = await client.post("/_simulator/config", json={"reset": True})
        assert reset.json()["ttft_ms"] == 5 and reset.json()["faults"]["rate_503"] == 0

        stats = (await client.get("/_simulator/stats")).json()
        assert stats["chat_completions"] == 1 and stats["faults"] == 3


async def test_azure_deployment_routes_and_extra_models() -> None:
    app = create_app(SimulatorConfig(extra_models=["llama3"]))
    async with asgi_client(app) as client:
        azure = await client.post(
            "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            json={"messages": CHAT["messages"]},
        )
        assert azure.status_code == 200 and azure.json()["model"] == "gpt-4o"
        local = await client.post("/v1/chat/completions", json={**CHAT, "model": "llama3"})
        assert local.status_code == 200
        models = (await client.get("/v1/models")).json()["data"]
        assert "llama3" in [m["id"] for m in models]
