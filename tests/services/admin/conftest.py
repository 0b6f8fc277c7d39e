"""Admin fixtures: a session rolled back after the test, and a known ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import UsageRecord
from tests.support import Tenant, make_tenant


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back: rows it inserts are seen by this test only."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as s:
            try:
                yield s
            finally:
                await s.rollback()
    finally:
        await engine.dispose()


D1, D2, D3 = date(2001, 2, 3), date(2001, 2, 4), date(2001, 2, 5)


def at_utc(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=UTC)


@dataclass(frozen=True)
class KnownLedger:
    """Six ledger rows over two clients, three services, four models and three UTC days."""

    client_a: str
    client_b: str
    first_day: date = D1
    """The rows span this day and the two after it."""

    def rows(self) -> list[UsageRecord]:
        a, b = self.client_a, self.client_b
        shift = self.first_day - D1

        def at(day: date, *hms: int) -> datetime:
            return at_utc(day + shift, *hms)

        spec = [
            # client, service, model, created_at, prompt, completion, cost, latency, status
            (a, "knowledge", "gpt-4o-mini", at(D1, 10), 100, 50, "0.0015", 100.0, 200),
            # Half a second before midnight UTC: still D1.
            (
                a,
                "knowledge",
                "gpt-4o-mini",
                at(D1, 23, 59, 59, 500_000),
                200,
                100,
                "0.0025",
                300.0,
                200,
            ),
            (a, "agent", "gpt-4o", at(D2, 0), 1000, 500, "0.0125", 500.0, 502),
            (b, "agent", "gpt-4o", at(D2, 12), 10, 0, "0.0001", 50.0, 200),
            (b, "admin", None, at(D3, 8), 0, 0, "0", 2.0, 403),
            (b, "knowledge", "text-embedding-3-small", at(D3, 9), 40, 0, "0.0000008", 10.0, 200),
        ]
        return [
            UsageRecord(
                request_id=f"req_{uuid.uuid4().hex}",
                client_id=client,
                service=service,
                route=f"/api/v1/{service}/x",
                model=model,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=Decimal(cost),
                latency_ms=latency,
                status_code=code,
                outcome="ok" if code < 400 else "error",
                flagged=False,
                created_at=created,
            )
            for client, service, model, created, prompt, completion, cost, latency, code in spec
        ]


def known_ledger(first_day: date = D1) -> KnownLedger:
    return KnownLedger(f"cli_a{uuid.uuid4().hex[:12]}", f"cli_b{uuid.uuid4().hex[:12]}", first_day)


@pytest.fixture
def known() -> KnownLedger:
    return known_ledger()


def days(first: date) -> tuple[date, date, date]:
    return first, first + timedelta(days=1), first + timedelta(days=2)


async def commit_rows(settings: Settings, rows: list[UsageRecord]) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as s:
            s.add_all(rows)
            await s.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def cached_settings(settings: Settings) -> Settings:
    """Authentication cached for minutes, as in production: changes must invalidate it."""
    return settings.model_copy(update={"auth_cache_ttl_s": 300.0})


@pytest.fixture
async def admin(settings: Settings) -> Tenant:
    return await make_tenant(settings, admin=True, rpm=100_000)


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    assert body["metadata"]["request_id"] == resp.headers["x-request-id"]
    return body


def data(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == "success"
    return body["data"]
