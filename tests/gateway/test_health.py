"""Liveness needs nothing; readiness checks the database and turns 503 when it fails."""

from __future__ import annotations

from pathlib import Path

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.support import make_settings, running_app


async def test_health_and_ready(settings: Settings) -> None:
    async with running_app(create_app(settings)) as client:
        live = await client.get("/health")
        ready = await client.get("/health/ready")
    assert live.json() == {"status": "healthy"}
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["database"] == "ok"


async def test_ready_is_503_when_database_unreachable(tmp_path: Path) -> None:
    # A port nothing listens on: the engine is created lazily, so start-up succeeds.
    settings = make_settings("postgresql+asyncpg://nobody@127.0.0.1:1/none", tmp_path)
    async with running_app(create_app(settings)) as client:
        live = await client.get("/health")
        ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"].startswith("error")
