"""The usage ledger: batched, idempotent, flushed at shutdown, logged ahead so that a
database outage or a dead process loses nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import UsageRecord
from ai_platform.governance.ledger import LedgerEntry, UsageLedger, cost_decimal, spent_since
from ai_platform.harness.waiting import wait_for


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


def entry(
    client_id: str, *, cost: float = 0.001, rid: str | None = None, **kw: object
) -> LedgerEntry:
    values: dict[str, object] = {
        "request_id": rid or f"req_{uuid.uuid4().hex[:24]}",
        "client_id": client_id,
        "service": "knowledge",
        "route": "/api/v1/knowledge/answer",
        "model": "gpt-4o-mini",
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "cost_usd": cost_decimal(cost),
        "latency_ms": 12.5,
        "status_code": 200,
        "outcome": "ok",
        "flagged": False,
        "created_at": datetime.now(UTC),
    }
    values.update(kw)
    return LedgerEntry(**values)  # type: ignore[arg-type]


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("ledger-wal-*.jsonl"))


async def count(sm: async_sessionmaker[AsyncSession], client_id: str) -> int:
    async with sm() as session:
        n = await session.scalar(
            select(func.count()).select_from(UsageRecord).where(UsageRecord.client_id == client_id)
        )
    return int(n or 0)


async def test_a_full_batch_is_written_at_once_in_chunks_of_the_batch_size(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ledger = UsageLedger(sessionmaker, batch_size=50, flush_interval_s=600, wal_dir=tmp_path)
    sizes: list[int] = []
    write = ledger._write

    async def spy(batch: list[LedgerEntry], *, replay: bool = False) -> None:
        sizes.append(len(batch))
        await write(batch, replay=replay)

    ledger._write = spy  # type: ignore[method-assign]
    await ledger.start()
    client = f"cli_{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(120):
            ledger.record(entry(client))
        # The interval is ten minutes: only a full batch waiting can trigger the write,
        # and it takes everything queued, in chunks of at most the batch size.
        await wait_for(lambda: ledger.written == 120, timeout_s=30, what="120 rows written")
        assert max(sizes) <= 50
        assert sum(sizes) == 120
        assert await count(sessionmaker, client) == 120
        # Everything logged is committed: the rotated segments are gone.
        assert len(segments(tmp_path)) == 1
    finally:
        await ledger.aclose()


async def test_interval_flush_writes_a_partial_batch(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ledger = UsageLedger(sessionmaker, batch_size=500, flush_interval_s=0.05, wal_dir=tmp_path)
    await ledger.start()
    client = f"cli_{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(3):
            ledger.record(entry(client))
        # Far below a batch: only the interval flush can write them.
        assert await wait_for(
            lambda: ledger.written == 3, timeout_s=30, what="the interval flush writing 3 rows"
        )
        assert await count(sessionmaker, client) == 3
    finally:
        await ledger.aclose()


async def test_duplicate_request_ids_make_one_row(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ledger = UsageLedger(sessionmaker, batch_size=10, flush_interval_s=0.05, wal_dir=tmp_path)
    await ledger.start()
    client = f"cli_{uuid.uuid4().hex[:8]}"
    rid = f"req_{uuid.uuid4().hex[:24]}"
    try:
        ledger.record(entry(client, rid=rid))
        ledger.record(entry(client, rid=rid))
        await ledger.flush()
        ledger.record(entry(client, rid=rid))
        await ledger.flush()
        assert await count(sessionmaker, client) == 1
    finally:
        await ledger.aclose()


async def test_shutdown_loses_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ledger = UsageLedger(sessionmaker, batch_size=1000, flush_interval_s=60, wal_dir=tmp_path)
    await ledger.start()
    client = f"cli_{uuid.uuid4().hex[:8]}"
    for _ in range(250):
        ledger.record(entry(client))
    await ledger.aclose()
    assert await count(sessionmaker, client) == 250
    assert not segments(tmp_path)


async def test_rows_survive_a_database_outage_through_the_log(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    dead = create_engine(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none"
        if not settings.is_sqlite
        else f"sqlite+aiosqlite:///{tmp_path}/unmigrated.db"  # no usage_ledger table
    )
    broken = UsageLedger(
        create_sessionmaker(dead), batch_size=10, flush_interval_s=0.01, wal_dir=tmp_path
    )
    client = f"cli_{uuid.uuid4().hex[:8]}"
    rows = [entry(client) for _ in range(7)]
    for row in rows:
        broken.record(row)
    await broken.aclose(timeout_s=2)
    await dead.dispose()
    logged = b"".join(path.read_bytes() for path in segments(tmp_path))
    assert logged.count(b'"kind":"final"') == 7

    # The next start replays the log into the database, then removes it.
    healthy = UsageLedger(sessionmaker, wal_dir=tmp_path)
    await healthy.start()
    assert healthy.recovered == 7
    await healthy.aclose()
    assert await count(sessionmaker, client) == 7
    assert not segments(tmp_path)
    async with sessionmaker() as session:
        costs = (
            await session.scalars(
                select(UsageRecord.cost_usd).where(UsageRecord.client_id == client)
            )
        ).all()
    assert all(Decimal(c) == Decimal("0.001") for c in costs)


async def test_spent_since_sums_this_months_rows(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ledger = UsageLedger(sessionmaker, wal_dir=tmp_path)
    client = f"cli_{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    ledger.record(entry(client, cost=0.25, created_at=start + timedelta(seconds=1)))
    ledger.record(entry(client, cost=0.0000000123))
    ledger.record(entry(client, cost=5.0, created_at=start - timedelta(seconds=1)))
    ledger.record(entry("cli_someone_else", cost=1.0))
    await ledger.flush()
    assert await spent_since(sessionmaker, client, start) == pytest.approx(0.2500000123)
    assert await spent_since(sessionmaker, "cli_nobody", start) == 0.0


def test_cost_decimal_matches_the_envelope_rounding() -> None:
    for cost in (0.0, 1.5e-07, 0.000123456789012, 12.3456789012345):
        assert float(cost_decimal(cost)) == round(cost, 10)
