"""A gateway identity is accepted once: in this process's memory and in Redis."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from ai_platform.governance.replay import (
    MemorySeenIdentities,
    RedisSeenIdentities,
    SeenIdentities,
)


def _store(backend: str, request: pytest.FixtureRequest, key_prefix: str) -> SeenIdentities:
    if backend == "redis":
        url = request.getfixturevalue("redis_url")
        return RedisSeenIdentities.from_url(url, key_prefix=key_prefix)
    return MemorySeenIdentities()


async def test_a_signature_is_accepted_once(
    backend: str, key_prefix: str, request: pytest.FixtureRequest
) -> None:
    store = _store(backend, request, key_prefix)
    expires = time.time() + 30
    try:
        assert await store.first_use("sig-a", expires)
        assert not await store.first_use("sig-a", expires)
        assert not await store.first_use("sig-a", expires + 60)  # a later expiry changes nothing
        assert await store.first_use("sig-b", expires)
    finally:
        await store.aclose()


async def test_memory_forgets_a_signature_once_its_identity_expired() -> None:
    now = [1_000.0]
    store = MemorySeenIdentities(clock=lambda: now[0])
    assert await store.first_use("old", 1_010.0)
    assert await store.first_use("new", 1_100.0)
    assert not await store.first_use("old", 1_010.0)
    now[0] = 1_010.0  # "old" has expired: the verifier refuses it before this point
    assert await store.first_use("other", 1_200.0)
    assert len(store) == 2  # "old" is gone; "new" and "other" are kept
    assert await store.first_use("old", 1_300.0)
    assert not await store.first_use("new", 1_100.0)


async def test_redis_keeps_each_signature_until_its_identity_expires(
    redis_url: str, key_prefix: str
) -> None:
    store = RedisSeenIdentities.from_url(redis_url, key_prefix=key_prefix)
    client = aioredis.Redis.from_url(redis_url)
    try:
        expires = time.time() + 30
        assert await store.first_use("sig-ttl", expires)
        keys = [key async for key in client.scan_iter(match=f"{key_prefix}:*")]
        assert keys == [f"{key_prefix}:identity:sig-ttl".encode()]
        ttl_ms = await client.pttl(keys[0])
        assert 0 < ttl_ms <= 30_001
    finally:
        await client.aclose()
        await store.aclose()


async def test_every_replica_sees_what_another_accepted(redis_url: str, key_prefix: str) -> None:
    one = RedisSeenIdentities.from_url(redis_url, key_prefix=key_prefix)
    two = RedisSeenIdentities.from_url(redis_url, key_prefix=key_prefix)
    try:
        expires = time.time() + 30
        assert await one.first_use("sig-shared", expires)
        assert not await two.first_use("sig-shared", expires)
    finally:
        await one.aclose()
        await two.aclose()
