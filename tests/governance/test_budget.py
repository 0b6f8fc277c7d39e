"""Budget reservation: atomic under concurrency, settled, released, seeded from the ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from ai_platform.core.errors import BudgetExceededError
from ai_platform.governance.budget import (
    Budget,
    MemoryBudget,
    RedisBudget,
    Reservation,
    month_start,
    to_units,
)
from ai_platform.harness.waiting import wait_for
from tests.support import REDIS_URL


class Ledger:
    """The spend loader: what the ledger says a client spent this month."""

    def __init__(self, spent: float = 0.0) -> None:
        self.spent = spent
        self.calls: list[tuple[str, datetime]] = []

    async def __call__(self, client_id: str, since: datetime) -> float:
        self.calls.append((client_id, since))
        await asyncio.sleep(0.01)  # a real query takes time: concurrent first uses overlap
        return self.spent


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_budget(
    backend: str, key_prefix: str, ledger: Ledger, clock: Clock | None = None, **kw: float
) -> Budget:
    clock = clock or Clock(datetime.now(UTC))
    if backend == "redis":
        return RedisBudget(
            aioredis.Redis.from_url(REDIS_URL), ledger, key_prefix=key_prefix, clock=clock, **kw
        )
    return MemoryBudget(ledger, clock=clock)


async def test_200_simultaneous_reservations_hold_at_most_the_budget(
    backend: str, key_prefix: str
) -> None:
    ledger = Ledger()
    budget = make_budget(backend, key_prefix, ledger)
    worst_case = 0.05  # the budget covers exactly 20 of these

    async def call() -> Reservation | BudgetExceededError:
        try:
            return await budget.reserve("cli_a", 1.0, worst_case)
        except BudgetExceededError as exc:
            return exc

    try:
        outcomes = await asyncio.gather(*(call() for _ in range(200)))
        held = [o for o in outcomes if isinstance(o, Reservation)]
        refused = [o for o in outcomes if isinstance(o, BudgetExceededError)]
        assert len(held) == 20 and len(refused) == 180
        status = await budget.status("cli_a", 1.0)
        assert status.reserved_usd == pytest.approx(1.0)
        assert status.remaining_usd == 0
        details = refused[0].details
        assert details["budget"] == "monthly_usd"
        assert details["budget_usd"] == 1.0
        assert details["requested_usd"] == worst_case
        assert details["spent_usd"] + details["reserved_usd"] + worst_case > 1.0
        # Settling to the real (smaller) cost frees the difference.
        await asyncio.gather(*(budget.settle(r, 0.01) for r in held))
        status = await budget.status("cli_a", 1.0)
        assert status.spent_usd == pytest.approx(0.2)
        assert status.reserved_usd == 0
        # The ledger was read once, however many requests arrived together.
        assert len(ledger.calls) == 1
    finally:
        await budget.aclose()


async def test_release_gives_everything_back_and_settle_is_idempotent(
    backend: str, key_prefix: str
) -> None:
    budget = make_budget(backend, key_prefix, Ledger())
    try:
        r = await budget.reserve("cli_b", 1.0, 0.6)
        with pytest.raises(BudgetExceededError):
            await budget.reserve("cli_b", 1.0, 0.6)
        await budget.settle(r, 0.0)
        await budget.settle(r, 0.5)  # a second settle of the same hold changes nothing
        status = await budget.status("cli_b", 1.0)
        assert status.spent_usd == 0 and status.reserved_usd == 0
        await budget.reserve("cli_b", 1.0, 0.6)
    finally:
        await budget.aclose()


async def test_a_restart_remembers_spend_from_the_ledger(backend: str, key_prefix: str) -> None:
    now = datetime(2026, 3, 17, 12, tzinfo=UTC)
    ledger = Ledger(spent=0.9)
    budget = make_budget(backend, key_prefix, ledger, Clock(now))
    try:
        with pytest.raises(BudgetExceededError) as info:
            await budget.reserve("cli_c", 1.0, 0.2)
        assert info.value.details["spent_usd"] == pytest.approx(0.9)
        assert ledger.calls == [("cli_c", month_start(now))]
        await budget.reserve("cli_c", 1.0, 0.1)
    finally:
        await budget.aclose()


async def test_a_new_month_starts_from_that_months_ledger(backend: str, key_prefix: str) -> None:
    clock = Clock(datetime(2026, 1, 31, 23, 59, tzinfo=UTC))
    ledger = Ledger(spent=0.0)
    budget = make_budget(backend, key_prefix, ledger, clock)
    try:
        r = await budget.reserve("cli_d", 1.0, 0.9)
        await budget.settle(r, 0.9)
        with pytest.raises(BudgetExceededError):
            await budget.reserve("cli_d", 1.0, 0.2)
        clock.now = datetime(2026, 2, 1, 0, 1, tzinfo=UTC)
        fresh = await budget.reserve("cli_d", 1.0, 0.9)
        assert fresh.month == "2026-02"
        assert ledger.calls[-1] == ("cli_d", datetime(2026, 2, 1, tzinfo=UTC))
        # A January call settling late does not count against February.
        await budget.settle(r, 0.9)
        status = await budget.status("cli_d", 1.0)
        assert status.month == "2026-02" and status.spent_usd == 0
    finally:
        await budget.aclose()


@pytest.mark.redis
async def test_two_redis_budgets_share_one_account(redis_url: str, key_prefix: str) -> None:
    ledger = Ledger()
    a = make_budget("redis", key_prefix, ledger)
    b = make_budget("redis", key_prefix, ledger)

    async def call(budget: Budget) -> bool:
        try:
            r = await budget.reserve("cli_e", 2.0, 0.1)
        except BudgetExceededError:
            return False
        await asyncio.sleep(0.001)
        await budget.settle(r, 0.1)
        return True

    try:
        admitted = await asyncio.gather(*(call(x) for _ in range(100) for x in (a, b)))
        assert sum(admitted) == 20
        status = await a.status("cli_e", 2.0)
        assert status.spent_usd == pytest.approx(2.0)
        assert status.reserved_usd == 0
    finally:
        await a.aclose()
        await b.aclose()


@pytest.mark.redis
async def test_a_dead_workers_reservation_lapses_within_its_lease(
    redis_url: str, key_prefix: str
) -> None:
    # Long enough that the refusal below cannot race the lapse on a busy machine.
    dead = make_budget("redis", key_prefix, Ledger(), reservation_ttl_s=2.0)
    alive = make_budget("redis", key_prefix, Ledger(), reservation_ttl_s=2.0)
    try:
        await dead.reserve("cli_f", 1.0, 1.0)  # never settled, and no longer renewed:
        assert isinstance(dead, RedisBudget)
        assert dead._heartbeat is not None
        dead._heartbeat.cancel()  # its worker "died"
        with pytest.raises(BudgetExceededError):
            await alive.reserve("cli_f", 1.0, 0.5)

        async def admitted() -> Reservation | None:
            try:
                return await alive.reserve("cli_f", 1.0, 0.5)
            except BudgetExceededError:
                return None

        await wait_for(admitted, timeout_s=30, interval_s=0.1, what="the dead reservation lapsing")
        status = await alive.status("cli_f", 1.0)
        assert status.reserved_usd == pytest.approx(0.5)
    finally:
        await dead.aclose()
        await alive.aclose()


@pytest.mark.redis
async def test_a_live_reservation_is_renewed_past_its_lease(
    redis_url: str, key_prefix: str
) -> None:
    # Renewed every 0.5 s: a loop stalled for over a second on a busy machine is needed
    # to let it lapse.
    budget = make_budget("redis", key_prefix, Ledger(), reservation_ttl_s=1.5)
    try:
        held = await budget.reserve("cli_g", 1.0, 1.0)  # a long stream, say
        # Time passing is the subject here: three lease lengths, renewed all along.
        await asyncio.sleep(4.5)
        with pytest.raises(BudgetExceededError):
            await budget.reserve("cli_g", 1.0, 0.5)
        await budget.settle(held, 0.25)
        status = await budget.status("cli_g", 1.0)
        assert (status.spent_usd, status.reserved_usd) == (pytest.approx(0.25), 0)
    finally:
        await budget.aclose()


@pytest.mark.redis
async def test_redis_counts_exact_units(redis_url: str, key_prefix: str) -> None:
    budget = make_budget("redis", key_prefix, Ledger(spent=0.0000001234))
    assert isinstance(budget, RedisBudget)
    try:
        r = await budget.reserve("cli_g", 50_000.0, 0.0000000015)
        await budget.settle(r, 0.0000000015)
        spent = await budget.redis.hget(budget.keys("cli_g", r.month)[0], "spent")
        assert int(spent) == to_units(0.0000001234) + 15
    finally:
        await budget.aclose()
