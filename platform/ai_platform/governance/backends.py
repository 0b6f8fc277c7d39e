"""Governance backends chosen by settings: the composition root builds the Governor here.

With ``REDIS_URL`` set, request limits, token limits, budgets and the gateway
identities a service has accepted live in Redis, shared by every worker, pod and
service process; without it they are this process's memory.

A service process behind the gateway gets a request limiter that counts nothing: the
gateway has already counted the request against the per-minute limit, and counting
it again on the shared store would halve every client's limit. Token limits and
budgets are still applied there, where the LLM calls are made.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.governance.budget import Budget, MemoryBudget, RedisBudget
from ai_platform.governance.governor import Governor
from ai_platform.governance.ledger import spent_since
from ai_platform.governance.ratelimit import LimitState, RateLimiter
from ai_platform.governance.replay import (
    MemorySeenIdentities,
    RedisSeenIdentities,
    SeenIdentities,
)

if TYPE_CHECKING:
    from ai_platform.governance.screening import InjectionDetector
    from ai_platform.llm.client import LLMClient
    from ai_platform.llm.pricing import PriceTable


class GatewayCountedLimiter(RateLimiter):
    """Token limits as usual; the request limit was applied by the gateway."""

    async def hit_request(self, client_id: str, limit: int) -> LimitState:
        return LimitState("requests_per_minute", limit, limit, 0.0, True)


def build_limiter(settings: Settings, *, count_requests: bool = True) -> RateLimiter:
    cls = RateLimiter if count_requests else GatewayCountedLimiter
    if settings.redis_url:
        return cls.redis(settings.redis_url, key_prefix=f"{settings.redis_key_prefix}:limits")
    return cls.memory()


def build_seen_identities(settings: Settings) -> SeenIdentities:
    """Where a service process remembers the identities it accepted (``replay``)."""
    if settings.redis_url:
        prefix = settings.redis_key_prefix
        return RedisSeenIdentities.from_url(settings.redis_url, key_prefix=prefix)
    return MemorySeenIdentities()


def build_budget(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Budget:
    async def ledger_spend(client_id: str, since: datetime) -> float:
        return await spent_since(sessionmaker, client_id, since)

    if settings.redis_url:
        return RedisBudget.from_url(
            settings.redis_url, ledger_spend, key_prefix=settings.redis_key_prefix
        )
    return MemoryBudget(ledger_spend)


def build_governor(
    settings: Settings,
    llm: LLMClient,
    prices: PriceTable,
    detector: InjectionDetector,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    count_requests: bool = True,
) -> Governor:
    """The process's Governor with the backends its settings and shape call for."""
    return Governor(
        settings,
        llm,
        prices,
        detector,
        sessionmaker=sessionmaker,
        limiter=build_limiter(settings, count_requests=count_requests),
        budget=build_budget(settings, sessionmaker),
        key_prefix=settings.redis_key_prefix,
    )
