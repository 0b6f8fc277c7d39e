"""Research-team domain logic for the routes: start, read, cancel, follow.

Starting and cancelling commit in their own session rather than at the request
boundary: the job row must be in the database before a runner (possibly another
process) is told about it, and a cancellation must be visible before the running job
is told to stop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi.sse import ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.core.errors import ConflictError, NotFoundError
from ai_platform.core.ids import new_id
from ai_platform.governance.context import RequestContext
from ai_platform.services.research import repository
from ai_platform.services.research.config import ResearchSettings
from ai_platform.services.research.executor import step_keys, steps_total
from ai_platform.services.research.models import ResearchJob, ResearchStep
from ai_platform.services.research.runner import get_runner
from ai_platform.services.research.schemas import (
    FINISHED,
    ErrorOut,
    Progress,
    Report,
    Review,
    Source,
    StartRequest,
    SubAnswer,
    TaskAccepted,
    TaskView,
    UsageOut,
)

if TYPE_CHECKING:
    from ai_platform.gateway.state import PlatformState

PREFIX = "/api/v1/research"


def not_found(task_id: str) -> NotFoundError:
    return NotFoundError(f"research task {task_id} not found", details={"task_id": task_id})


async def start(ctx: RequestContext, platform: PlatformState, body: StartRequest) -> TaskAccepted:
    await ctx.screen(body.question)
    client = ctx.client
    job = ResearchJob(
        id=new_id("rsch"),
        client_id=client.id,
        key_id=client.key_id,
        client_name=client.name,
        scopes=sorted(client.scopes),
        question=body.question,
        max_sub_questions=body.max_sub_questions,
        model=body.model,
        status="accepted",
        steps_total=steps_total(body.max_sub_questions),
        attempts=0,
    )
    async with platform.sessionmaker() as session:
        await repository.add_job(session, job)
        await session.commit()
    runner = get_runner(platform)
    if runner is not None:
        await runner.submit(job.id)
    return TaskAccepted(
        task_id=job.id,
        status="accepted",
        status_url=f"{PREFIX}/{job.id}",
        events_url=f"{PREFIX}/{job.id}/events",
    )


async def owned_job(session: AsyncSession, client_id: str, task_id: str) -> ResearchJob:
    job = await repository.get_job(session, task_id, client_id)
    if job is None:
        raise not_found(task_id)
    return job


async def view(session: AsyncSession, client_id: str, task_id: str) -> TaskView:
    job = await owned_job(session, client_id, task_id)
    return build_view(job, await repository.list_steps(session, task_id))


async def cancel(platform: PlatformState, client_id: str, task_id: str) -> TaskView:
    async with platform.sessionmaker() as session:
        _refuse_finished(await owned_job(session, client_id, task_id))
        changed = await repository.cancel(session, task_id, client_id)
        await session.commit()
    runner = get_runner(platform)
    if changed and runner is not None:
        runner.cancelled(task_id)
    async with platform.sessionmaker() as session:
        current = await owned_job(session, client_id, task_id)
        # It may have finished between the read and the update: nothing was cancelled.
        _refuse_finished(current)
        return build_view(current, await repository.list_steps(session, task_id))


def _refuse_finished(job: ResearchJob) -> None:
    if job.status in ("completed", "failed"):
        raise ConflictError(
            f"research task {job.id} already {job.status}",
            details={"task_id": job.id, "status": job.status},
        )


# -- the view of a job -----------------------------------------------------------------


def _sources(passages: Sequence[dict[str, Any]]) -> list[Source]:
    return [
        Source(
            number=p["number"],
            document_id=p["document_id"],
            chunk_id=p["chunk_id"],
            title=p["title"],
            source=p["source"],
            snippet=p["content"],
            score=p["score"],
        )
        for p in passages
    ]


def _usage(steps: Sequence[ResearchStep]) -> UsageOut:
    prompt = sum(s.prompt_tokens for s in steps)
    completion = sum(s.completion_tokens for s in steps)
    cost = sum((Decimal(s.cost_usd) for s in steps), Decimal(0))
    return UsageOut(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cost_usd=float(cost),
        llm_steps=sum(1 for s in steps if s.model),
    )


def build_view(job: ResearchJob, steps: Sequence[ResearchStep]) -> TaskView:
    results = {s.key: s.result for s in steps}
    planned = results.get("plan")
    subs: list[str] | None = planned["sub_questions"] if planned else None
    total = steps_total(len(subs)) if subs is not None else job.steps_total
    keys = step_keys(len(subs)) if subs is not None else ["plan"]
    done = sum(1 for k in keys if k in results)
    remaining = [] if job.status in FINISHED else [k for k in keys if k not in results]
    partial = sorted(
        (
            SubAnswer(
                index=r["index"],
                sub_question=r["sub_question"],
                answer=r["answer"],
                citations=r["citations"],
                grounded=r["grounded"],
                sources=_sources(r["passages"]),
            )
            for k, r in results.items()
            if k.startswith("research:")
        ),
        key=lambda a: a.index,
    )
    written = results.get("write")
    reviewed = results.get("review")
    return TaskView(
        task_id=job.id,
        status=job.status,  # type: ignore[arg-type]
        question=job.question,
        model=job.model,
        progress=Progress(
            steps_done=done,
            steps_total=total,
            percent=round(100 * done / total, 1) if total else 0.0,
            current=remaining,
        ),
        sub_questions=subs,
        planner=planned["planner"] if planned else None,
        partial_results=partial,
        report=Report.model_validate(written) if written else None,
        review=Review.model_validate(reviewed) if reviewed else None,
        usage=_usage(steps),
        error=ErrorOut.model_validate(job.error) if job.error else None,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


# -- the event stream ------------------------------------------------------------------


def _step_event(step: ResearchStep, done: int, total: int) -> ServerSentEvent:
    result = step.result
    data: dict[str, Any] = {
        "key": step.key,
        "kind": step.kind,
        "steps_done": done,
        "steps_total": total,
        "model": step.model,
        "tokens": step.prompt_tokens + step.completion_tokens,
        "cost_usd": float(step.cost_usd),
    }
    if step.kind == "plan":
        data["sub_questions"] = result["sub_questions"]
        data["planner"] = result["planner"]
    elif step.kind == "research":
        data.update(
            index=result["index"],
            sub_question=result["sub_question"],
            answer=result["answer"],
            citations=result["citations"],
            grounded=result["grounded"],
        )
    elif step.kind == "write":
        data["title"] = result["title"]
        data["sources"] = len(result["sources"])
    elif step.kind == "review":
        data["verdict"] = result["verdict"]
        data["issues"] = result["issues"]
    return ServerSentEvent(event="step", data=data, id=f"{step.job_id}:{step.key}")


async def events(
    sessionmaker: async_sessionmaker[AsyncSession],
    research: ResearchSettings,
    client_id: str,
    task_id: str,
) -> AsyncIterator[ServerSentEvent]:
    """``status`` when the status changes, ``step`` as each step completes (with its
    result), then one final event named for the end state — ``completed`` (with the
    report and review), ``failed`` (with the error) or ``cancelled`` — and the stream
    ends. The job's state is read from the database, so the stream follows a job run
    by any process."""
    sent: set[str] = set()
    status: str | None = None
    deadline = time.monotonic() + research.events_max_s
    while True:
        async with sessionmaker() as session:
            job = await repository.get_job(session, task_id, client_id)
            steps = await repository.list_steps(session, task_id) if job is not None else []
        if job is None:
            yield ServerSentEvent(event="error", data={"code": "not_found", "task_id": task_id})
            return
        current = build_view(job, steps)
        if job.status != status and job.status not in FINISHED:
            status = job.status
            yield ServerSentEvent(
                event="status",
                data={"status": status, "progress": current.progress.model_dump()},
            )
        for step in steps:
            if step.key not in sent:
                sent.add(step.key)
                yield _step_event(step, len(sent), current.progress.steps_total)
        if job.status in FINISHED:
            yield ServerSentEvent(
                event=job.status,
                data=current.model_dump(mode="json"),
                id=f"{task_id}:end",
            )
            return
        if time.monotonic() > deadline:
            yield ServerSentEvent(
                event="timeout",
                data={"status": job.status, "progress": current.progress.model_dump()},
            )
            return
        await asyncio.sleep(research.events_poll_s)
