"""How long the admin usage report takes on a large ledger, with and without its index.

Fills a fresh, migrated database with N ledger rows (50 clients, 5 services, 4 models,
spread evenly over 90 days) and times the report's SQL (the same queries
``GET /api/v1/admin/usage`` runs: the grouped rows plus the totals) for each
``group_by``, over the whole ledger and over a 7-day window. Each timing is the median
of 5 runs after one warm-up. Then drops ``ix_usage_ledger_created_at`` and times the
7-day window again, to show what the index buys.

    python benchmarks/admin_usage_report.py                    # SQLite, 200k rows
    python benchmarks/admin_usage_report.py --rows 1000000 --postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "platform")]

import asyncpg  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine.url import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from ai_platform.db.engine import create_engine, create_sessionmaker  # noqa: E402
from ai_platform.db.migrate import upgrade  # noqa: E402
from ai_platform.db.models import UsageRecord  # noqa: E402
from ai_platform.services.admin import service  # noqa: E402

PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
GROUPS = ("client", "service", "model", "day")
FIRST_DAY = date(2025, 1, 1)
DAYS = 90


def rows(n: int, seed: int = 7) -> list[dict[str, object]]:
    rnd = random.Random(seed)
    clients = [f"cli_bench{i:03d}" for i in range(50)]
    services = ["knowledge", "agent", "research", "assistant", "admin"]
    models = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", None]
    start = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    span = DAYS * 86_400
    out = []
    for i in range(n):
        prompt, completion = rnd.randint(0, 2000), rnd.randint(0, 500)
        out.append(
            {
                "request_id": f"req_{i:012d}",
                "client_id": rnd.choice(clients),
                "service": rnd.choice(services),
                "route": "/bench",
                "model": rnd.choice(models),
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "cost_usd": Decimal(prompt * 15 + completion * 60) / Decimal(10**8),
                "latency_ms": rnd.uniform(5, 900),
                "status_code": 200 if rnd.random() > 0.03 else 502,
                "outcome": "ok",
                "flagged": False,
                "created_at": start + timedelta(seconds=span * i / n),
            }
        )
    return out


async def fill(url: str, n: int) -> None:
    await upgrade(url)
    engine = create_engine(url)
    data = rows(n)
    async with engine.begin() as conn:
        for at in range(0, n, 10_000):
            await conn.execute(insert(UsageRecord), data[at : at + 10_000])
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE usage_ledger"))
    await engine.dispose()


async def timed(
    session: AsyncSession, group_by: str, start: date | None, end: date | None
) -> float:
    async def once() -> None:
        await service.usage_report(
            session,
            group_by,
            start=start,
            end=end,
            client_id=None,
            service=None,
            limit=1000,  # type: ignore[arg-type]
        )

    await once()
    samples = []
    for _ in range(5):
        began = time.perf_counter()
        await once()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


async def measure(label: str, url: str, n: int) -> None:
    began = time.perf_counter()
    await fill(url, n)
    print(f"\n{label}: {n:,} ledger rows inserted in {time.perf_counter() - began:.1f} s")
    engine = create_engine(url)
    week = (FIRST_DAY + timedelta(days=40), FIRST_DAY + timedelta(days=46))
    print(
        f"{'group_by':<10}{'whole ledger ms':>18}{'7-day window ms':>18}{'7 days, no index ms':>22}"
    )
    results: dict[str, list[float]] = {}
    async with create_sessionmaker(engine)() as session:
        for group in GROUPS:
            results[group] = [
                await timed(session, group, None, None),
                await timed(session, group, *week),
            ]
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_usage_ledger_created_at"))
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE usage_ledger"))
    async with create_sessionmaker(engine)() as session:
        for group in GROUPS:
            results[group].append(await timed(session, group, *week))
    for group, (whole, window, no_index) in results.items():
        print(f"{group:<10}{whole:>18.1f}{window:>18.1f}{no_index:>22.1f}")
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL at 127.0.0.1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await measure("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.rows)
    if args.postgres:
        admin = make_url(PG_ADMIN_URL)
        dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        name = f"aip_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        try:
            url = admin.set(database=name).render_as_string(hide_password=False)
            await measure("PostgreSQL", url, args.rows)
        finally:
            conn = await asyncpg.connect(dsn)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
