"""Helpers shared by the test suites: settings, a running app, tenants with keys."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from ai_platform.config import Settings
from ai_platform.harness.tenants import Tenant, tenant_for

__all__ = ["PG_ADMIN_URL", "REDIS_URL", "Tenant", "make_settings", "make_tenant", "running_app"]

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def make_settings(database_url: str, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "data_dir": str(tmp),
        "access_log": False,
        "log_level": "WARNING",
        "simulator_ttft_ms": 0,
        "simulator_tokens_per_s": 0,
        "simulator_jitter": 0,
        "auth_cache_ttl_s": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, behind an in-process httpx client."""
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def make_tenant(
    settings: Settings,
    *,
    admin: bool = False,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: float | None = None,
) -> Tenant:
    """A client with one committed API key, made by the harness (``tenant.key``,
    ``tenant.headers``)."""
    return await tenant_for(settings, admin=admin, rpm=rpm, tpd=tpd, budget_usd=budget_usd)
