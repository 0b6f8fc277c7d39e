"""Admin fixtures: a session rolled back after the test, and a known ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import UsageRecord


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


def at(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=UTC)


@dataclass(frozen=True)
class KnownLedger:
    """Six ledger rows over two clients, three services, four models and three UTC days."""

    client_a: str
    client_b: str

    def rows(self) -> list[UsageRecord]:
        a, b = self.client_a, self.client_b
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


@pytest.fixture
def known() -> KnownLedger:
    return KnownLedger(f"cli_a{uuid.uuid4().hex[:12]}", f"cli_b{uuid.uuid4().hex[:12]}")
