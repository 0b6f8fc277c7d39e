"""Helpers for the agent and assistant tests: seeded tenants, a scripted model, SSE reads."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import UsageRecord
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.context import RequestContext
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.waiting import wait_for
from ai_platform.llm.types import ChatResult, ToolCall, Usage
from ai_platform.services.agent.demo import seed_customer_data
from ai_platform.services.agent.models import Conversation, Ticket
from tests.support import Tenant, make_tenant


@asynccontextmanager
async def db_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def seeded_tenant(settings: Settings) -> Tenant:
    """A tenant with a key and the demo customers and orders (ORD-1001 ...)."""
    tenant = await make_tenant(settings)
    async with db_session(settings) as session:
        await seed_customer_data(session, tenant.client_id)
        await session.commit()
    return tenant


async def tickets_of(settings: Settings, client_id: str) -> list[Ticket]:
    async with db_session(settings) as session:
        rows = await session.scalars(
            select(Ticket).where(Ticket.client_id == client_id).order_by(Ticket.created_at)
        )
        return list(rows)


async def conversation_count(settings: Settings, client_id: str) -> int:
    async with db_session(settings) as session:
        total = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.client_id == client_id)
        )
        return int(total or 0)


async def ledger_row(settings: Settings, request_id: str, timeout_s: float = 30.0) -> UsageRecord:
    """The request's ledger row, waiting for the batched writer to flush it."""

    async def row() -> UsageRecord | None:
        async with db_session(settings) as session:
            found: UsageRecord | None = await session.scalar(
                select(UsageRecord).where(UsageRecord.request_id == request_id)
            )
            return found

    return await wait_for(
        row, timeout_s=timeout_s, interval_s=0.05, what=f"the ledger row of {request_id}"
    )


# -- a scripted model, for loop behaviour the simulator never produces -----------------


def said(text: str) -> ChatResult:
    return _result(text, [])


def calls(*tools: tuple[str, dict[str, Any] | str]) -> ChatResult:
    return _result(
        None,
        [
            ToolCall(
                id=f"call_{i}_{name}",
                name=name,
                arguments=args,
                raw_arguments=args if isinstance(args, str) else orjson.dumps(args).decode(),
            )
            for i, (name, args) in enumerate(tools)
        ],
    )


def _result(content: str | None, tool_calls: list[ToolCall]) -> ChatResult:
    return ChatResult(
        content=content,
        tool_calls=tool_calls,
        finish_reason="tool_calls" if tool_calls else "stop",
        model="scripted-model",
        usage=Usage(prompt_tokens=10, completion_tokens=5),
        latency_ms=1.0,
        cost_usd=0.0001,
        price_known=True,
    )


class ScriptedGovernor:
    """Answers each ``ctx.chat`` with the next scripted result and records the request."""

    def __init__(self, settings: Settings, script: list[ChatResult]) -> None:
        self.settings = settings
        self.script = list(script)
        self.requests: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []

    async def chat(
        self, ctx: RequestContext, messages: list[dict[str, Any]], **kwargs: Any
    ) -> ChatResult:
        self.requests.append((list(messages), kwargs))
        result = self.script.pop(0)
        ctx.usage.add(
            model=result.model,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            cost_usd=result.cost_usd,
        )
        return result


def scripted_context(governor: ScriptedGovernor, client_id: str) -> RequestContext:
    client = ClientInfo(
        id=client_id,
        name="scripted",
        key_id="key_scripted",
        scopes=frozenset(),
        rpm_limit=60,
        tpd_limit=100_000,
        monthly_budget_usd=10.0,
    )
    return RequestContext(
        governor=governor,  # type: ignore[arg-type]
        client=client,
        service="agent",
        route="/api/v1/agent/chat",
        request_id="req_scripted0001",
    )


# -- a real server, for streams (httpx's ASGITransport buffers whole responses) ---------


@dataclass
class LiveServer:
    base_url: str
    app: FastAPI


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[LiveServer]:
    """uvicorn serving ``app`` (lifespan run) on an ephemeral port, in this event loop."""
    async with serve_in_background(app, lifespan="on", shutdown_timeout_s=30) as base_url:
        yield LiveServer(base_url, app)


@dataclass
class Arrival:
    event: str
    data: Any
    at: float


async def read_events(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[httpx.Response, list[Arrival]]:
    """POST ``path`` and read its SSE events, each stamped with its arrival time."""
    from httpx_sse import aconnect_sse

    arrivals: list[Arrival] = []
    async with aconnect_sse(client, "POST", path, json=body, headers=headers) as source:
        response = source.response
        async for sse in source.aiter_sse():
            arrivals.append(Arrival(sse.event, orjson.loads(sse.data), time.perf_counter()))
    return response, arrivals
