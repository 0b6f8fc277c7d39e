"""Research jobs on arq with a real Redis: workers run them, and a dead worker's job
is picked up by the next worker without waiting for arq's timeout."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix, job_key_prefix
from sqlalchemy import update

from ai_platform.config import Settings
from ai_platform.db.base import utcnow
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.gateway.app import create_app
from ai_platform.services.research import repository
from ai_platform.services.research.models import ResearchJob, ResearchStep
from ai_platform.services.research.worker import serve_worker
from tests.conftest import _unavailable
from tests.services.research.conftest import POLLING_RPM, get_task, ingest, start, wait_until
from tests.support import REDIS_URL, make_tenant, running_app


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        _unavailable("Redis at 127.0.0.1:6379", exc)
        raise
    yield client
    await client.aclose()


@pytest.fixture
def queue_settings(settings: Settings, redis_client: aioredis.Redis) -> Iterator[Settings]:
    # A queue of this test's own: others may share the Redis server.
    research = settings.research.model_copy(
        update={"queue_name": f"aip-test:research:{uuid.uuid4().hex}"}
    )
    yield settings.model_copy(update={"redis_url": REDIS_URL, "research": research})


async def _burst(settings: Settings) -> int:
    async with asyncio.timeout(60):
        return await serve_worker(settings, burst=True, handle_signals=False)


async def test_with_redis_the_api_enqueues_and_a_worker_completes_the_job(
    queue_settings: Settings, redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every claim of a job, by whom: the API process's and the worker's runners share
    # this process here, so one spy sees both.
    claims: list[str] = []
    claim = repository.claim

    async def spy(session: Any, task_id: str, owner: str, lease_s: float) -> bool:
        claims.append(owner)
        return await claim(session, task_id, owner, lease_s)

    monkeypatch.setattr(repository, "claim", spy)
    tenant = await make_tenant(queue_settings, rpm=POLLING_RPM)
    app = create_app(queue_settings)
    async with running_app(app) as http:
        assert type(app.state.platform.research_runner).__name__ == "QueueRunner"
        await ingest(http, tenant)
        task_id = await start(http, tenant, max_sub_questions=2)
        queue = queue_settings.research.queue_name
        assert await redis_client.zscore(queue, task_id) is not None
        assert await redis_client.exists(job_key_prefix + task_id)
        assert (await get_task(http, tenant, task_id))["status"] == "accepted"

        assert await _burst(queue_settings) == 1
        view = await wait_until(http, tenant, task_id, within_s=30)
    assert view["status"] == "completed", view["error"]
    assert len(view["report"]["sections"]) == 2
    assert await redis_client.zcard(queue) == 0
    # Over the API process's whole life, only the worker ever claimed the job: the
    # API process must not run queued jobs itself.
    assert len(claims) == 1 and claims[0].startswith("worker:"), claims


async def test_a_job_held_by_a_dead_worker_is_resumed_by_the_next_worker(
    queue_settings: Settings, redis_client: aioredis.Redis
) -> None:
    tenant = await make_tenant(queue_settings, rpm=POLLING_RPM)
    async with running_app(create_app(queue_settings)) as http:
        await ingest(http, tenant)
        task_id = await start(http, tenant, max_sub_questions=3)

    # A worker took the job, planned it, and was killed: its lease has run out, and
    # arq's in-progress mark (set for job_timeout + 10 s) is still there.
    plan = {"sub_questions": ["What does the tent warranty cover?"], "planner": "model"}
    engine = create_engine(queue_settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            await session.execute(
                update(ResearchJob)
                .where(ResearchJob.id == task_id)
                .values(
                    status="running",
                    lease_owner="worker:dead",
                    lease_expires_at=utcnow() - timedelta(seconds=5),
                    attempts=1,
                )
            )
            session.add(
                ResearchStep(
                    job_id=task_id,
                    client_id=tenant.client_id,
                    key="plan",
                    kind="plan",
                    result=plan,
                    model="gpt-4o-mini",
                    prompt_tokens=10,
                    completion_tokens=5,
                    cost_usd=Decimal("0.00001"),
                    latency_ms=1.0,
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    await redis_client.set(in_progress_key_prefix + task_id, b"1", ex=600)

    assert await _burst(queue_settings) == 1

    async with running_app(create_app(queue_settings)) as http:
        view = await get_task(http, tenant, task_id)
    assert view["status"] == "completed", view["error"]
    # The dead worker's plan was kept, not redone.
    assert view["sub_questions"] == plan["sub_questions"]
    assert [s["heading"] for s in view["report"]["sections"]] == plan["sub_questions"]
    assert view["progress"]["steps_done"] == 4


WORKER = (
    "from ai_platform.config import Settings\n"
    "from ai_platform.services.research.worker import run_worker\n"
    "run_worker(Settings())\n"
)


def _worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESEARCH_", "SIMULATOR_"))}
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=settings.database_url,
        REDIS_URL=str(settings.redis_url),
        DATA_DIR=settings.data_dir,
        LOG_LEVEL="WARNING",
        SIMULATOR_TTFT_MS=str(settings.simulator_ttft_ms),
        SIMULATOR_TOKENS_PER_S="0",
        SIMULATOR_JITTER="0",
        RESEARCH_QUEUE_NAME=settings.research.queue_name,
        RESEARCH_LEASE_S=str(settings.research.lease_s),
    )
    return env


async def _spawn(settings: Settings, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, env=_worker_env(settings), cwd=cwd
    )


async def test_a_worker_process_killed_mid_job_loses_nothing(
    queue_settings: Settings, tmp_path: Path
) -> None:
    slow = queue_settings.model_copy(update={"simulator_ttft_ms": 400.0})
    tenant = await make_tenant(slow, rpm=POLLING_RPM)
    first = second = None
    try:
        async with running_app(create_app(slow)) as http:
            await ingest(http, tenant)
            task_id = await start(http, tenant, max_sub_questions=3)
            first = await _spawn(slow, tmp_path)
            await wait_until(
                http, tenant, task_id, lambda v: v["progress"]["steps_done"] >= 1, within_s=60
            )
            first.kill()  # SIGKILL: no cleanup, the lease and arq's in-progress mark stay
            await first.wait()
            before = await get_task(http, tenant, task_id)
            assert before["status"] == "running"
            done_before = {a["index"]: a["answer"] for a in before["partial_results"]}

            second = await _spawn(slow, tmp_path)
            view = await wait_until(http, tenant, task_id, within_s=90)
    finally:
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                await proc.wait()
    assert view["status"] == "completed", view["error"]
    assert view["sub_questions"] == before["sub_questions"]
    after = {a["index"]: a["answer"] for a in view["partial_results"]}
    assert {i: after[i] for i in done_before} == done_before
    assert view["progress"]["steps_done"] == 3 + len(view["sub_questions"])
