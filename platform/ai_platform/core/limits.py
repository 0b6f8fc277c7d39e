"""Bounded work: at most N jobs at once, and at most W units of weight in flight.

A ``WorkGate`` admits a job of some weight (an image's pixels, one PDF) when a slot is
free *and* the weight fits in what is left of the budget. Waiters are served strictly
first come, first served, so a large job is never starved by a stream of small ones.
A job heavier than the whole budget can never be admitted: ``admit`` refuses it at
once (``ExceedsCapacity``) instead of queueing it forever. A job that waits longer
than ``wait_s`` is refused with ``Overloaded`` (503, ``Retry-After``): under a burst
the process sheds load instead of holding ever more uploads in memory.

The gate lives on one event loop (one per worker process); the work it guards runs in
threads or child processes, and is released only when that work has really ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from ai_platform.core.errors import ServiceUnavailableError


class Overloaded(ServiceUnavailableError):
    """The work could not start in time: every slot or the whole budget is in use."""

    error_code = "server_busy"
    description = "Too many uploads are being processed; retry later"

    def __init__(self, what: str, *, waited_s: float, retry_after_s: float) -> None:
        super().__init__(
            f"too many {what} at once: waited {waited_s:g} s for capacity; retry later",
            details={"resource": what, "waited_s": waited_s},
            headers={"Retry-After": str(max(1, math.ceil(retry_after_s)))},
        )


class ExceedsCapacity(ValueError):
    """A job heavier than the gate's whole budget: it could never be admitted."""

    def __init__(self, weight: int, capacity: int) -> None:
        super().__init__(f"weight {weight} exceeds the capacity {capacity}")
        self.weight = weight
        self.capacity = capacity


@dataclass
class _Waiter:
    weight: int
    future: asyncio.Future[None]


@dataclass
class WorkGate:
    """``concurrency`` jobs at once, ``capacity`` units of weight in flight."""

    what: str
    concurrency: int
    capacity: int
    wait_s: float
    active: int = 0
    in_flight: int = 0
    peak_active: int = 0
    peak_in_flight: int = 0
    refused_busy: int = 0
    _waiters: deque[_Waiter] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.capacity < 1 or self.wait_s < 0:
            raise ValueError("concurrency and capacity must be >= 1, wait_s >= 0")

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.future.done())

    @asynccontextmanager
    async def admit(self, weight: int = 1) -> AsyncIterator[None]:
        """Hold a slot and ``weight`` units for the duration of the block."""
        await self.acquire(weight)
        try:
            yield
        finally:
            self.release(weight)

    async def acquire(self, weight: int = 1) -> None:
        if weight > self.capacity:
            raise ExceedsCapacity(weight, self.capacity)
        weight = max(weight, 0)
        if not self._waiters and self._fits(weight):
            self._take(weight)
            return
        waiter = _Waiter(weight, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.wait_s):
                await waiter.future
        except BaseException as exc:
            if waiter.future.done() and not waiter.future.cancelled():
                # Granted in the same instant the wait was given up: hand it back.
                self.release(weight)
            else:
                waiter.future.cancel()
                with contextlib.suppress(ValueError):  # _wake may have dropped it already
                    self._waiters.remove(waiter)
                self._wake()  # it may have been the head that blocked smaller jobs
            if isinstance(exc, TimeoutError):
                self.refused_busy += 1
                raise Overloaded(
                    self.what, waited_s=self.wait_s, retry_after_s=max(1.0, self.wait_s)
                ) from None
            raise

    def release(self, weight: int = 1) -> None:
        self.active -= 1
        self.in_flight -= max(weight, 0)
        self._wake()

    def _fits(self, weight: int) -> bool:
        return self.active < self.concurrency and self.in_flight + weight <= self.capacity

    def _take(self, weight: int) -> None:
        self.active += 1
        self.in_flight += weight
        self.peak_active = max(self.peak_active, self.active)
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _wake(self) -> None:
        while self._waiters:
            head = self._waiters[0]
            if head.future.done():  # given up, not yet removed
                self._waiters.popleft()
                continue
            if not self._fits(head.weight):
                return
            self._waiters.popleft()
            self._take(head.weight)
            head.future.set_result(None)
