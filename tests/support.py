"""Helpers shared by the test suites: settings, a running app, tenants with keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.governance.keys import ADMIN_SCOPE, DEFAULT_SCOPES
from ai_platform.governance.tenants import create_client, issue_key

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


@dataclass
class Tenant:
    client_id: str
    key: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


async def make_tenant(
    settings: Settings,
    *,
    admin: bool = False,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: float | None = None,
) -> Tenant:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            tenant = await _make(session, settings, admin, rpm, tpd, budget_usd)
            await session.commit()
            return tenant
    finally:
        await engine.dispose()


async def _make(
    session: AsyncSession,
    settings: Settings,
    admin: bool,
    rpm: int | None,
    tpd: int | None,
    budget_usd: float | None,
) -> Tenant:
    client = await create_client(
        session, f"tenant-{uuid.uuid4().hex[:10]}", rpm=rpm, tpd=tpd, budget_usd=budget_usd
    )
    scopes = [*DEFAULT_SCOPES, *([ADMIN_SCOPE] if admin else [])]
    issued = await issue_key(
        session, settings.secret_key.get_secret_value(), client.id, scopes=scopes
    )
    return Tenant(client_id=client.id, key=issued.plaintext, key_id=issued.key.id)
