"""Usage survives ``kill -9``: of a process holding unwritten ledger rows, and of the
platform in the middle of traffic. Every answer a client received is in the ledger
after a restart, and the budget the restarted platform enforces includes it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select, update

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import Client, UsageRecord
from ai_platform.governance.budget import RedisBudget
from ai_platform.governance.ledger import LedgerEntry, UsageLedger
from ai_platform.governance.wal import INTERRUPTED
from ai_platform.harness.ports import free_port
from ai_platform.harness.processes import ServerProcess, child_env
from ai_platform.harness.waiting import wait_for
from tests.support import make_tenant

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from decimal import Decimal
    from ai_platform.db.engine import create_engine, create_sessionmaker
    from ai_platform.governance.ledger import LedgerEntry, UsageLedger

    def entry(i, outcome="ok"):
        return LedgerEntry(
            request_id=f"req_crash_{sys.argv[3]}_{i:04d}", client_id=sys.argv[3],
            service="agent", route="/api/v1/agent/chat", model="gpt-4o-mini",
            prompt_tokens=10, completion_tokens=5, cost_usd=Decimal("0.0001"),
            latency_ms=1.0, status_code=200, outcome=outcome, flagged=False,
            created_at=datetime.now(UTC),
        )

    async def main():
        sm = create_sessionmaker(create_engine(sys.argv[1]))
        ledger = UsageLedger(sm, batch_size=100_000, flush_interval_s=600, wal_dir=sys.argv[2])
        await ledger.start()
        for i in range(50):
            ledger.record(entry(i))
        for i in range(50, 53):
            ledger.checkpoint(entry(i))   # still running when the process dies
        print("READY", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def rows(database_url: str, client_id: str) -> list[UsageRecord]:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await session.scalars(
                select(UsageRecord).where(UsageRecord.client_id == client_id)
            )
            return list(found.all())
    finally:
        await engine.dispose()


async def test_rows_of_a_killed_process_are_replayed_once(
    settings: Settings, tmp_path: Path
) -> None:
    client = f"cli_{uuid.uuid4().hex[:12]}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, settings.database_url, str(tmp_path), client,
        stdout=asyncio.subprocess.PIPE,
        env=child_env(),
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        assert line.strip() == b"READY"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert await rows(settings.database_url, client) == []  # nothing reached the database

    engine = create_engine(settings.database_url)
    try:
        ledger = UsageLedger(create_sessionmaker(engine), wal_dir=tmp_path)
        await ledger.start()
        await ledger.aclose()
        assert ledger.recovered == 53
        again = UsageLedger(create_sessionmaker(engine), wal_dir=tmp_path)
        await again.start()
        await again.aclose()
        assert again.recovered == 0
    finally:
        await engine.dispose()
    found = await rows(settings.database_url, client)
    assert len(found) == 53
    assert sorted(r.outcome for r in found).count(INTERRUPTED) == 3
    assert not await asyncio.to_thread(lambda: list(tmp_path.glob("ledger-wal-*")))


def serve_platform(settings: Settings, data_dir: Path) -> ServerProcess:
    port = free_port()
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "ERROR",
        "ACCESS_LOG": "false",
        "SIMULATOR_TTFT_MS": "40",
        "SIMULATOR_TOKENS_PER_S": "0",
        "SIMULATOR_JITTER": "0",
        "AUTH_CACHE_TTL_S": "0",
    }
    command = [
        sys.executable, "-m", "ai_platform.cli", "serve", "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip
    return ServerProcess(
        "platform", command, port=port, env=env, clean_env=True, log_path=data_dir / "log"
    )


async def test_kill_9_mid_traffic_loses_no_answered_request(
    settings: Settings, tmp_path: Path
) -> None:
    tenant = await make_tenant(settings, rpm=100_000, budget_usd=1.0)
    server = await asyncio.to_thread(serve_platform(settings, tmp_path).start)
    answered: list[str] = []

    async def call(http: httpx.AsyncClient, i: int) -> None:
        try:
            resp = await http.post(
                "/api/v1/agent/chat",
                json={"message": f"What is your returns policy? ({i})"},
                headers=tenant.headers,
            )
        except httpx.TransportError:
            return  # the server died under this request: the client got nothing
        if resp.status_code == 200:
            answered.append(resp.headers["x-request-id"])

    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            tasks = [asyncio.create_task(call(http, i)) for i in range(120)]
            await wait_for(lambda: len(answered) >= 20, timeout_s=60, what="20 answers")
            os.killpg(server.pid, signal.SIGKILL)
            await asyncio.gather(*tasks)
    finally:
        server.kill()
    assert len(answered) >= 20

    restarted = await asyncio.to_thread(serve_platform(settings, tmp_path).start)
    try:
        found = {r.request_id: r for r in await rows(settings.database_url, tenant.client_id)}
        missing = [rid for rid in answered if rid not in found]
        assert missing == [], f"{len(missing)} of {len(answered)} answered requests lost"
        assert all(found[rid].cost_usd > 0 for rid in answered)
        # The restarted process's budget starts from the ledger, replayed rows included:
        # with the budget set to what the ledger holds, the next call is refused and
        # reports exactly that spend.
        spent = sum((r.cost_usd for r in found.values()), Decimal(0))
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                await session.execute(
                    update(Client)
                    .where(Client.id == tenant.client_id)
                    .values(monthly_budget_usd=spent)
                )
                await session.commit()
        finally:
            await engine.dispose()
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as http:
            refused = await http.post(
                "/api/v1/agent/chat", json={"message": "One more?"}, headers=tenant.headers
            )
        assert refused.status_code == 429, refused.text
        details = refused.json()["error"]["details"]
        assert details["spent_usd"] == pytest.approx(float(spent), abs=1e-8)
    finally:
        restarted.stop()


@pytest.mark.redis
@pytest.mark.parametrize("charged_before_the_crash", [False, True])
async def test_a_charge_in_flight_at_a_crash_is_made_exactly_once(
    settings: Settings,
    tmp_path: Path,
    redis_url: str,
    key_prefix: str,
    charged_before_the_crash: bool,
) -> None:
    """The process logged a call's cost and its budget charge, then died: before the
    charge reached Redis, or after it did but before it could log anything more."""
    client = f"cli_{uuid.uuid4().hex[:12]}"
    budget = RedisBudget(
        aioredis.Redis.from_url(redis_url), _no_spend, key_prefix=key_prefix
    )
    engine = create_engine(settings.database_url)
    try:
        held = await budget.reserve(client, 1.0, 0.5)
        dying = UsageLedger(create_sessionmaker(engine), wal_dir=tmp_path)
        row = LedgerEntry(
            request_id=f"req_{uuid.uuid4().hex[:24]}", client_id=client, service="agent",
            route="/api/v1/agent/chat", model="gpt-4o-mini", prompt_tokens=10,
            completion_tokens=5, cost_usd=Decimal("0.125"), latency_ms=1.0, status_code=200,
            outcome="ok", flagged=False, created_at=datetime.now(UTC),
        )  # fmt: skip
        dying.checkpoint(row, (client, held.month, held.id, 0.125))
        if charged_before_the_crash:
            await budget.settle(held, 0.125)
        assert dying.wal is not None
        dying.wal.close()  # the process is gone: its log is unlocked, never retired

        restarted = UsageLedger(create_sessionmaker(engine), wal_dir=tmp_path)
        restarted.replay_settle = budget.settle_replayed
        await restarted.start()
        await restarted.aclose()
        status = await budget.status(client, 1.0)
        assert status.spent_usd == pytest.approx(0.125)
        assert status.reserved_usd == 0
    finally:
        await budget.aclose()
        await engine.dispose()
    [found] = await rows(settings.database_url, client)
    assert (found.outcome, found.cost_usd) == (INTERRUPTED, Decimal("0.125"))


async def _no_spend(client_id: str, since: datetime) -> float:
    return 0.0
