"""Pointing LLM_BASE_URL at a separately started simulator needs no code change:
the same app, the same services, a different process answering over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from ai_platform.harness.ports import free_port
from ai_platform.harness.processes import simulator_process
from tests.support import make_settings, make_tenant, running_app


@pytest.fixture(scope="module")
def simulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``ai-platform simulator`` as its own process, awaited until /health answers."""
    log = tmp_path_factory.mktemp("simulator") / "simulator.log"
    with simulator_process(port=free_port(), log_path=log) as server:
        yield f"{server.url}/v1"


async def test_platform_uses_a_separate_simulator_by_url(
    simulator_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    settings: Settings = make_settings(sqlite_url, tmp_path, llm_base_url=simulator_url)
    assert not settings.embedded_simulator
    tenant = await make_tenant(settings)
    stats_url = simulator_url.replace("/v1", "/_simulator/stats")
    async with httpx.AsyncClient() as sim:
        before = (await sim.get(stats_url)).json()
    app = create_app(settings)
    async with running_app(app) as client:
        assert app.state.platform.simulator is None
        ready = await client.get("/health/ready")
        chat = await client.post(
            "/api/v1/agent/chat", json={"message": "Hello there"}, headers=tenant.headers
        )
    async with httpx.AsyncClient() as sim:
        after = (await sim.get(stats_url)).json()
    assert ready.status_code == 200, ready.text
    assert chat.status_code == 200, chat.text
    assert chat.json()["metadata"]["tokens_used"] > 0
    assert after["chat_completions"] > before["chat_completions"]
