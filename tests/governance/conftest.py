"""Governance fixtures: a real Redis with a key prefix unique to the test run.

Redis tests use the server at 127.0.0.1:6379; unreachable, they are skipped with
the reason (failed when ``CI`` is set), like the PostgreSQL tests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.conftest import _unavailable
from tests.support import REDIS_URL

RUN_PREFIX = f"aiptest-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def redis_url() -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        await client.aclose()
        _unavailable("Redis at 127.0.0.1:6379", exc)
        raise
    yield REDIS_URL
    # Leave nothing behind: every key this run made starts with RUN_PREFIX.
    async for key in client.scan_iter(match=f"{RUN_PREFIX}*", count=1000):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
def key_prefix() -> str:
    """A prefix unique to this test (and under the run's prefix, for the cleanup)."""
    return f"{RUN_PREFIX}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on the in-process backend and once on Redis."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return str(request.param)
