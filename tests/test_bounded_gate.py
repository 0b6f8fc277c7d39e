"""``core.limits.WorkGate``: slots, a weighted budget, first come first served,
refusal of what can never fit, and a bounded wait."""

from __future__ import annotations

import asyncio

import pytest

from ai_platform.core.limits import ExceedsCapacity, Overloaded, WorkGate
from ai_platform.harness.waiting import wait_for


def gate(concurrency: int = 10, capacity: int = 100, wait_s: float = 30.0) -> WorkGate:
    return WorkGate("jobs", concurrency=concurrency, capacity=capacity, wait_s=wait_s)


async def test_admits_within_slots_and_budget_and_releases() -> None:
    g = gate(concurrency=2, capacity=100)
    async with g.admit(60):
        assert (g.active, g.in_flight) == (1, 60)
        async with g.admit(40):
            assert (g.active, g.in_flight) == (2, 100)
    assert (g.active, g.in_flight, g.peak_active, g.peak_in_flight) == (0, 0, 2, 100)


async def test_heavier_than_the_whole_budget_is_refused_at_once() -> None:
    g = gate(capacity=100)
    with pytest.raises(ExceedsCapacity) as caught:
        await g.acquire(101)
    assert (caught.value.weight, caught.value.capacity) == (101, 100)
    assert (g.active, g.waiting) == (0, 0)


async def test_waiters_are_served_first_come_first_served() -> None:
    g = gate(concurrency=10, capacity=100)
    order: list[str] = []
    await g.acquire(90)

    async def job(name: str, weight: int) -> None:
        async with g.admit(weight):
            order.append(name)

    # "big" waits for 50; "small" would fit now (10 free) but must not jump the queue.
    big = asyncio.create_task(job("big", 50))
    await wait_for(lambda: g.waiting == 1)
    small = asyncio.create_task(job("small", 10))
    await wait_for(lambda: g.waiting == 2)
    assert order == []
    g.release(90)
    await asyncio.gather(big, small)
    assert order == ["big", "small"]


async def test_a_slow_wait_is_overloaded_and_leaves_nothing_behind() -> None:
    g = gate(concurrency=1, capacity=100, wait_s=0.01)
    await g.acquire(1)
    with pytest.raises(Overloaded) as caught:
        await g.acquire(1)
    assert caught.value.status_code == 503 and caught.value.error_code == "server_busy"
    assert int(caught.value.headers["Retry-After"]) >= 1
    assert (g.active, g.waiting, g.refused_busy) == (1, 0, 1)
    g.release(1)
    async with g.admit(1):
        assert g.active == 1


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    g = gate(concurrency=10, capacity=10)
    await g.acquire(10)
    waiting = asyncio.create_task(g.acquire(5))
    await wait_for(lambda: g.waiting == 1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert g.waiting == 0
    g.release(10)
    assert (g.active, g.in_flight) == (0, 0)
    async with g.admit(10):
        assert g.in_flight == 10


async def test_a_removed_head_wakes_the_waiters_behind_it() -> None:
    g = gate(concurrency=10, capacity=10)
    await g.acquire(6)
    head = asyncio.create_task(g.acquire(10))  # cannot start until everything is free
    await wait_for(lambda: g.waiting == 1)
    behind = asyncio.create_task(g.acquire(4))  # fits, but queued behind the head
    await wait_for(lambda: g.waiting == 2)
    head.cancel()
    await behind  # admitted as soon as the head gave up
    assert (g.active, g.in_flight) == (2, 10)
    with pytest.raises(asyncio.CancelledError):
        await head
