"""Leases: one runner at a time, and a runner that lost its job cannot write to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.core.ids import new_id
from ai_platform.db.base import utcnow
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.services.research import repository as repo
from ai_platform.services.research.models import ResearchJob
from tests.support import make_tenant


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _job(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> ResearchJob:
    # These tests leave their jobs ``running`` on 30 s leases: the conftest's
    # ``no_runnable_jobs_left_behind`` ends them, or a later app's runner would run them.
    tenant = await make_tenant(settings)
    job = ResearchJob(
        id=new_id("rsch"),
        client_id=tenant.client_id,
        key_id=tenant.key_id,
        client_name="t",
        scopes=["read"],
        question="What is a tent?",
        max_sub_questions=1,
        status="accepted",
        steps_total=4,
        attempts=0,
    )
    async with sessions() as session:
        await repo.add_job(session, job)
        await session.commit()
    return job


async def _claim(sessions: async_sessionmaker[AsyncSession], task_id: str, owner: str) -> bool:
    async with sessions() as session:
        won = await repo.claim(session, task_id, owner, 30)
        await session.commit()
        return won


async def test_racing_runners_claim_a_job_once(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    job = await _job(settings, sessions)
    wins = await asyncio.gather(*(_claim(sessions, job.id, f"r{i}") for i in range(6)))
    assert sum(wins) == 1
    async with sessions() as session:
        assert await repo.claimable_jobs(session, 10) == []
        row = await repo.get_job(session, job.id)
    assert row is not None and row.status == "running" and row.attempts == 1


async def test_an_expired_lease_passes_to_another_runner_and_locks_out_the_first(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    job = await _job(settings, sessions)
    assert await _claim(sessions, job.id, "first")
    assert not await _claim(sessions, job.id, "second")
    async with sessions() as session:
        await session.execute(
            update(ResearchJob)
            .where(ResearchJob.id == job.id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
        assert job.id in await repo.claimable_jobs(session, 10)
    assert await _claim(sessions, job.id, "second")

    async with sessions() as session:
        assert not await repo.renew(session, job.id, "first", 30)
        assert not await repo.record_step(
            session,
            job,
            "first",
            key="plan",
            kind="plan",
            result={},
            model=None,
            prompt_tokens=0,
            completion_tokens=0,
            cost_usd=Decimal(0),
            latency_ms=0.0,
        )
        assert not await repo.finish(session, job.id, "first", "completed")
        assert await repo.renew(session, job.id, "second", 30)
        await session.commit()
        assert job.created_at.tzinfo is not None
    async with sessions() as session:
        row = await repo.get_job(session, job.id)
        assert row is not None and row.status == "running" and row.lease_owner == "second"
        assert row.attempts == 2
        assert await repo.list_steps(session, job.id) == []


async def test_a_cancelled_job_cannot_be_claimed_or_written(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    job = await _job(settings, sessions)
    assert await _claim(sessions, job.id, "runner")
    async with sessions() as session:
        assert await repo.cancel(session, job.id, job.client_id)
        await session.commit()
    async with sessions() as session:
        assert not await repo.renew(session, job.id, "runner", 30)
        assert not await repo.finish(session, job.id, "runner", "completed")
        assert not await repo.cancel(session, job.id, job.client_id), "already cancelled"
        assert not await repo.cancel(session, job.id, "cli_someone_else")
    assert not await _claim(sessions, job.id, "another")
