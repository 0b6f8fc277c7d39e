"""Requests per minute and tokens per day, on memory and on Redis."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from ai_platform.governance.ratelimit import RateLimiter
from tests.support import REDIS_URL


def make_limiter(backend: str, key_prefix: str) -> RateLimiter:
    if backend == "redis":
        return RateLimiter.redis(REDIS_URL, key_prefix=key_prefix)
    return RateLimiter.memory()


async def test_200_simultaneous_hits_on_rpm_30_admit_exactly_30(
    backend: str, key_prefix: str
) -> None:
    limiter = make_limiter(backend, key_prefix)
    try:
        states = await asyncio.gather(*(limiter.hit_request("cli_a", 30) for _ in range(200)))
        assert sum(s.allowed for s in states) == 30
        refused = [s for s in states if not s.allowed]
        assert all(s.remaining == 0 for s in refused)
        # The window opens again when the oldest hit is 60 s old, not before.
        assert all(30 < s.reset_in() <= 60 for s in refused)
        # Another client is untouched.
        other = await limiter.hit_request("cli_b", 30)
        assert other.allowed and other.remaining == 29
    finally:
        await limiter.aclose()


async def test_remaining_counts_down(backend: str, key_prefix: str) -> None:
    limiter = make_limiter(backend, key_prefix)
    try:
        seen = [(await limiter.hit_request("cli_c", 3)).remaining for _ in range(4)]
        assert seen == [2, 1, 0, 0]
    finally:
        await limiter.aclose()


async def test_refused_token_reservation_consumes_nothing(backend: str, key_prefix: str) -> None:
    limiter = make_limiter(backend, key_prefix)
    try:
        first = await limiter.reserve_tokens("cli_t", 1000, 600)
        assert first.allowed and first.remaining == 400
        second = await limiter.reserve_tokens("cli_t", 1000, 600)
        assert not second.allowed
        assert second.remaining == 400
        assert await limiter.tokens_used("cli_t") == 600
        # Settled to the real usage: 600 reserved, 150 used.
        assert await limiter.adjust_tokens("cli_t", 150 - 600) == 150
        third = await limiter.reserve_tokens("cli_t", 1000, 600)
        assert third.allowed and third.remaining == 250
        assert 86_000 < third.reset_in() <= 86_400
    finally:
        await limiter.aclose()


async def test_concurrent_token_reservations_never_exceed_the_day(
    backend: str, key_prefix: str
) -> None:
    limiter = make_limiter(backend, key_prefix)
    try:
        states = await asyncio.gather(
            *(limiter.reserve_tokens("cli_u", 10_000, 700) for _ in range(100))
        )
        assert sum(s.allowed for s in states) == 14
        assert await limiter.tokens_used("cli_u") == 14 * 700
    finally:
        await limiter.aclose()


@pytest.mark.redis
async def test_redis_keys_live_under_the_prefix(redis_url: str, key_prefix: str) -> None:
    limiter = RateLimiter.redis(redis_url, key_prefix=key_prefix)
    client = aioredis.Redis.from_url(redis_url)
    try:
        await limiter.hit_request("cli_k", 5)
        await limiter.reserve_tokens("cli_k", 100, 10)
        keys = sorted([k.decode() async for k in client.scan_iter(match=f"{key_prefix}*")])
        assert len(keys) == 2
        assert all("cli_k" in k for k in keys)
        ttl = await client.ttl(next(k for k in keys if "tpd" in k))
        assert 86_000 < ttl <= 86_400
    finally:
        await limiter.aclose()
        await client.aclose()


@pytest.mark.redis
async def test_two_limiters_share_one_redis_count(redis_url: str, key_prefix: str) -> None:
    # Two limiters stand for two workers: the limit holds across them.
    a = RateLimiter.redis(redis_url, key_prefix=key_prefix)
    b = RateLimiter.redis(redis_url, key_prefix=key_prefix)
    try:
        states = await asyncio.gather(
            *(x.hit_request("cli_s", 30) for _ in range(100) for x in (a, b))
        )
        assert sum(s.allowed for s in states) == 30
    finally:
        await a.aclose()
        await b.aclose()


def test_reset_in_is_never_negative() -> None:
    from ai_platform.governance.ratelimit import LimitState

    past = LimitState("requests_per_minute", 10, 10, time.time() - 5)
    assert past.reset_in() == 0.0
