"""Build the success envelope, filling usage metadata from the request's usage record."""

from __future__ import annotations

import time
from typing import TypeVar

from fastapi import Request

from ai_platform.core.envelope import APIResponse, ResponseMetadata
from ai_platform.core.usage import RequestUsage

T = TypeVar("T")


def request_usage(request: Request) -> RequestUsage:
    """The usage record of this request, created on first use."""
    state = request.scope.setdefault("state", {})
    usage = state.get("usage")
    if usage is None:
        usage = state["usage"] = RequestUsage()
    assert isinstance(usage, RequestUsage)
    return usage


def metadata_for(request: Request) -> ResponseMetadata:
    state = request.scope.get("state") or {}
    start = state.get("start")
    usage = state.get("usage")
    meta = ResponseMetadata(
        request_id=state.get("request_id", "unknown"),
        processing_time_ms=int((time.perf_counter() - start) * 1000) if start else 0,
    )
    if isinstance(usage, RequestUsage):
        meta.tokens_used = usage.tokens
        meta.estimated_cost_usd = round(usage.cost_usd, 10)
        meta.model_version = usage.model
    return meta


def envelope(request: Request, data: T) -> APIResponse[T]:
    return APIResponse[T](data=data, metadata=metadata_for(request))
