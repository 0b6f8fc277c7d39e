"""Who runs research jobs: this process (``LocalRunner``) or arq workers (``QueueRunner``).

``start_runner(platform)`` picks by settings: with ``REDIS_URL`` set, jobs are
enqueued for ``ai-platform worker`` processes; without it, the API process runs them
itself. Either way a job's state lives in the database, so stopping the process loses
nothing: unfinished jobs are resumed by the next runner that starts.

The local runner looks for claimable jobs when told (a job was just submitted, a job
ended) and every ``RESEARCH_POLL_INTERVAL_S``, so it also picks up jobs submitted
through another API process and jobs whose runner died (once their lease runs out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Protocol

from ai_platform.core.logging import OutageLog
from ai_platform.services.research import repository
from ai_platform.services.research.config import ResearchSettings
from ai_platform.services.research.executor import JobExecutor, new_owner

if TYPE_CHECKING:
    from ai_platform.gateway.state import PlatformState

logger = logging.getLogger("ai_platform.research")



class Runner(Protocol):
    research: ResearchSettings

    async def start(self) -> None: ...

    async def submit(self, task_id: str) -> None:
        """A job row was committed: get it run."""

    def cancelled(self, task_id: str) -> None:
        """A job was marked cancelled: stop it here if it runs here."""

    async def stop(self) -> None: ...


class LocalRunner:
    """Runs jobs as asyncio tasks in this process, at most ``max_concurrent_jobs``."""

    def __init__(self, platform: PlatformState, research: ResearchSettings) -> None:
        self.research = research
        self._sessionmaker = platform.sessionmaker
        self.executor = JobExecutor(
            settings=platform.settings,
            research=research,
            sessionmaker=platform.sessionmaker,
            governor=platform.governor,
            owner=new_owner("api"),
        )
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> list[str]:
        return list(self._tasks)

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="research-runner")

    async def submit(self, task_id: str) -> None:
        self._wake.set()

    def cancelled(self, task_id: str) -> None:
        task = self._tasks.get(task_id)
        if task is not None:
            task.cancel()

    async def stop(self) -> None:
        self._stopping = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        # Each job releases its lease as it stops, for the next runner to resume.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self) -> None:
        outage = OutageLog(logger, "looking for research jobs")
        while True:
            try:
                await self._fill()
            except Exception as exc:
                outage.failed(exc)
            else:
                outage.succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.research.poll_interval_s)
            self._wake.clear()

    async def _fill(self) -> None:
        free = self.research.max_concurrent_jobs - len(self._tasks)
        if free <= 0:
            return
        async with self._sessionmaker() as session:
            ids = await repository.claimable_jobs(session, free, exclude=list(self._tasks))
        for task_id in ids:
            self._tasks[task_id] = asyncio.create_task(self._run(task_id), name=task_id)

    async def _run(self, task_id: str) -> None:
        try:
            await self.executor.run(task_id)
        except asyncio.CancelledError:
            if self._stopping:
                raise
            # Cancelled by the user: the job row already says so.
        except Exception:
            logger.exception("research job %s crashed", task_id)
        finally:
            self._tasks.pop(task_id, None)
            self._wake.set()


async def start_runner(
    platform: PlatformState, research: ResearchSettings | None = None
) -> Runner:
    """Start the runner the settings call for and keep it in ``platform.research_runner``.

    Idempotent: a second call returns the runner already started.
    """
    existing = platform.research_runner
    if existing is not None:
        return existing
    research = research or platform.settings.research
    runner: Runner
    if platform.settings.redis_url:
        from ai_platform.services.research.queue import QueueRunner

        runner = QueueRunner(platform, research)
    else:
        runner = LocalRunner(platform, research)
    await runner.start()
    platform.research_runner = runner
    return runner


async def stop_runner(platform: PlatformState) -> None:
    runner, platform.research_runner = platform.research_runner, None
    if runner is not None:
        await runner.stop()


def get_runner(platform: PlatformState) -> Runner | None:
    return platform.research_runner
