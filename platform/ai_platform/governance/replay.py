"""Each signed identity is accepted once: a header read off the wire is refused again.

An identity header (``governance.identity``) stays valid for
``SERVICE_IDENTITY_TTL_S``. Whoever copies one from the traffic between the gateway
and a service could send it again within that time, and the service would do the
work once more: outside the gateway's request limit, and without a ledger row of its
own (the row is keyed by the request id, which the copy repeats). So a service
remembers every signature it has accepted until the identity expires, and refuses a
signature it has seen (401 ``gateway identity already used``). The gateway signs
each call afresh, with a random nonce in the payload, so no legitimate call repeats
one.

With ``REDIS_URL`` set the signatures are kept in Redis (``SET NX`` expiring with the
identity), which every replica of every service shares; without it, in this
process's memory.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Any, Protocol


class SeenIdentities(Protocol):
    async def first_use(self, signature: str, expires_at: float) -> bool:
        """True the first time ``signature`` is offered before ``expires_at``."""
        ...

    async def aclose(self) -> None: ...


class MemorySeenIdentities:
    """The signatures this process accepted, each kept until its identity expires."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._expiries: list[tuple[float, str]] = []  # a heap: the next to expire first

    def __len__(self) -> int:
        return len(self._seen)

    async def first_use(self, signature: str, expires_at: float) -> bool:
        now = self._clock()
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            _, expired = heapq.heappop(expiries)
            del self._seen[expired]
        if signature in self._seen:
            return False
        self._seen[signature] = expires_at
        heapq.heappush(expiries, (expires_at, signature))
        return True

    async def aclose(self) -> None:
        self._seen.clear()
        self._expiries.clear()


class RedisSeenIdentities:
    """The signatures every service process accepted, in Redis."""

    def __init__(self, redis: Any, *, key_prefix: str) -> None:
        self.redis = redis
        self._prefix = f"{key_prefix}:identity:"

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str) -> RedisSeenIdentities:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), key_prefix=key_prefix)

    async def first_use(self, signature: str, expires_at: float) -> bool:
        # Kept a millisecond past the expiry, so the key outlives the identity.
        expiry_ms = int(expires_at * 1000) + 1
        stored = await self.redis.set(self._prefix + signature, b"1", nx=True, pxat=expiry_ms)
        return bool(stored)

    async def aclose(self) -> None:
        await self.redis.aclose()
