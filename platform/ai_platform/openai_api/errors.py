"""Errors in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, so the
openai SDK raises the exception class a caller expects (``RateLimitError`` for 429,
``AuthenticationError`` for 401, ``NotFoundError`` for an unknown model)."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from ai_platform.core.errors import AIServiceError

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
_CODES = {
    "unauthorized": "invalid_api_key",
    "unknown_model": "model_not_found",
    "budget_exceeded": "insufficient_quota",
    "rate_limited": "rate_limit_exceeded",
}


class OpenAIRequestError(AIServiceError):
    """A request body the OpenAI API would refuse, naming the field (``param``)."""

    status_code = 400
    error_code = "invalid_request"
    description = "The request body is not a valid OpenAI request"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message, details={"param": param} if param else None)
        self.param = param


def error_body(exc: AIServiceError, request_id: str) -> bytes:
    status = exc.status_code
    kind = _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    details = exc.details if isinstance(exc.details, dict) else {}
    return orjson.dumps(
        {
            "error": {
                "message": exc.message,
                "type": kind,
                "param": details.get("param"),
                "code": _CODES.get(exc.error_code, exc.error_code),
                "request_id": request_id,
            }
        }
    )


def error_status(exc: AIServiceError) -> int:
    # OpenAI answers an unknown model with 404; the platform's own API says 422.
    return 404 if exc.error_code == "unknown_model" else exc.status_code


def error_response(
    exc: AIServiceError, request_id: str, headers: Mapping[str, str] | None = None
) -> Response:
    merged = {**exc.headers, **(headers or {})}
    if exc.error_code == "budget_exceeded" or exc.status_code in (400, 401, 403, 404, 422):
        # The SDK retries a 429 by default; a spent budget (like a bad request) does not
        # get better by retrying, and each retry would be another refused row.
        merged["x-should-retry"] = "false"
    return Response(
        error_body(exc, request_id),
        status_code=error_status(exc),
        media_type="application/json",
        headers=merged,
    )
