"""Monthly budgets per client: reserve the worst case, settle to the actual cost.

"Check, then record" overshoots under concurrency: a hundred requests all see room
for one more and all go ahead. Here each LLM call first *reserves* its worst-case
cost in one atomic step (spent + reserved + this <= budget, or refuse), and when the
call ends the reservation is settled to the real cost or released.

Two backends, one contract:

- ``MemoryBudget``: per process, atomic because nothing awaits between the check and
  the update. Correct for one worker.
- ``RedisBudget``: Lua scripts, atomic across every worker and host. Reservations
  are leases: each carries a deadline a few seconds ahead, which the process that
  holds it renews every ``LEASE_TTL_S / 3`` while the call runs (however long a
  stream lasts). A worker that dies stops renewing, and its holds lapse within
  ``LEASE_TTL_S``: the next reservation for that client frees them.

Neither forgets spend on restart: the first use of a client in a month starts from
``SUM(cost_usd)`` of the ledger for that month (Redis only when its key is missing).
Money is counted in integer units of 1e-10 USD (the ledger's precision), so sums are
exact; Redis scripts handle up to 2^53 units (about USD 900,000 per client-month).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ai_platform.core.errors import BudgetExceededError

logger = logging.getLogger("ai_platform.governance")

UNITS_PER_USD = 10_000_000_000
SETTLED_MARKER_S = 86_400
"""How long Redis remembers that a reservation was charged: a replay of a dead
process's ledger log within this time never charges a call twice."""
LEASE_TTL_S = 6.0
"""How long an unsettled reservation outlives the last renewal by its process."""

SpendLoader = Callable[[str, datetime], Awaitable[float]]
"""(client_id, month_start) -> USD spent by the client since month_start (the ledger)."""

Clock = Callable[[], datetime]


def to_units(usd: float) -> int:
    return round(usd * UNITS_PER_USD)


def to_usd(units: int) -> float:
    return units / UNITS_PER_USD


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def month_key(now: datetime) -> str:
    return f"{now.year:04d}-{now.month:02d}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Reservation:
    """Budget held for one LLM call until it is settled or released."""

    id: str
    client_id: str
    month: str
    units: int
    open: bool = True

    @property
    def amount_usd(self) -> float:
        return to_usd(self.units)


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    client_id: str
    month: str
    limit_usd: float
    spent_usd: float
    reserved_usd: float

    @property
    def remaining_usd(self) -> float:
        return max(0.0, self.limit_usd - self.spent_usd - self.reserved_usd)


def exceeded(
    client_id: str, month: str, limit_units: int, spent: int, reserved: int, units: int
) -> BudgetExceededError:
    exc = BudgetExceededError(client_id, to_usd(limit_units), to_usd(spent), to_usd(units))
    # The stock message rounds the budget to cents; small budgets need the digits.
    exc.message = (
        f"monthly budget of ${_money(to_usd(limit_units))} exceeded: spent "
        f"${_money(to_usd(spent))}, ${_money(to_usd(reserved))} held by calls in flight, "
        f"this call needs up to ${_money(to_usd(units))}"
    )
    exc.args = (exc.message,)
    details: dict[str, Any] = exc.details
    details.update(
        budget="monthly_usd",
        month=month,
        reserved_usd=round(to_usd(reserved), 8),
        remaining_usd=round(max(0.0, to_usd(limit_units - spent - reserved)), 8),
    )
    return exc


def _money(usd: float) -> str:
    return f"{usd:.6f}".rstrip("0").rstrip(".")


class Budget(Protocol):
    backend: str

    async def reserve(self, client_id: str, limit_usd: float, amount_usd: float) -> Reservation:
        """Hold ``amount_usd`` or raise ``BudgetExceededError``."""
        ...

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace the hold with the actual cost (0 releases it)."""
        ...

    async def settle_replayed(
        self, client_id: str, month: str, reservation_id: str, actual_usd: float
    ) -> None:
        """Charge a call whose process died while settling it, unless it was charged."""
        ...

    async def status(self, client_id: str, limit_usd: float) -> BudgetStatus: ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _Account:
    month: str
    spent: int
    reserved: int = 0


@dataclass
class MemoryBudget:
    """Per-process budget counters, safe under asyncio concurrency."""

    load_spent: SpendLoader
    clock: Clock = _utcnow
    backend: str = "memory"
    _accounts: dict[str, _Account] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def _account(self, client_id: str) -> _Account:
        now = self.clock()
        month = month_key(now)
        account = self._accounts.get(client_id)
        if account is not None and account.month == month:
            return account
        lock = self._locks.setdefault(client_id, asyncio.Lock())
        async with lock:
            account = self._accounts.get(client_id)
            if account is None or account.month != month:
                spent = await self.load_spent(client_id, month_start(now))
                account = self._accounts[client_id] = _Account(month, to_units(spent))
        return account

    async def reserve(self, client_id: str, limit_usd: float, amount_usd: float) -> Reservation:
        account = await self._account(client_id)
        # No await from here to the update: the check and the hold are one step.
        units = to_units(amount_usd)
        limit = to_units(limit_usd)
        if account.spent + account.reserved + units > limit:
            raise exceeded(client_id, account.month, limit, account.spent, account.reserved, units)
        account.reserved += units
        return Reservation(uuid.uuid4().hex, client_id, account.month, units)

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        if not reservation.open:
            return
        reservation.open = False
        account = self._accounts.get(reservation.client_id)
        if account is None or account.month != reservation.month:
            return  # the month rolled over: the old month's counters are gone
        account.reserved -= reservation.units
        account.spent += to_units(actual_usd)

    async def settle_replayed(
        self, client_id: str, month: str, reservation_id: str, actual_usd: float
    ) -> None:
        # Counters in memory died with the process; this one reloads from the ledger,
        # which the replay has just completed.
        return None

    async def status(self, client_id: str, limit_usd: float) -> BudgetStatus:
        account = await self._account(client_id)
        return BudgetStatus(
            client_id, account.month, limit_usd, to_usd(account.spent), to_usd(account.reserved)
        )

    async def aclose(self) -> None:
        return None


# KEYS: 1 account hash {spent, reserved}, 2 reservation deadlines (zset), 3 reservation units
_RESERVE = """
if redis.call('HEXISTS', KEYS[1], 'spent') == 0 then
  return {-1, 0, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if #stale > 0 then
  local freed = 0
  for _, id in ipairs(stale) do
    freed = freed + (tonumber(redis.call('HGET', KEYS[3], id)) or 0)
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  redis.call('HINCRBY', KEYS[1], 'reserved', string.format('%d', -freed))
end
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent'))
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local units = tonumber(ARGV[1])
if spent + reserved + units > tonumber(ARGV[2]) then
  return {0, string.format('%d', spent), string.format('%d', reserved)}
end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[1])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return {1, string.format('%d', spent), string.format('%d', reserved + units)}
"""

# KEYS: 1 account, 2 deadlines, 3 held, 4 this reservation's "settled" marker
# ARGV: 1 reservation id, 2 actual units, 3 marker lifetime (s)
# Idempotent: a reservation is charged once, whether settled by its call or replayed
# from the ledger's log after its process died mid-settle.
_SETTLE = """
if redis.call('EXISTS', KEYS[4]) == 1 then
  return 0
end
local held = redis.call('HGET', KEYS[3], ARGV[1])
if held then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'reserved', string.format('%d', -tonumber(held)))
end
if redis.call('HEXISTS', KEYS[1], 'spent') == 1 and tonumber(ARGV[2]) ~= 0 then
  redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
end
redis.call('SET', KEYS[4], 1, 'EX', ARGV[3])
return 1
"""

# KEYS: 1 reservation deadlines (zset); ARGV: 1 lease ms, 2.. reservation ids still held
_RENEW = """
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i])
end
return 1
"""

# Seed a month's account from the ledger once; the first worker to get here wins.
_INIT = """
if redis.call('HSETNX', KEYS[1], 'spent', ARGV[1]) == 1 then
  redis.call('HSETNX', KEYS[1], 'reserved', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class RedisBudget:
    """Budget counters in Redis, updated only by Lua scripts (atomic across workers)."""

    backend = "redis"

    def __init__(
        self,
        redis: Any,
        load_spent: SpendLoader,
        *,
        key_prefix: str,
        clock: Clock = _utcnow,
        reservation_ttl_s: float = LEASE_TTL_S,
    ) -> None:
        self.redis = redis
        self.load_spent = load_spent
        self.prefix = key_prefix
        self.clock = clock
        self.reservation_ttl_s = reservation_ttl_s
        self.reservation_ttl_ms = int(reservation_ttl_s * 1000)
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)
        self._renew = redis.register_script(_RENEW)
        self._init = redis.register_script(_INIT)
        self._seeding: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, dict[str, None]] = {}
        """deadlines key -> reservation ids this process holds (renewed by the heartbeat)"""
        self._heartbeat: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str, load_spent: SpendLoader, *, key_prefix: str) -> RedisBudget:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), load_spent, key_prefix=key_prefix)

    def keys(self, client_id: str, month: str) -> list[str]:
        # One hash tag per client-month keeps the three keys on one cluster slot.
        base = f"{self.prefix}:budget:{{{client_id}:{month}}}"
        return [base, base + ":deadlines", base + ":held"]

    @staticmethod
    def _key_ttl_s(now: datetime) -> int:
        # Keep a month's counters for ~40 days past its start: long enough to
        # settle late calls, short enough to clean themselves up.
        end = month_start(now).timestamp() + 40 * 86_400
        return max(60, int(end - now.timestamp()))

    async def _seed(self, client_id: str, now: datetime, keys: list[str]) -> None:
        # One ledger query per process however many requests find the account
        # missing at once; across processes the script lets the first seed win.
        task = self._seeding.get(keys[0])
        if task is None:
            # A caller that found the account missing just before another's seed landed
            # (and left ``_seeding``) must not read the ledger a second time.
            if await self.redis.hexists(keys[0], "spent"):
                return
            task = self._seeding.get(keys[0])
        if task is None:
            task = asyncio.create_task(self._seed_once(client_id, now, keys))
            self._seeding[keys[0]] = task
            task.add_done_callback(lambda _: self._seeding.pop(keys[0], None))
        await asyncio.shield(task)

    async def _seed_once(self, client_id: str, now: datetime, keys: list[str]) -> None:
        spent = await self.load_spent(client_id, month_start(now))
        await self._init(keys=keys, args=[to_units(spent), self._key_ttl_s(now)])

    async def reserve(self, client_id: str, limit_usd: float, amount_usd: float) -> Reservation:
        now = self.clock()
        month = month_key(now)
        keys = self.keys(client_id, month)
        units = to_units(amount_usd)
        limit = to_units(limit_usd)
        rid = uuid.uuid4().hex
        args = [units, limit, rid, self.reservation_ttl_ms, self._key_ttl_s(now)]
        for _ in range(2):
            verdict, spent, reserved = await self._reserve(keys=keys, args=args)
            if int(verdict) == -1:
                await self._seed(client_id, now, keys)
                continue
            if int(verdict) == 0:
                raise exceeded(client_id, month, limit, int(spent), int(reserved), units)
            self._held.setdefault(keys[1], {})[rid] = None
            self._ensure_heartbeat()
            return Reservation(rid, client_id, month, units)
        raise RuntimeError("budget account could not be initialised in Redis")

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._renew_leases(), name="budget-leases")

    async def _renew_leases(self) -> None:
        interval = self.reservation_ttl_s / 3
        while self._held:
            await asyncio.sleep(interval)
            for deadlines, ids in list(self._held.items()):
                if not ids:
                    self._held.pop(deadlines, None)
                    continue
                try:
                    await self._renew(keys=[deadlines], args=[self.reservation_ttl_ms, *ids])
                except Exception:
                    # A missed renewal only shortens the lease; the next one may succeed.
                    logger.warning("renewing budget leases failed", exc_info=True)

    def _release_lease(self, reservation: Reservation) -> None:
        deadlines = self.keys(reservation.client_id, reservation.month)[1]
        ids = self._held.get(deadlines)
        if ids is not None:
            ids.pop(reservation.id, None)
            if not ids:
                del self._held[deadlines]

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        if not reservation.open:
            return
        reservation.open = False
        self._release_lease(reservation)
        await self._settle_units(
            reservation.client_id, reservation.month, reservation.id, to_units(actual_usd)
        )

    async def settle_replayed(
        self, client_id: str, month: str, reservation_id: str, actual_usd: float
    ) -> None:
        await self._settle_units(client_id, month, reservation_id, to_units(actual_usd))

    async def _settle_units(self, client_id: str, month: str, rid: str, units: int) -> None:
        keys = self.keys(client_id, month)
        marker = f"{keys[0]}:settled:{rid}"
        await self._settle(keys=[*keys, marker], args=[rid, units, SETTLED_MARKER_S])

    async def status(self, client_id: str, limit_usd: float) -> BudgetStatus:
        now = self.clock()
        month = month_key(now)
        keys = self.keys(client_id, month)
        spent, reserved = await self.redis.hmget(keys[0], ["spent", "reserved"])
        if spent is None:
            await self._seed(client_id, now, keys)
            spent, reserved = await self.redis.hmget(keys[0], ["spent", "reserved"])
        return BudgetStatus(
            client_id, month, limit_usd, to_usd(int(spent or 0)), to_usd(int(reserved or 0))
        )

    async def aclose(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await self.redis.aclose()
