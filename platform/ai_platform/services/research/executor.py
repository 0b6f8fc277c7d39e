"""Running one research job: claim it, run the steps it lacks, record each, finish it.

The same executor runs a job in the API process (the in-process runner) and in an arq
worker. Whatever the process, a job is run like this:

1. claim: an atomic update takes the lease (``lease_expires_at``) unless another live
   runner holds it;
2. a heartbeat renews the lease every third of its length and stops the job when the
   renewal fails — the job was cancelled, or another runner took it over;
3. steps: plan, one research step per sub-question (in parallel), write, review. A
   step whose row exists is skipped and its stored result used; a step that runs is
   governed by its own context (``Governor.for_job``: budget reserved and settled,
   one ledger row) and its row is written only while this runner still holds the job;
4. finish: completed, or failed with the error's code and message. A process that is
   stopping releases the lease instead, so the next runner resumes the job at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.core.errors import AIServiceError
from ai_platform.db.models import ApiKey, Client
from ai_platform.governance.auth import ClientInfo, client_info
from ai_platform.governance.context import RequestContext
from ai_platform.governance.ledger import cost_decimal
from ai_platform.services.research import repository, roles
from ai_platform.services.research.config import ResearchSettings
from ai_platform.services.research.models import ResearchJob

logger = logging.getLogger("ai_platform.research")

SERVICE = "research"
Outcome = Literal["completed", "failed", "cancelled", "busy", "missing"]


def new_owner(kind: str) -> str:
    """A lease owner id: unique per runner, readable in the jobs table."""
    return f"{kind}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobStopped(Exception):
    """The job was cancelled or taken over while this runner was working on it."""


class JobFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def step_keys(n: int) -> list[str]:
    return ["plan", *(f"research:{i}" for i in range(n)), "write", "review"]


def steps_total(n: int) -> int:
    return n + 3


def request_id(task_id: str, key: str, attempt: int) -> str:
    # The ledger keeps one row per request id. A step re-run after an interruption
    # spends again, so later attempts get their own id rather than being dropped.
    base = f"{task_id}:{key}"
    return base if attempt <= 1 else f"{base}:r{attempt}"


@dataclass
class JobExecutor:
    settings: Settings
    research: ResearchSettings
    sessionmaker: async_sessionmaker[AsyncSession]
    governor: Any
    owner: str

    async def run(self, task_id: str) -> Outcome:
        """Run the job if it can be claimed; ``busy`` when another runner holds it."""
        async with self.sessionmaker() as session:
            claimed = await repository.claim(session, task_id, self.owner, self.research.lease_s)
            job = await repository.get_job(session, task_id)
            await session.commit()
        if job is None:
            return "missing"
        if not claimed:
            return "busy" if job.status in ("accepted", "running") else "missing"
        if job.attempts > self.research.max_tries:
            # A job that keeps dying with its runner (or crashing it) stops here.
            return await self._finish(
                task_id,
                "failed",
                {
                    "code": "interrupted",
                    "message": f"the job was interrupted {job.attempts - 1} times",
                },
            )
        work = asyncio.create_task(self._execute(job), name=f"research:{task_id}")
        beat = asyncio.create_task(self._heartbeat(task_id, work), name=f"lease:{task_id}")
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            if not work.done():
                # This process is stopping: stop the work and hand the job back.
                work.cancel()
                with contextlib.suppress(BaseException):
                    await work
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._release(task_id))
                raise
            # The heartbeat cancelled the work: cancelled by the user, or taken over.
            return await self._stopped_outcome(task_id)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _release(self, task_id: str) -> None:
        async with self.sessionmaker() as session:
            await repository.release(session, task_id, self.owner)
            await session.commit()

    async def _stopped_outcome(self, task_id: str) -> Outcome:
        async with self.sessionmaker() as session:
            job = await repository.get_job(session, task_id)
        return "cancelled" if job is not None and job.status == "cancelled" else "busy"

    async def _heartbeat(self, task_id: str, work: asyncio.Task[Outcome]) -> None:
        interval = self.research.lease_s / 3
        while not work.done():
            await asyncio.sleep(interval)
            try:
                async with self.sessionmaker() as session:
                    held = await repository.renew(
                        session, task_id, self.owner, self.research.lease_s
                    )
                    await session.commit()
            except Exception:
                # A database blip: keep working; the lease outlives two missed beats.
                logger.warning("renewing the lease of %s failed", task_id, exc_info=True)
                continue
            if not held:
                work.cancel()
                return

    async def _execute(self, job: ResearchJob) -> Outcome:
        try:
            await self._steps(job)
        except JobStopped:
            # Lost to a cancellation or another runner; if the lease is somehow still
            # ours, hand it back rather than block the job until it expires.
            await self._release(job.id)
            return await self._stopped_outcome(job.id)
        except JobFailed as exc:
            return await self._finish(job.id, "failed", {"code": exc.code, "message": exc.message})
        except AIServiceError as exc:
            return await self._finish(
                job.id, "failed", {"code": exc.error_code, "message": exc.message}
            )
        except Exception:
            logger.exception("research job %s failed", job.id)
            return await self._finish(
                job.id, "failed", {"code": "internal_error", "message": "the job failed"}
            )
        return await self._finish(job.id, "completed", None)

    async def _finish(self, task_id: str, status: str, error: dict[str, Any] | None) -> Outcome:
        async with self.sessionmaker() as session:
            done = await repository.finish(session, task_id, self.owner, status, error)
            await session.commit()
        if not done:
            return await self._stopped_outcome(task_id)
        return "completed" if status == "completed" else "failed"

    # -- the steps -----------------------------------------------------------------

    async def _steps(self, job: ResearchJob) -> None:
        client = await self._client(job)
        async with self.sessionmaker() as session:
            done = {s.key: s.result for s in await repository.list_steps(session, job.id)}
        attempt = job.attempts

        async def step(
            key: str, kind: str, fn: Callable[[RequestContext], Awaitable[dict[str, Any]]]
        ) -> dict[str, Any]:
            if key in done:
                return done[key]
            result = await self._run_step(job, client, key, kind, attempt, fn)
            done[key] = result
            return result

        planned = await step(
            "plan",
            "plan",
            lambda ctx: roles.plan(ctx, job.question, job.max_sub_questions, job.model),
        )
        subs: list[str] = planned["sub_questions"]
        if job.steps_total != steps_total(len(subs)):
            async with self.sessionmaker() as session:
                if not await repository.set_steps_total(
                    session, job.id, self.owner, steps_total(len(subs))
                ):
                    raise JobStopped
                await session.commit()

        def researcher(i: int, q: str) -> Callable[[RequestContext], Awaitable[dict[str, Any]]]:
            return lambda ctx: roles.research(ctx, self.sessionmaker, i, q, job.model)

        outcomes = await asyncio.gather(
            *(step(f"research:{i}", "research", researcher(i, q)) for i, q in enumerate(subs)),
            return_exceptions=True,
        )
        # Every researcher that finished has recorded its step; now surface a failure.
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        findings = [done[f"research:{i}"] for i in range(len(subs))]
        report = await step(
            "write", "write", lambda ctx: roles.write(ctx, job.question, findings, job.model)
        )
        await step("review", "review", lambda ctx: roles.review(ctx, report, job.model))

    async def _run_step(
        self,
        job: ResearchJob,
        client: ClientInfo,
        key: str,
        kind: str,
        attempt: int,
        fn: Callable[[RequestContext], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        ctx: RequestContext = self.governor.for_job(
            client, SERVICE, request_id=request_id(job.id, key, attempt)
        )
        started = time.perf_counter()
        try:
            result = await fn(ctx)
            usage = ctx.usage
            async with self.sessionmaker() as session:
                try:
                    recorded = await repository.record_step(
                        session,
                        job,
                        self.owner,
                        key=key,
                        kind=kind,
                        result=result,
                        model=usage.model,
                        prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens,
                        cost_usd=cost_decimal(usage.cost_usd),
                        latency_ms=round((time.perf_counter() - started) * 1000, 3),
                    )
                    await session.commit()
                except IntegrityError:
                    # Another runner recorded this step first; its result stands.
                    await session.rollback()
                    raise JobStopped from None
            if not recorded:
                raise JobStopped
            return result
        except BaseException as exc:
            ctx.fail(exc)
            raise
        finally:
            await ctx.finish()

    async def _client(self, job: ResearchJob) -> ClientInfo:
        """The tenant as it is now: its current limits, and refused if it was
        deactivated or the starting key revoked since the job began."""
        async with self.sessionmaker() as session:
            client = await session.get(Client, job.client_id)
            key = await session.get(ApiKey, job.key_id)
        if client is None or not client.active:
            raise JobFailed("unauthorized", "the client that started this job is no longer active")
        if key is None or key.revoked_at is not None:
            raise JobFailed("unauthorized", "the API key that started this job was revoked")
        return client_info(
            client, self.settings, key_id=job.key_id, scopes=job.scopes, name=job.client_name
        )
