"""Research jobs on arq: the API enqueues, ``ai-platform worker`` processes run them.

arq keeps a job in its queue until a run of it ends, so a worker that dies mid-job
does not lose it: once the job's in-progress mark expires (``RESEARCH_JOB_TIMEOUT_S``
+ 10 s) another worker runs it again. The database lease shortens that wait: a worker
that starts, or an API process that starts, finds jobs whose lease ran out (their
runner stopped renewing it), clears arq's stale in-progress mark and queues them, so
they resume at once. The arq job id is the task id, which makes enqueueing idempotent:
a job already queued or running is not queued twice.

arq results are not kept (``keep_result=0``): the database is the record of a job,
and a stored result would block re-enqueueing a job id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from arq import Retry
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import in_progress_key_prefix
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.core.logging import OutageLog
from ai_platform.services.research import repository
from ai_platform.services.research.config import ResearchSettings
from ai_platform.services.research.executor import JobExecutor

if TYPE_CHECKING:
    from ai_platform.gateway.state import PlatformState

logger = logging.getLogger("ai_platform.research")

JOB_FUNCTION = "research_job"


async def enqueue(pool: ArqRedis, research: ResearchSettings, task_id: str) -> bool:
    """Queue a job; False when arq already holds it (queued or running)."""
    job = await pool.enqueue_job(
        JOB_FUNCTION, task_id, _job_id=task_id, _queue_name=research.queue_name
    )
    return job is not None


async def requeue_stale(
    pool: ArqRedis, sessionmaker: async_sessionmaker[AsyncSession], research: ResearchSettings
) -> list[str]:
    """Queue every unfinished job nobody holds; returns the ids newly queued.

    A job whose lease expired was held by a runner that stopped renewing it (a killed
    worker): arq's in-progress mark for it is stale, so it is cleared first.
    """
    async with sessionmaker() as session:
        jobs = await repository.unfinished_jobs(session, stale_only=True)
    queued = []
    for job in jobs:
        if job.lease_expires_at is not None:
            await pool.delete(in_progress_key_prefix + job.id)
        if await enqueue(pool, research, job.id):
            queued.append(job.id)
    if queued:
        logger.info("queued %d unfinished research jobs", len(queued))
    return queued


class QueueRunner:
    """The API side with Redis configured: submit = enqueue; workers do the work."""

    def __init__(self, platform: PlatformState, research: ResearchSettings) -> None:
        self.research = research
        self._settings = platform.settings
        self._sessionmaker = platform.sessionmaker
        self.pool: ArqRedis | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self._settings.redis_url:
            raise ValueError("REDIS_URL must be set to queue research jobs")
        self.pool = await create_pool(
            RedisSettings.from_dsn(self._settings.redis_url),
            default_queue_name=self.research.queue_name,
        )
        await requeue_stale(self.pool, self._sessionmaker, self.research)
        self._sweeper = asyncio.create_task(self._sweep(self.pool), name="research-requeue")

    async def _sweep(self, pool: ArqRedis) -> None:
        # Catches jobs whose enqueue failed (Redis briefly down at submit) and jobs of
        # a worker killed while no other process was starting.
        outage = OutageLog(logger, "re-queueing unfinished research jobs")
        while True:
            await asyncio.sleep(self.research.lease_s)
            try:
                await requeue_stale(pool, self._sessionmaker, self.research)
            except Exception as exc:
                outage.failed(exc)
            else:
                outage.succeeded()

    async def submit(self, task_id: str) -> None:
        assert self.pool is not None, "the runner is not started"
        try:
            await enqueue(self.pool, self.research, task_id)
        except Exception:
            # The job is stored; the sweep queues it once Redis answers again.
            logger.warning("queueing research job %s failed", task_id, exc_info=True)

    def cancelled(self, task_id: str) -> None:
        # The worker running it sees the cancellation at its next lease renewal.
        return None

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self.pool is not None:
            await self.pool.aclose()
            self.pool = None


async def research_job(ctx: dict[str, Any], task_id: str) -> str:
    """The arq job: run one research job to its end (or until the worker stops)."""
    executor: JobExecutor = ctx["research_executor"]
    outcome = await executor.run(task_id)
    if outcome == "busy":
        # Another runner holds a live lease on it: look again once that could lapse.
        raise Retry(defer=executor.research.lease_s)
    return outcome
