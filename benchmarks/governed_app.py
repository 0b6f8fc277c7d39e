"""A minimal governed chat route, for the governance benchmarks and multi-worker proofs.

It is what every service route does, and nothing else: authenticate, count the
request, screen the message, one governed LLM call (reserve → call → settle), the
envelope, one ledger row. ``POST /bench/chat`` answers in one piece,
``POST /bench/stream`` streams Server-Sent Events and finishes its context when the
stream ends.

    uvicorn benchmarks.governed_app:create --factory --workers 2

reads the usual settings from the environment, plus ``REDIS_KEY_PREFIX`` (keys of
different runs never meet).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from ai_platform.config import Settings
from ai_platform.core.envelope import APIResponse
from ai_platform.gateway.app import create_app
from ai_platform.gateway.governed import governed
from ai_platform.gateway.responses import envelope
from ai_platform.governance.context import RequestContext
from ai_platform.llm.types import ContentDelta, StreamDone

router = APIRouter(prefix="/bench", tags=["benchmark"])
BenchCtx = Annotated[RequestContext, Depends(governed("bench"))]


class ChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=4000)
    max_tokens: int = Field(default=64, ge=1, le=4096)


class ChatOut(BaseModel):
    answer: str | None


@router.post("/chat")
async def chat(body: ChatIn, request: Request, ctx: BenchCtx) -> APIResponse[ChatOut]:
    await ctx.screen(body.message)
    result = await ctx.chat([{"role": "user", "content": body.message}], max_tokens=body.max_tokens)
    return envelope(request, ChatOut(answer=result.content))


@router.post("/stream", response_class=EventSourceResponse)
async def stream(body: ChatIn, ctx: BenchCtx) -> AsyncIterator[ServerSentEvent]:
    ctx.defer_finish()
    try:
        await ctx.screen(body.message)
        async for event in ctx.stream_chat(
            [{"role": "user", "content": body.message}], max_tokens=body.max_tokens
        ):
            if isinstance(event, ContentDelta):
                yield ServerSentEvent(data=event.text, event="delta")
            elif isinstance(event, StreamDone):
                usage = ctx.usage
                yield ServerSentEvent(
                    event="done",
                    data={
                        "request_id": ctx.request_id,
                        "tokens_used": usage.tokens,
                        "estimated_cost_usd": round(usage.cost_usd, 10),
                        "model_version": usage.model,
                    },
                )
    except BaseException as exc:
        ctx.fail(exc)
        raise
    finally:
        await ctx.finish()


# -- for the cost breakdown in benchmarks/governance_overhead.py --------------------------


@router.post("/plain")
async def plain(body: ChatIn) -> ChatOut:
    """The framework alone: routing, body validation, middleware, serialisation."""
    return ChatOut(answer=None)


@router.post("/governed-noop")
async def governed_noop(body: ChatIn, request: Request, ctx: BenchCtx) -> APIResponse[ChatOut]:
    """Governance without an LLM call: key, RPM, screening, envelope, ledger row."""
    await ctx.screen(body.message)
    return envelope(request, ChatOut(answer=None))


@router.post("/llm-only")
async def llm_only(body: ChatIn, request: Request) -> ChatOut:
    """The same LLM call, ungoverned (no key): what the openai SDK costs by itself."""
    result = await request.app.state.platform.llm.chat(
        [{"role": "user", "content": body.message}], max_tokens=body.max_tokens
    )
    return ChatOut(answer=result.content)


class BenchSettings(Settings):
    redis_key_prefix: str = "aip"


def create(settings: Settings | None = None) -> FastAPI:
    """The platform with the benchmark routes mounted (``uvicorn --factory``)."""
    app = create_app(settings or BenchSettings())
    app.include_router(router)
    return app
