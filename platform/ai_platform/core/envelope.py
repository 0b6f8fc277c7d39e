"""The response envelope (``APIResponse`` with ``ResponseMetadata``; see
``docs/design-brief.md``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


class ResponseMetadata(BaseModel):
    """Metadata included in every response."""

    request_id: str
    processing_time_ms: int = 0
    tokens_used: int = 0
    estimated_cost_usd: float = 0.0
    model_version: str | None = None
    timestamp: datetime = Field(default_factory=utcnow)


class APIResponse(BaseModel, Generic[T]):
    """Standard API response envelope."""

    model_config = ConfigDict(json_schema_extra={"description": "Success envelope"})

    status: str = "success"
    data: T | None = None
    metadata: ResponseMetadata


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorMetadata(BaseModel):
    request_id: str
    processing_time_ms: int = 0
    timestamp: datetime = Field(default_factory=utcnow)


class ErrorResponse(BaseModel):
    """Error envelope: every 4xx and 5xx answer has this shape."""

    status: str = "error"
    error: ErrorBody
    metadata: ErrorMetadata


def error_body_bytes(
    *,
    code: str,
    message: str,
    request_id: str,
    details: Any = None,
    processing_time_ms: int = 0,
) -> bytes:
    """Serialise an error envelope without building models (used by middleware exits)."""
    return orjson.dumps(
        {
            "status": "error",
            "error": {"code": code, "message": message, "details": details},
            "metadata": {
                "request_id": request_id,
                "processing_time_ms": processing_time_ms,
                "timestamp": utcnow().isoformat(),
            },
        },
        default=str,
    )
