"""Database access for research jobs and steps. Functions flush, never commit.

The lease is taken and checked in single ``UPDATE ... WHERE`` statements, so two
processes racing for the same job cannot both win: the one whose update matched
the row holds it. Every write a running job makes (a step, the final status) is
guarded by the same condition — still ``running`` and still leased by this owner —
so a job cancelled or taken over meanwhile cannot be overwritten by a stale runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.db.base import utcnow
from ai_platform.services.research.models import ResearchJob, ResearchStep
from ai_platform.services.research.schemas import UNFINISHED


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


async def add_job(session: AsyncSession, job: ResearchJob) -> ResearchJob:
    session.add(job)
    await session.flush()
    return job


async def get_job(
    session: AsyncSession, task_id: str, client_id: str | None = None
) -> ResearchJob | None:
    query = select(ResearchJob).where(ResearchJob.id == task_id)
    if client_id is not None:
        query = query.where(ResearchJob.client_id == client_id)
    job: ResearchJob | None = (await session.execute(query)).scalar_one_or_none()
    return job


async def list_steps(session: AsyncSession, task_id: str) -> list[ResearchStep]:
    rows = await session.execute(
        select(ResearchStep).where(ResearchStep.job_id == task_id).order_by(ResearchStep.id)
    )
    return list(rows.scalars())


def _claimable(now: datetime) -> Any:
    return (ResearchJob.status.in_(UNFINISHED)) & or_(
        ResearchJob.lease_expires_at.is_(None), ResearchJob.lease_expires_at < now
    )


async def claimable_jobs(
    session: AsyncSession, limit: int, exclude: Sequence[str] = ()
) -> list[str]:
    """Unfinished jobs nobody holds (never leased, released, or whose lease ran out)."""
    query = (
        select(ResearchJob.id)
        .where(_claimable(utcnow()))
        .order_by(ResearchJob.created_at)
        .limit(limit)
    )
    if exclude:
        query = query.where(ResearchJob.id.not_in(list(exclude)))
    return list((await session.execute(query)).scalars())


async def claim(session: AsyncSession, task_id: str, owner: str, lease_s: float) -> bool:
    now = utcnow()
    result = await session.execute(
        update(ResearchJob)
        .where(ResearchJob.id == task_id, _claimable(now) | _held_by(owner))
        .values(
            status="running",
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=ResearchJob.attempts + 1,
            started_at=func.coalesce(ResearchJob.started_at, now),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _held_by(owner: str) -> Any:
    return (ResearchJob.status == "running") & (ResearchJob.lease_owner == owner)


async def renew(session: AsyncSession, task_id: str, owner: str, lease_s: float) -> bool:
    """Extend this owner's lease; False when the job was cancelled or taken over."""
    now = utcnow()
    result = await session.execute(
        update(ResearchJob)
        .where(ResearchJob.id == task_id, _held_by(owner))
        .values(lease_expires_at=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def release(session: AsyncSession, task_id: str, owner: str) -> None:
    """Give the job up (a stopping process): the next runner may claim it at once."""
    await session.execute(
        update(ResearchJob)
        .where(ResearchJob.id == task_id, ResearchJob.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


async def set_steps_total(session: AsyncSession, task_id: str, owner: str, total: int) -> bool:
    result = await session.execute(
        update(ResearchJob)
        .where(ResearchJob.id == task_id, _held_by(owner))
        .values(steps_total=total, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def record_step(
    session: AsyncSession,
    job: ResearchJob,
    owner: str,
    *,
    key: str,
    kind: str,
    result: dict[str, Any],
    model: str | None,
    prompt_tokens: int,
    completion_tokens: int,
    cost_usd: Decimal,
    latency_ms: float,
) -> bool:
    """Store a completed step if this owner still runs the job. The caller commits; a
    duplicate key (the step was recorded by another runner) raises IntegrityError."""
    guard = await session.execute(
        update(ResearchJob)
        .where(ResearchJob.id == job.id, _held_by(owner))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if _rowcount(guard) != 1:
        return False
    session.add(
        ResearchStep(
            job_id=job.id,
            client_id=job.client_id,
            key=key,
            kind=kind,
            result=result,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd,
            latency_ms=latency_ms,
        )
    )
    await session.flush()
    return True


def _ended(status: str) -> dict[str, Any]:
    """The columns of a job that stops for good: its end time, and no lease."""
    now = utcnow()
    return {
        "status": status,
        "finished_at": now,
        "updated_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
    }


async def finish(
    session: AsyncSession,
    task_id: str,
    owner: str,
    status: str,
    error: dict[str, Any] | None = None,
) -> bool:
    result = await session.execute(
        update(ResearchJob)
        .where(ResearchJob.id == task_id, _held_by(owner))
        .values({**_ended(status), "error": error})
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def cancel(session: AsyncSession, task_id: str, client_id: str) -> bool:
    """Mark an unfinished job cancelled; False when it had already finished."""
    result = await session.execute(
        update(ResearchJob)
        .where(
            ResearchJob.id == task_id,
            ResearchJob.client_id == client_id,
            ResearchJob.status.in_(UNFINISHED),
        )
        .values(_ended("cancelled"))
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def unfinished_jobs(session: AsyncSession, *, stale_only: bool) -> list[ResearchJob]:
    query = select(ResearchJob).where(ResearchJob.status.in_(UNFINISHED))
    if stale_only:
        query = query.where(_claimable(utcnow()))
    return list((await session.execute(query.order_by(ResearchJob.created_at))).scalars())
