"""Per-client rate limits on the ``limits`` library: requests per minute, tokens per day.

Storage is in-process memory by default and Redis when ``REDIS_URL`` is set, so the
limits hold across uvicorn workers and hosts.

- Requests per minute use a *moving window*: exactly ``rpm`` requests in any 60 s,
  with no burst at a window edge. Refused hits are not counted.
- Tokens per day use a counter that lives 24 h from its first hit. Before an LLM call
  the worst case (estimated prompt + the call's output ceiling) is taken; after the
  call the counter is corrected to the real usage. A refused reservation is given
  back at once, so a refusal never consumes tokens. (``limits``' own fixed-window
  ``hit`` keeps counting refused hits, which is right for requests and wrong for
  tokens, hence the direct counter.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

LimitName = Literal["requests_per_minute", "tokens_per_day"]

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class LimitState:
    """One limit's state after a hit: the numbers behind the ``X-RateLimit-*`` headers."""

    name: LimitName
    limit: int
    remaining: int
    reset_at: float
    """Epoch seconds when the limit next has room (the moving window's oldest hit
    leaves, or the daily counter expires)."""
    allowed: bool = True

    def reset_in(self, now: float | None = None) -> float:
        return max(0.0, self.reset_at - (time.time() if now is None else now))


class QuietMemoryStorage(MemoryStorage):
    """``limits``' memory storage, sweeping expired entries at most once a second.

    The stock storage starts a sweep task on every hit, and the sweep hands each key's
    entries to a worker thread: a thread round trip per request on the hot path.
    Expired entries never count (the window checks timestamps), so the sweep only
    frees memory, and once a second is plenty for that.
    """

    SWEEP_INTERVAL_S = 1.0
    _last_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.SWEEP_INTERVAL_S:
            return
        self._last_sweep = now
        schedule = getattr(super(), "_MemoryStorage__schedule_expiry")  # noqa: B009
        await schedule()


class RateLimiter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._moving = MovingWindowRateLimiter(storage)
        self._rpm_items: dict[int, RateLimitItem] = {}

    @classmethod
    def memory(cls) -> RateLimiter:
        return cls(QuietMemoryStorage())

    @classmethod
    def redis(cls, url: str, *, key_prefix: str) -> RateLimiter:
        uri = url if url.startswith("async+") else "async+" + url
        return cls(RedisStorage(uri, implementation="redispy", key_prefix=key_prefix))

    @property
    def backend(self) -> str:
        return "redis" if isinstance(self.storage, RedisStorage) else "memory"

    def _rpm_item(self, limit: int) -> RateLimitItem:
        item = self._rpm_items.get(limit)
        if item is None:
            item = self._rpm_items[limit] = RateLimitItemPerMinute(limit, namespace="rpm")
        return item

    async def hit_request(self, client_id: str, limit: int) -> LimitState:
        """Count one request against the client's per-minute limit."""
        item = self._rpm_item(limit)
        allowed = await self._moving.hit(item, client_id)
        stats = await self._moving.get_window_stats(item, client_id)
        return LimitState(
            "requests_per_minute",
            limit,
            max(0, stats.remaining),
            stats.reset_time,
            allowed,
        )

    def _tpd_key(self, client_id: str) -> str:
        return f"tpd/{client_id}"

    async def reserve_tokens(self, client_id: str, limit: int, tokens: int) -> LimitState:
        """Take ``tokens`` from today's allowance, or take nothing and report a refusal."""
        key = self._tpd_key(client_id)
        used = await self.storage.incr(key, DAY_S, amount=tokens)
        allowed = used <= limit
        if not allowed:
            used = await self.storage.incr(key, DAY_S, amount=-tokens)
        reset_at = await self.storage.get_expiry(key)
        return LimitState("tokens_per_day", limit, max(0, limit - used), reset_at, allowed)

    async def adjust_tokens(self, client_id: str, delta: int) -> int:
        """Correct a reservation by ``delta`` (actual minus reserved). Returns tokens used.

        A correction that lands after the counter expired opens the next day with that
        (small, usually negative) offset; the day's allowance is approximate by at most
        one call's estimate error.
        """
        if delta == 0:
            return await self.storage.get(self._tpd_key(client_id))
        return await self.storage.incr(self._tpd_key(client_id), DAY_S, amount=delta)

    async def tokens_used(self, client_id: str) -> int:
        return await self.storage.get(self._tpd_key(client_id))

    async def reset(self) -> None:
        await self.storage.reset()

    async def aclose(self) -> None:
        if isinstance(self.storage, RedisStorage):
            client = getattr(self.storage.bridge, "storage", None)
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()
