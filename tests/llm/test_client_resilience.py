"""Retries, backoff, Retry-After, the circuit breaker and error mapping, against a
scripted upstream at the HTTP level."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from ai_platform.core.errors import (
    BadRequestError,
    RateLimitedError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from ai_platform.llm.breaker import BreakerState
from ai_platform.llm.retry import RetryPolicy, retry_after_from_headers

from .upstream_fakes import (
    Clock,
    Sleeps,
    Upstream,
    completion,
    error,
    held,
    make_client,
    raises,
)

HI = [{"role": "user", "content": "hi"}]


async def test_retries_then_succeeds_with_full_jitter_backoff() -> None:
    upstream = Upstream(error(503), error(500), completion("ok"))
    sleeps = Sleeps()
    client = make_client(upstream, sleeps=sleeps, jitter=0.5)
    result = await client.chat(HI)
    assert result.content == "ok"
    assert result.attempts == 3
    assert len(upstream.requests) == 3
    # base 0.5 s doubling per retry, times the jitter draw 0.5
    assert sleeps.calls == [0.25, 0.5]
    # the SDK's own retries are off: every attempt is ours
    assert [r.headers["x-stainless-retry-count"] for r in upstream.requests] == ["0", "0", "0"]
    await client.aclose()


async def test_backoff_is_capped_at_the_maximum() -> None:
    policy = RetryPolicy(max_retries=10, backoff_base_s=0.5, backoff_max_s=4.0, jitter=lambda: 1.0)
    assert [policy.delay(k) for k in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    zero = RetryPolicy(jitter=lambda: 0.0)
    assert zero.delay(3) == 0.0


async def test_retries_exhausted_maps_to_upstream_error() -> None:
    upstream = Upstream(error(502))
    sleeps = Sleeps()
    client = make_client(upstream, sleeps=sleeps, llm_max_retries=3)
    with pytest.raises(UpstreamError) as caught:
        await client.chat(HI)
    assert caught.value.status_code == 502
    assert caught.value.details["attempts"] == 4
    assert caught.value.details["upstream_status"] == 502
    assert len(upstream.requests) == 4
    assert len(sleeps.calls) == 3
    await client.aclose()


@pytest.mark.parametrize(
    ("headers", "expected_sleep"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # ms wins
        ({"retry-after": "120"}, 4.0),  # capped at the backoff maximum
    ],
)
async def test_retry_after_is_honoured(headers: dict[str, str], expected_sleep: float) -> None:
    upstream = Upstream(error(429, "Rate limit reached", headers=headers), completion("ok"))
    sleeps = Sleeps()
    client = make_client(upstream, sleeps=sleeps, jitter=0.0)
    result = await client.chat(HI)
    assert result.content == "ok"
    assert sleeps.calls == [expected_sleep]
    await client.aclose()


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    headers = {"retry-after": "Wed, 01 Jan 2025 12:00:07 GMT"}
    assert retry_after_from_headers(headers, now=lambda: now) == 7.0
    assert retry_after_from_headers({"retry-after": "soon"}) is None
    assert retry_after_from_headers({}) is None


async def test_rate_limit_exhausted_maps_to_429_with_retry_after() -> None:
    upstream = Upstream(
        error(429, "Rate limit reached for org-secret", headers={"retry-after": "3"})
    )
    client = make_client(upstream, llm_max_retries=1)
    with pytest.raises(RateLimitedError) as caught:
        await client.chat(HI)
    exc = caught.value
    assert exc.status_code == 429
    assert exc.retry_after == 3.0
    assert exc.headers["Retry-After"] == "3"
    assert "org-secret" not in exc.message  # the provider's message names the account
    assert len(upstream.requests) == 2
    await client.aclose()


async def test_insufficient_quota_is_not_retried() -> None:
    upstream = Upstream(error(429, "You exceeded your current quota", code="insufficient_quota"))
    client = make_client(upstream)
    with pytest.raises(UpstreamError, match="quota"):
        await client.chat(HI)
    assert len(upstream.requests) == 1
    await client.aclose()


async def test_400_is_not_retried_and_carries_the_provider_message() -> None:
    message = "This model's maximum context length is 128000 tokens."
    upstream = Upstream(error(400, message, code="context_length_exceeded"), completion())
    sleeps = Sleeps()
    client = make_client(upstream, sleeps=sleeps)
    with pytest.raises(BadRequestError) as caught:
        await client.chat(HI)
    assert caught.value.status_code == 400
    assert caught.value.message == message
    assert caught.value.details["upstream_code"] == "context_length_exceeded"
    assert len(upstream.requests) == 1
    assert sleeps.calls == []
    await client.aclose()


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_auth_and_not_found_are_not_retried(status: int) -> None:
    upstream = Upstream(error(status, "Incorrect API key provided: sk-abc***"), completion())
    client = make_client(upstream)
    with pytest.raises(UpstreamError) as caught:
        await client.chat(HI)
    assert caught.value.status_code == 502
    assert len(upstream.requests) == 1
    if status != 404:
        assert "sk-abc" not in caught.value.message
    await client.aclose()


async def test_read_timeout_maps_to_504_after_retries() -> None:
    upstream = Upstream(raises(httpx.ReadTimeout, "read timed out"))
    client = make_client(upstream, llm_max_retries=2)
    with pytest.raises(UpstreamTimeoutError) as caught:
        await client.chat(HI)
    assert caught.value.status_code == 504
    assert caught.value.details["attempts"] == 3
    assert len(upstream.requests) == 3
    await client.aclose()


async def test_timeout_then_success() -> None:
    upstream = Upstream(raises(httpx.ReadTimeout), completion("late but fine"))
    client = make_client(upstream)
    result = await client.chat(HI)
    assert result.content == "late but fine"
    assert result.attempts == 2
    await client.aclose()


async def test_connection_error_maps_to_502() -> None:
    upstream = Upstream(raises(httpx.ConnectError, "connection refused"))
    client = make_client(upstream, llm_max_retries=1)
    with pytest.raises(UpstreamError) as caught:
        await client.chat(HI)
    assert caught.value.status_code == 502
    assert "could not reach" in caught.value.message
    assert len(upstream.requests) == 2
    await client.aclose()


async def test_timeouts_are_explicit_on_every_request() -> None:
    upstream = Upstream(completion())
    client = make_client(upstream, llm_connect_timeout_s=1.5, llm_read_timeout_s=42.0)
    await client.chat(HI)
    timeout = upstream.requests[0].extensions["timeout"]
    assert timeout["connect"] == 1.5
    assert timeout["read"] == 42.0
    await client.aclose()


# -- circuit breaker -----------------------------------------------------------------------


async def test_breaker_opens_after_consecutive_failures_then_recovers() -> None:
    upstream = Upstream(error(500), error(500), error(500), completion("back"))
    clock = Clock()
    client = make_client(
        upstream, clock=clock, llm_max_retries=0, llm_breaker_failures=3, llm_breaker_reset_s=30.0
    )
    for _ in range(3):
        with pytest.raises(UpstreamError):
            await client.chat(HI)
    assert client.breaker.state is BreakerState.OPEN
    assert len(upstream.requests) == 3

    clock.now += 10
    with pytest.raises(ServiceUnavailableError) as caught:
        await client.chat(HI)
    assert caught.value.status_code == 503
    assert caught.value.headers["Retry-After"] == "20"
    assert len(upstream.requests) == 3  # refused without calling upstream

    clock.now += 20
    assert client.breaker.state is BreakerState.HALF_OPEN
    result = await client.chat(HI)  # the probe
    assert result.content == "back"
    assert client.breaker.state is BreakerState.CLOSED
    assert client.breaker.consecutive_failures == 0
    assert client.status()["breaker"]["times_opened"] == 1
    await client.aclose()


async def test_failed_probe_reopens_the_breaker() -> None:
    upstream = Upstream(error(503))
    clock = Clock()
    client = make_client(upstream, clock=clock, llm_max_retries=0, llm_breaker_failures=2)
    for _ in range(2):
        with pytest.raises(UpstreamError):
            await client.chat(HI)
    clock.now += 30
    with pytest.raises(UpstreamError):
        await client.chat(HI)  # probe fails
    assert client.breaker.state is BreakerState.OPEN
    with pytest.raises(ServiceUnavailableError):
        await client.chat(HI)
    assert len(upstream.requests) == 3
    await client.aclose()


async def test_half_open_lets_exactly_one_probe_through() -> None:
    gate, entered = asyncio.Event(), asyncio.Event()
    upstream = Upstream(error(500), held(completion("probe ok"), gate, entered))
    clock = Clock()
    client = make_client(upstream, clock=clock, llm_max_retries=0, llm_breaker_failures=1)
    with pytest.raises(UpstreamError):
        await client.chat(HI)
    clock.now += 30
    probe = asyncio.create_task(client.chat(HI))
    await entered.wait()
    with pytest.raises(ServiceUnavailableError):
        await client.chat(HI)  # a second caller while the probe is out
    gate.set()
    assert (await probe).content == "probe ok"
    assert client.breaker.state is BreakerState.CLOSED
    await client.aclose()


async def test_cancelled_probe_frees_the_slot() -> None:
    gate, entered = asyncio.Event(), asyncio.Event()
    upstream = Upstream(error(500), held(completion("never"), gate, entered), completion("ok"))
    clock = Clock()
    client = make_client(upstream, clock=clock, llm_max_retries=0, llm_breaker_failures=1)
    with pytest.raises(UpstreamError):
        await client.chat(HI)
    clock.now += 30
    probe = asyncio.create_task(client.chat(HI))
    await entered.wait()
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert (await client.chat(HI)).content == "ok"
    assert client.breaker.state is BreakerState.CLOSED
    await client.aclose()


async def test_client_errors_and_rate_limits_do_not_trip_the_breaker() -> None:
    upstream = Upstream(error(400), error(429), error(400), error(429), error(400))
    client = make_client(upstream, llm_max_retries=0, llm_breaker_failures=2)
    for _ in range(5):
        with pytest.raises((BadRequestError, RateLimitedError)):
            await client.chat(HI)
    assert client.breaker.state is BreakerState.CLOSED
    await client.aclose()


async def test_breaker_opening_mid_retry_reports_the_real_failure() -> None:
    upstream = Upstream(error(500))
    client = make_client(upstream, llm_max_retries=5, llm_breaker_failures=2)
    with pytest.raises(UpstreamError) as caught:
        await client.chat(HI)
    assert len(upstream.requests) == 2  # the breaker stopped the retries
    assert caught.value.details["upstream_status"] == 500
    assert client.breaker.state is BreakerState.OPEN
    await client.aclose()


async def test_success_resets_the_failure_count() -> None:
    upstream = Upstream(error(500), completion(), error(500), completion(), error(500))
    client = make_client(upstream, llm_max_retries=0, llm_breaker_failures=2)
    for _ in range(5):
        with contextlib.suppress(UpstreamError):
            await client.chat(HI)
    assert client.breaker.state is BreakerState.CLOSED
    assert client.breaker.consecutive_failures == 1
    await client.aclose()
