"""Retry timing: exponential backoff with full jitter, bounded, honouring the
provider's ``retry-after-ms`` / ``Retry-After`` headers."""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_retries`` retries after the first attempt. Retry ``k`` (0-based) waits a
    uniformly random time in ``[0, min(backoff_max_s, backoff_base_s * 2**k)]`` ("full
    jitter", which spreads out clients that failed together; ``jitter`` returns a number
    in [0, 1)). When the provider says how long to wait, that wait is used instead,
    capped at ``backoff_max_s``."""

    max_retries: int = 2
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0
    jitter: Callable[[], float] = field(default=_random.random, repr=False)

    def delay(self, retry_index: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2.0**retry_index))
        return ceiling * self.jitter()


def retry_after_from_headers(
    headers: Mapping[str, str] | None, *, now: Callable[[], datetime] | None = None
) -> float | None:
    """Seconds the provider asks us to wait, or None if it does not say.

    ``retry-after-ms`` (OpenAI, Azure) wins over ``Retry-After``, which may be seconds
    or an HTTP date.
    """
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = -1.0
        if value >= 0 and value == value:  # excludes NaN
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now() if now is not None else datetime.now(UTC)
        return max(0.0, (when - current).total_seconds())
    return seconds if seconds >= 0 and seconds == seconds else None
