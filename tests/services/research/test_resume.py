"""A restart loses no job: a job stopped mid-way resumes and skips its completed steps."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import select

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.gateway.app import create_app
from ai_platform.services.research.models import ResearchJob, ResearchStep
from tests.services.research.conftest import POLLING_RPM, ingest, start, wait_until
from tests.support import make_tenant, running_app


async def _rows(settings: Settings, task_id: str) -> tuple[ResearchJob, list[ResearchStep]]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            job = await session.get(ResearchJob, task_id)
            steps = (
                await session.execute(
                    select(ResearchStep)
                    .where(ResearchStep.job_id == task_id)
                    .order_by(ResearchStep.id)
                )
            ).scalars()
            assert job is not None
            return job, list(steps)
    finally:
        await engine.dispose()


def _snapshot(step: ResearchStep) -> tuple[Any, ...]:
    created = step.created_at.replace(tzinfo=step.created_at.tzinfo or UTC)
    return (step.id, step.key, step.result, step.prompt_tokens, step.cost_usd, created)


async def test_a_job_interrupted_by_a_stop_resumes_in_a_new_app(settings: Settings) -> None:
    slow = settings.model_copy(update={"simulator_ttft_ms": 300.0})
    tenant = await make_tenant(settings, rpm=POLLING_RPM)
    async with running_app(create_app(slow)) as http:
        await ingest(http, tenant)
        task_id = await start(http, tenant, max_sub_questions=3)
        await wait_until(http, tenant, task_id, lambda v: v["progress"]["steps_done"] >= 1)
    # The app stopped in the middle of the job.

    job, before = await _rows(settings, task_id)
    assert job.status == "running"
    assert job.lease_owner is None and job.lease_expires_at is None, "a stop releases the lease"
    assert job.attempts == 1
    assert 1 <= len(before) < 6
    assert before[0].key == "plan"

    async with running_app(create_app(settings)) as http:
        view = await wait_until(http, tenant, task_id)
    assert view["status"] == "completed", view["error"]

    job, after = await _rows(settings, task_id)
    keys = [s.key for s in after]
    n = len(view["sub_questions"])
    expected = ["plan", *(f"research:{i}" for i in range(n)), "write", "review"]
    assert sorted(keys) == sorted(expected)
    assert len(keys) == len(set(keys))
    # The steps done before the stop were not run again: same rows, same results.
    assert [_snapshot(s) for s in after[: len(before)]] == [_snapshot(s) for s in before]
    assert job.attempts == 2
    assert view["report"]["sections"]
