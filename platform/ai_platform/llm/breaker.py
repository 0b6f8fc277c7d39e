"""A circuit breaker for one upstream provider.

closed -> open after ``failure_threshold`` consecutive failures; open -> half-open once
``reset_timeout_s`` has passed; half-open lets exactly one probe through: its success
closes the breaker, its failure opens it again for another ``reset_timeout_s``.

Only failures that say the provider is unwell count (5xx, connection errors,
timeouts); an answer such as 400 or 429 proves it is up and counts as a success.
The methods are synchronous and the state lives in one event loop, so no lock is
needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerOpen(Exception):
    """Raised by ``CircuitBreaker.before_call`` when the call must not go upstream."""

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"circuit breaker for {name} is open")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if reset_timeout_s <= 0:
            raise ValueError("reset_timeout_s must be > 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._reset_elapsed():
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_after(self) -> float:
        """Seconds until a probe may go through (0 when it may go now)."""
        if self._state is BreakerState.OPEN:
            return max(0.0, self._opened_at + self.reset_timeout_s - self._clock())
        if self._state is BreakerState.HALF_OPEN and self._probe_in_flight:
            return 1.0
        return 0.0

    def before_call(self) -> None:
        """Admit a call or raise ``BreakerOpen``. Every admitted call must end in
        exactly one of ``record_success``, ``record_failure`` or ``record_abandoned``."""
        if self._state is BreakerState.OPEN:
            if not self._reset_elapsed():
                raise BreakerOpen(self.name, self.retry_after())
            self._state = BreakerState.HALF_OPEN
            self._probe_in_flight = False
        if self._state is BreakerState.HALF_OPEN:
            if self._probe_in_flight:
                raise BreakerOpen(self.name, self.retry_after())
            self._probe_in_flight = True

    def record_success(self) -> None:
        if self._state is BreakerState.OPEN:
            return  # a call admitted before the breaker opened; the probe decides
        self._failures = 0
        self._probe_in_flight = False
        self._state = BreakerState.CLOSED

    def record_failure(self) -> None:
        if self._state is BreakerState.OPEN:
            return  # late news from a call admitted earlier; do not extend the wait
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._open()

    def record_abandoned(self) -> None:
        """The call ended without a verdict (cancelled): free the probe slot."""
        self._probe_in_flight = False

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "consecutive_failures": self._failures,
            "failure_threshold": self.failure_threshold,
            "reset_timeout_s": self.reset_timeout_s,
            "retry_after_s": round(self.retry_after(), 3),
            "times_opened": self.times_opened,
        }

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._probe_in_flight = False
        self.times_opened += 1

    def _reset_elapsed(self) -> bool:
        return self._clock() - self._opened_at >= self.reset_timeout_s
