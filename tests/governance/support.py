"""Helpers for the governance tests: the governed probe app, ledger reads, budget math."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from benchmarks.governed_app import BenchSettings, create
from fastapi import FastAPI
from sqlalchemy import select
from starlette.types import ASGIApp, Receive, Scope, Send

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import UsageRecord
from ai_platform.governance.governor import Governor
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.tokens import estimate_messages_tokens
from ai_platform.services.research.runner import stop_runner
from tests.support import REDIS_URL, make_settings

MESSAGE = "How do I make my Python web service faster under load?"
MAX_TOKENS = 64


def governed_settings(
    database_url: str, tmp: Path, *, backend: str = "memory", key_prefix: str = "aip", **kw: Any
) -> BenchSettings:
    base = make_settings(database_url, tmp, **kw).model_dump()
    base.update(redis_url=REDIS_URL if backend == "redis" else None, redis_key_prefix=key_prefix)
    return BenchSettings(_env_file=None, **base)  # type: ignore[call-arg]


def worst_case_usd(message: str = MESSAGE, max_tokens: int = MAX_TOKENS) -> float:
    """What the governor reserves for one probe call."""
    prompt = estimate_messages_tokens([{"role": "user", "content": message}])
    return PriceTable.load().max_cost_usd("gpt-4o-mini", prompt, max_tokens)


def governor_of(app: FastAPI) -> Governor:
    governor = app.state.platform.governor
    assert isinstance(governor, Governor)
    return governor


def per_request_state(app: ASGIApp) -> ASGIApp:
    """Each HTTP request gets its own shallow copy of the lifespan state, as under uvicorn."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "state" in scope:
            scope = {**scope, "state": dict(scope["state"])}
        await app(scope, receive, send)

    return wrapper


@asynccontextmanager
async def probe_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The probe app with its lifespan run, behind an in-process httpx client.

    asgi-lifespan sets the *same* state dict on every request's scope, so the copy
    has to happen inside its wrapper (between it and the app), where uvicorn makes it.

    The research runner that ``create_app`` starts is stopped: these tests are not
    about research, and a runner claiming a job from the shared database would make
    LLM calls through this app's simulator and governor, using up the faults a test
    injects and adding to the counts it checks.
    """
    app = create(settings)
    async with LifespanManager(
        per_request_state(app), startup_timeout=30, shutdown_timeout=30
    ) as manager:
        await stop_runner(app.state.platform)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


@dataclass
class Row:
    request_id: str
    status_code: int
    outcome: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    model: str | None
    route: str
    flagged: bool
    correlation_id: str | None = None


async def ledger_rows(settings: Settings, client_id: str) -> list[Row]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            records = (
                await session.scalars(select(UsageRecord).where(UsageRecord.client_id == client_id))
            ).all()
    finally:
        await engine.dispose()
    return [
        Row(
            r.request_id,
            r.status_code,
            r.outcome,
            r.prompt_tokens,
            r.completion_tokens,
            Decimal(r.cost_usd),
            r.model,
            r.route,
            r.flagged,
            r.correlation_id,
        )
        for r in records
    ]


async def post_many(
    client: httpx.AsyncClient, n: int, headers: dict[str, str], path: str = "/bench/chat"
) -> list[httpx.Response]:
    body = {"message": MESSAGE, "max_tokens": MAX_TOKENS}
    return list(
        await asyncio.gather(*(client.post(path, json=body, headers=headers) for _ in range(n)))
    )
