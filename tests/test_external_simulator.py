"""Pointing LLM_BASE_URL at a separately started simulator needs no code change:
the same app, the same services, a different process answering over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.support import make_settings, make_tenant, running_app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ai_platform.llm.simulator", "--port", str(port),
         "--log-level", "warning"],
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the simulator process exited"
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.1)
        yield f"{base}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
