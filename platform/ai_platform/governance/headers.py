"""Rate-limit response headers, on every governed response (successes too).

``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` describe the client's requests per
minute; ``Reset`` is the number of seconds until the limit has room again (the
delta form, like ``Retry-After``). After an LLM call the daily token allowance is
reported too, as ``X-RateLimit-Limit-Tokens`` / ``-Remaining-Tokens`` /
``-Reset-Tokens``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from ai_platform.governance.context import RequestContext
from ai_platform.governance.ratelimit import LimitState

EXPOSED = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Limit-Tokens",
    "X-RateLimit-Remaining-Tokens",
    "X-RateLimit-Reset-Tokens",
    "Retry-After",
)
"""Header names a browser client needs CORS to expose."""


def limit_headers(state: LimitState, now: float | None = None) -> Iterator[tuple[str, str]]:
    suffix = "" if state.name == "requests_per_minute" else "-Tokens"
    yield f"X-RateLimit-Limit{suffix}", str(state.limit)
    yield f"X-RateLimit-Remaining{suffix}", str(state.remaining)
    yield f"X-RateLimit-Reset{suffix}", str(math.ceil(state.reset_in(now)))


def context_headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    """The raw ASGI headers for a governed request's response."""
    now = time.time()
    out: list[tuple[bytes, bytes]] = []
    for state in (ctx.requests_limit, ctx.tokens_limit):
        if state is not None:
            out.extend((k.lower().encode(), v.encode()) for k, v in limit_headers(state, now))
    return out
