"""``/api/v1/research``: start a research task, follow it, read its report, cancel it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ai_platform.core.envelope import APIResponse
from ai_platform.core.errors import (
    GOVERNED_ERRORS,
    ConflictError,
    NotFoundError,
    RequestValidationFailed,
    UnknownModelError,
)
from ai_platform.core.ids import ResearchIdStr
from ai_platform.gateway.deps import PlatformDep, SessionDep
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.governed import governed
from ai_platform.gateway.responses import envelope
from ai_platform.governance.context import RequestContext
from ai_platform.llm.pricing import check_requested_model
from ai_platform.services.research import service
from ai_platform.services.research.runner import get_runner
from ai_platform.services.research.schemas import StartRequest, TaskAccepted, TaskView

router = APIRouter(prefix="/api/v1/research", tags=["Research Team"])

# One dependency object for every route: FastAPI caches it per request, so a route
# that also depends on it through ``owned`` opens a single governed context.
ResearchCtx = Annotated[RequestContext, Depends(governed("research"))]
TaskId = Annotated[ResearchIdStr, Path(description="the `rsch_…` task id /start returned")]

READ_ERRORS = error_responses(*GOVERNED_ERRORS, NotFoundError)


async def owned(task_id: TaskId, ctx: ResearchCtx, platform: PlatformDep) -> str:
    """404 before any stream opens when the task is not the caller's."""
    async with platform.sessionmaker() as session:
        await service.owned_job(session, ctx.client_id, task_id)
    return task_id


@router.post(
    "/start",
    status_code=202,
    response_model=APIResponse[TaskAccepted],
    summary="Start a research task in the background",
    responses=error_responses(*GOVERNED_ERRORS, RequestValidationFailed, UnknownModelError),
)
async def start(
    body: StartRequest, request: Request, ctx: ResearchCtx, platform: PlatformDep
) -> APIResponse[TaskAccepted]:
    """Answers at once with the task id. A planner splits the question into
    sub-questions, researchers answer them in parallel from the knowledge base, a
    writer composes a cited report and a reviewer checks it against the sources.
    Follow it with ``GET /{task_id}`` or ``GET /{task_id}/events``. A model the
    platform cannot price is refused here (422 ``unknown_model``), not by the job."""
    check_requested_model(ctx.governor.prices, ctx.governor.settings, body.model)
    return envelope(request, await service.start(ctx, platform, body))


@router.get(
    "/{task_id}",
    response_model=APIResponse[TaskView],
    summary="A research task: status, progress, partial results, report, usage",
    responses=READ_ERRORS,
)
async def get_task(
    task_id: TaskId, request: Request, ctx: ResearchCtx, session: SessionDep
) -> APIResponse[TaskView]:
    return envelope(request, await service.view(session, ctx.client_id, task_id))


@router.get(
    "/{task_id}/events",
    response_class=EventSourceResponse,
    summary="A research task's progress as Server-Sent Events",
    responses=READ_ERRORS,
)
async def task_events(
    task_id: Annotated[str, Depends(owned)], ctx: ResearchCtx, platform: PlatformDep
) -> AsyncIterator[ServerSentEvent]:
    """Events: ``status`` {status, progress}; ``step`` {key, kind, steps_done,
    steps_total, ...the step's result} as each step completes; then one of
    ``completed`` / ``failed`` / ``cancelled`` carrying the whole task view, and the
    stream ends. A client that connects late gets every completed step first."""
    runner = get_runner(platform)
    research = runner.research if runner is not None else platform.settings.research
    async for event in service.events(platform.sessionmaker, research, ctx.client_id, task_id):
        yield event


@router.post(
    "/{task_id}/cancel",
    response_model=APIResponse[TaskView],
    summary="Cancel a research task that has not finished",
    responses=error_responses(*GOVERNED_ERRORS, NotFoundError, ConflictError),
)
async def cancel_task(
    task_id: TaskId, request: Request, ctx: ResearchCtx, platform: PlatformDep
) -> APIResponse[TaskView]:
    """Stops the task where it is; the steps it completed (and their cost) are kept.
    Cancelling a cancelled task is a no-op; a completed or failed one is a 409."""
    return envelope(request, await service.cancel(platform, ctx.client_id, task_id))
