"""Upstream failures: which ones to retry, which ones mean the provider is unwell,
and which platform error each one leaves as.

| upstream                         | retried | breaker failure | platform error            |
| -------------------------------- | ------- | --------------- | ------------------------- |
| timeout                          | yes     | yes             | UpstreamTimeoutError 504  |
| connection error                 | yes     | yes             | UpstreamError 502         |
| 500, 502, 503, 504               | yes     | yes             | UpstreamError 502         |
| 429 (rate limit)                 | yes     | no              | RateLimitedError 429      |
| 429 ``insufficient_quota``       | no      | no              | UpstreamError 502         |
| 400, 413, 422                    | no      | no              | BadRequestError 400       |
| 401, 403                         | no      | no              | UpstreamError 502         |
| 404 (model or deployment)        | no      | no              | UpstreamError 502         |
| error event inside a stream      | no      | yes             | UpstreamError 502         |

The provider's message is passed on for 400-class errors (the caller can fix the
request) and 404; it is withheld for 401/403 and 429, whose messages can name the
platform's organisation or key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import httpx
import httpx2
import openai

from ai_platform.core.errors import (
    AIServiceError,
    BadRequestError,
    RateLimitedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from ai_platform.llm.retry import retry_after_from_headers
from ai_platform.llm.transports import WireProtocolError, WireStatusError, is_timeout

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
CLIENT_FIXABLE_STATUS = frozenset({400, 413, 422})

FailureKind = Literal["timeout", "connection", "status", "protocol"]


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    status: int | None = None
    message: str = ""
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        if self.kind in ("timeout", "connection"):
            return True
        if self.kind == "status" and self.status in RETRYABLE_STATUS:
            return self.code != "insufficient_quota"
        return False

    @property
    def provider_unhealthy(self) -> bool:
        if self.kind == "status":
            return self.status is not None and self.status >= 500
        return True

    def to_error(self, provider: str, *, attempts: int) -> AIServiceError:
        details: dict[str, Any] = {"provider": provider, "attempts": attempts}
        if self.status is not None:
            details["upstream_status"] = self.status
        if self.kind == "timeout":
            return UpstreamTimeoutError(f"{provider} did not answer in time", details=details)
        if self.kind == "connection":
            return UpstreamError(f"could not reach {provider}", details=details)
        if self.kind == "protocol":
            return UpstreamError(f"{provider} stream failed: {self.message}", details=details)
        status = self.status or 0
        if status == 429 and self.code == "insufficient_quota":
            return UpstreamError(f"{provider} quota is exhausted", details=details)
        if status == 429:
            wait = self.retry_after if self.retry_after is not None else 1.0
            details["retry_after_s"] = wait
            return RateLimitedError(
                f"{provider} is rate limiting this platform; retry later",
                retry_after=wait,
                details=details,
            )
        if status in CLIENT_FIXABLE_STATUS:
            if self.code:
                details["upstream_code"] = self.code
            if self.param:
                details["upstream_param"] = self.param
            return BadRequestError(
                self.message or f"{provider} rejected the request", details=details
            )
        if status in (401, 403):
            return UpstreamError(f"{provider} rejected the platform's credentials", details=details)
        if status == 404:
            return UpstreamError(
                f"{provider}: model or deployment not found: {self.message}", details=details
            )
        return UpstreamError(f"{provider} returned HTTP {status}", details=details)


def classify(exc: BaseException) -> Failure | None:
    """The upstream failure ``exc`` represents, or None if it is not one."""
    if isinstance(exc, WireStatusError):
        message, code, param = _error_fields(exc.data, f"HTTP {exc.status}")
        return Failure(
            "status",
            status=exc.status,
            message=message,
            code=code,
            param=param,
            retry_after=retry_after_from_headers(exc.headers),
        )
    if is_timeout(exc):
        return Failure("timeout", message=str(exc) or type(exc).__name__)
    if isinstance(exc, aiohttp.ClientError):
        return Failure("connection", message=str(exc) or type(exc).__name__)
    if isinstance(exc, WireProtocolError):
        return Failure("protocol", message=str(exc))
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | httpx2.TimeoutException):
        return Failure("timeout", message=str(exc))
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | httpx2.TransportError):
        return Failure("connection", message=str(exc))
    if isinstance(exc, openai.APIStatusError):
        message, code, param = _error_fields(exc.body, exc.message)
        return Failure(
            "status",
            status=exc.status_code,
            message=message,
            code=code,
            param=param,
            retry_after=retry_after_from_headers(exc.response.headers),
        )
    if isinstance(exc, openai.APIError):
        message, code, _ = _error_fields(exc.body, exc.message)
        return Failure("protocol", message=message, code=code)
    if isinstance(exc, openai.OpenAIError):
        return Failure("protocol", message=str(exc))
    return None


def _error_fields(body: object, fallback: str) -> tuple[str, str | None, str | None]:
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            message = inner.get("message")
            code = inner.get("code") or inner.get("type")
            param = inner.get("param")
            return (
                str(message) if message else fallback,
                str(code) if code else None,
                str(param) if param else None,
            )
    return fallback, None, None
