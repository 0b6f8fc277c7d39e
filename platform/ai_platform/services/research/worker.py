"""``ai-platform worker``: an arq worker process that runs research jobs.

It opens what a job needs — database, LLM client (and the bundled simulator when no
provider is configured), governor with its ledger — the way the API process does,
then runs jobs from the research queue until stopped. On SIGTERM/SIGINT arq cancels
running jobs; each releases its lease and arq queues it again, so the next worker
resumes it from its last completed step.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, func
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.core.logging import configure_logging
from ai_platform.services.research.config import ResearchSettings
from ai_platform.services.research.executor import JobExecutor, new_owner
from ai_platform.services.research.queue import JOB_FUNCTION, requeue_stale, research_job


@dataclass
class WorkerResources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    governor: Any


@asynccontextmanager
async def open_worker_resources(settings: Settings) -> AsyncIterator[WorkerResources]:
    """Database, LLM client and governor for a process without the API's lifespan."""
    from ai_platform.gateway.resources import open_resources

    async with AsyncExitStack() as stack:
        res = await open_resources(settings, stack)
        yield WorkerResources(settings, res.engine, res.sessionmaker, res.governor)


def create_worker(
    settings: Settings,
    research: ResearchSettings | None = None,
    *,
    burst: bool = False,
    handle_signals: bool = True,
) -> Worker:
    """An arq ``Worker`` for the research queue (not yet running)."""
    if not settings.redis_url:
        raise ValueError("REDIS_URL must be set to run research workers")
    research = research or settings.research
    stack = AsyncExitStack()

    async def startup(ctx: dict[str, Any]) -> None:
        resources = await stack.enter_async_context(open_worker_resources(settings))
        ctx["research_executor"] = JobExecutor(
            settings=settings,
            research=research,
            sessionmaker=resources.sessionmaker,
            governor=resources.governor,
            owner=new_owner("worker"),
        )
        await requeue_stale(ctx["redis"], resources.sessionmaker, research)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await stack.aclose()

    return Worker(
        functions=[
            func(
                research_job,
                name=JOB_FUNCTION,
                keep_result=0,
                timeout=research.job_timeout_s,
                max_tries=research.max_tries,
            )
        ],
        queue_name=research.queue_name,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=handle_signals,
        max_jobs=research.max_concurrent_jobs,
        job_timeout=research.job_timeout_s,
        keep_result=0,
        max_tries=research.max_tries,
        poll_delay=0.5,
    )


async def serve_worker(
    settings: Settings,
    research: ResearchSettings | None = None,
    *,
    burst: bool = False,
    handle_signals: bool = True,
) -> int:
    """Run a worker in the current event loop until stopped (or, with ``burst``, until
    the queue is empty); returns the number of jobs it completed."""
    worker = create_worker(settings, research, burst=burst, handle_signals=handle_signals)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await worker.async_run()
    finally:
        await worker.close()
    return worker.jobs_complete


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """``ai-platform worker``: blocks until SIGINT/SIGTERM (or an empty queue in burst mode)."""
    configure_logging(settings.log_level)
    asyncio.run(serve_worker(settings, burst=burst))
