"""Waiting on a condition with a deadline, instead of sleeping a fixed time.

A fixed sleep is either too short on a busy machine (a flaky test) or too long on an
idle one (a slow suite). Polling a condition returns as soon as it holds and fails
with a message naming what was awaited when the deadline passes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline (an AssertionError, so that a test
    reports it as a failure, not an error)."""


async def wait_for(
    check: Callable[[], T | Awaitable[T]],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.02,
    what: str = "the condition",
) -> T:
    """Call ``check`` (sync or async) until it returns a truthy value; return that value.

    Raises ``WaitTimeout`` after ``timeout_s`` with the last value seen.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"{what} did not hold within {timeout_s} s (last: {value!r})")
        await asyncio.sleep(interval_s)


def wait_for_sync(
    check: Callable[[], T],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.05,
    what: str = "the condition",
) -> T:
    """``wait_for`` for code without an event loop (subprocess harnesses, Locust)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"{what} did not hold within {timeout_s} s (last: {value!r})")
        time.sleep(interval_s)
