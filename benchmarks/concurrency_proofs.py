"""Governance under real concurrency, with numbers: limits, budgets and the ledger hold.

Runs the platform (``benchmarks.governed_app``) under uvicorn in two deployments:

  memory   one worker, rate limits and budgets in process memory
  redis    TWO workers sharing Redis (127.0.0.1:6379), Prometheus multiprocess mode

against the simulator as its own server (50 ms to first token, so a burst is really
in flight at once), and fires simultaneous bursts:

  rpm        200 requests at a client allowed 30 per minute      -> exactly 30 accepted
  budget     200 requests at a budget covering 20 worst cases    -> spend <= budget
  upstream   30 requests while the upstream fails the next 10    -> 10 x 502, rows for all
  disconnect a stream whose client leaves after the first event  -> reservation released,
             row marked client_disconnected

Every scenario checks the ledger: one row per request sent, none missing or doubled.

    python benchmarks/concurrency_proofs.py                      # both deployments
    python benchmarks/concurrency_proofs.py --deployment redis
    python benchmarks/concurrency_proofs.py --database-url postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "platform"),
]

from benchmarks.loadgen import free_port, prepare_tenant, start_platform, start_simulator, stop  # noqa: E402

MESSAGE = "How do I make my Python web service faster under load?"
MAX_TOKENS = 64
SECRET = "concurrency-proofs-secret-not-for-production-0123"


@dataclass
class Deployment:
    name: str
    workers: int
    database_url: str
    redis_url: str | None
    app_port: int
    sim_port: int
    key_prefix: str
    worker_pids: list[int] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"


def worst_case_usd(max_tokens: int = MAX_TOKENS) -> float:
    from ai_platform.llm.pricing import PriceTable
    from ai_platform.llm.tokens import estimate_messages_tokens

    prompt = estimate_messages_tokens([{"role": "user", "content": MESSAGE}])
    return PriceTable.load().max_cost_usd("gpt-4o-mini", prompt, max_tokens)


@contextlib.contextmanager
def deployed(
    name: str, *, workers: int, database_url: str, redis_url: str | None, tmp: Path
) -> Iterator[Deployment]:
    sim_port, app_port = free_port(), free_port()
    prefix = f"proofs-{uuid.uuid4().hex[:10]}"
    env = {
        "ENVIRONMENT": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp),
        "LLM_PROVIDER": "simulator",
        "LLM_BASE_URL": f"http://127.0.0.1:{sim_port}/v1",
        "LLM_MAX_RETRIES": "0",
        "LLM_BREAKER_FAILURES": "1000",  # the upstream scenario must not open the breaker
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "AUTH_CACHE_TTL_S": "0",
        "LEDGER_FLUSH_INTERVAL_S": "0.1",
        "REDIS_KEY_PREFIX": prefix,
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    if workers > 1:
        metrics_dir = tmp / f"metrics-{name}"
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from ai_platform.db.migrate import upgrade

    asyncio.run(upgrade(database_url))
    sim = start_simulator(sim_port, ttft_ms=50, tokens_per_s=400)
    app = None
    try:
        app = start_platform(app_port, env, workers=workers)
        deployment = Deployment(name, workers, database_url, redis_url, app_port, sim_port, prefix)
        workers_found = [c.pid for c in _children(app.pid) if "spawn_main" in " ".join(c.cmdline())]
        deployment.worker_pids = workers_found or [app.pid]
        yield deployment
    finally:
        if app is not None:
            stop(app)
        stop(sim)
        if redis_url:
            asyncio.run(_drop_keys(redis_url, prefix))


def _children(pid: int) -> list[Any]:
    import psutil

    return list(psutil.Process(pid).children(recursive=True))


async def _drop_keys(redis_url: str, prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    async for key in client.scan_iter(match=f"{prefix}*", count=1000):
        await client.delete(key)
    await client.aclose()


# -- ledger reads ------------------------------------------------------------------------


async def ledger(
    database_url: str, client_id: str, expect: int, timeout_s: float = 10
) -> list[Any]:
    """The client's ledger rows, once ``expect`` of them are there (rows are batched)."""
    from sqlalchemy import select

    from ai_platform.db.engine import create_engine, create_sessionmaker
    from ai_platform.db.models import UsageRecord

    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            async with create_sessionmaker(engine)() as session:
                rows = list(
                    (
                        await session.scalars(
                            select(UsageRecord).where(UsageRecord.client_id == client_id)
                        )
                    ).all()
                )
            if len(rows) >= expect or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


def check_rows(
    rows: list[Any], responses: list[tuple[int, dict[str, Any], dict[str, str]]]
) -> dict[str, Any]:
    ids = Counter(r.request_id for r in rows)
    sent = {headers["x-request-id"] for _, _, headers in responses}
    return {
        "rows": len(rows),
        "duplicated": sum(1 for n in ids.values() if n > 1),
        "missing": len(sent - set(ids)),
        "by_status": dict(sorted(Counter((r.status_code, r.outcome) for r in rows).items())),
    }


# -- bursts ------------------------------------------------------------------------------


async def burst(
    base: str, key: str, n: int, path: str = "/bench/chat", max_tokens: int = MAX_TOKENS
) -> list[tuple[int, dict[str, Any], dict[str, str]]]:
    """``n`` requests released together over ``n`` open connections."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base, connector=connector) as session:
        gate = asyncio.Event()

        async def one() -> tuple[int, dict[str, Any], dict[str, str]]:
            await gate.wait()
            async with session.post(
                path,
                json={"message": MESSAGE, "max_tokens": max_tokens},
                headers={"X-API-Key": key},
            ) as resp:
                body = await resp.json(content_type=None)
                return resp.status, body, {k.lower(): v for k, v in resp.headers.items()}

        tasks = [asyncio.create_task(one()) for _ in range(n)]
        await asyncio.sleep(0.2)
        gate.set()
        return await asyncio.gather(*tasks)


async def scenario_rpm(d: Deployment) -> dict[str, Any]:
    client_id, key = await prepare_tenant(d.database_url, SECRET, rpm=30)
    responses = await burst(d.base, key, 200)
    rows = await ledger(d.database_url, client_id, 200)
    statuses = Counter(status for status, _, _ in responses)
    return {
        "sent": 200,
        "accepted": statuses.get(200, 0),
        "refused": statuses.get(429, 0),
        **check_rows(rows, responses),
    }


async def scenario_budget(d: Deployment) -> dict[str, Any]:
    worst = worst_case_usd()
    budget = round(20 * worst, 10)
    client_id, key = await prepare_tenant(d.database_url, SECRET, rpm=10_000, budget_usd=budget)
    responses = await burst(d.base, key, 200)
    rows = await ledger(d.database_url, client_id, 200)
    accepted = [body for status, body, _ in responses if status == 200]
    codes = Counter(body["error"]["code"] for status, body, _ in responses if status != 200)
    spent = sum((Decimal(r.cost_usd) for r in rows), Decimal(0))
    return {
        "sent": 200,
        "budget_usd": budget,
        "worst_case_usd": worst,
        "accepted": len(accepted),
        "refused": dict(codes),
        "spent_usd": float(spent),
        "within_budget": spent <= Decimal(str(budget)),
        "envelope_spend_usd": round(sum(b["metadata"]["estimated_cost_usd"] for b in accepted), 10),
        **check_rows(rows, responses),
    }


async def scenario_upstream(d: Deployment) -> dict[str, Any]:
    client_id, key = await prepare_tenant(d.database_url, SECRET, rpm=10_000)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{d.sim_port}/_simulator/config",
            json={"faults": {"fail_next": {"count": 10, "status": 500}}},
        ) as resp,
    ):
        resp.raise_for_status()
    responses = await burst(d.base, key, 30)
    rows = await ledger(d.database_url, client_id, 30)
    statuses = Counter(status for status, _, _ in responses)
    return {"sent": 30, "responses": dict(sorted(statuses.items())), **check_rows(rows, responses)}


async def scenario_disconnect(d: Deployment) -> dict[str, Any]:
    worst = worst_case_usd(max_tokens=400)
    budget = round(1.5 * worst, 10)
    client_id, key = await prepare_tenant(d.database_url, SECRET, rpm=10_000, budget_usd=budget)
    body = f'{{"message": "{MESSAGE}", "max_tokens": 400}}'.encode()
    request = (
        f"POST /bench/stream HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    reader, writer = await asyncio.open_connection("127.0.0.1", d.app_port)
    writer.write(request)
    head = await reader.readuntil(b"event: delta")
    request_id = next(
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"x-request-id")
    )
    writer.transport.abort()  # the client leaves mid-stream
    rows = await ledger(d.database_url, client_id, 1)
    # Had the stream kept its hold (one worst case of a 1.5x budget), this would be refused.
    after = await burst(d.base, key, 1, "/bench/chat", max_tokens=400)
    row = next((r for r in rows if r.request_id == request_id), None)
    return {
        "stream_row": None if row is None else (row.status_code, row.outcome),
        "next_request_after_disconnect": after[0][0],
    }


async def scenario_metrics(d: Deployment, expected: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{d.base}/metrics") as resp:
        text = await resp.text()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("ai_platform_governed_requests_total{") and 'service="bench"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return {"governed_requests_total": int(total), "requests_sent": expected}


async def run_all(d: Deployment) -> dict[str, dict[str, Any]]:
    results = {
        "rpm": await scenario_rpm(d),
        "budget": await scenario_budget(d),
        "upstream": await scenario_upstream(d),
        "disconnect": await scenario_disconnect(d),
    }
    await asyncio.sleep(0.5)
    results["metrics"] = await scenario_metrics(d, 200 + 200 + 30 + 2)
    return results


def report(d: Deployment, results: dict[str, dict[str, Any]]) -> None:
    backend = "Redis" if d.redis_url else "in-process memory"
    print(
        f"\n== {d.name}: {d.workers} uvicorn worker(s) (pids {d.worker_pids}), "
        f"limits/budgets in {backend}"
    )
    for scenario, values in results.items():
        print(f"  {scenario}")
        for k, v in values.items():
            print(f"    {k:<32} {v}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deployment", choices=("memory", "redis", "both"), default="both")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="concurrency-proofs-"))
    plans = [("memory", 1, None), ("redis", 2, args.redis_url)]
    for name, workers, redis_url in plans:
        if args.deployment not in (name, "both"):
            continue
        db = args.database_url or f"sqlite+aiosqlite:///{tmp}/{name}.db"
        with deployed(name, workers=workers, database_url=db, redis_url=redis_url, tmp=tmp) as d:
            report(d, asyncio.run(run_all(d)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    socket.setdefaulttimeout(30)
    main()
