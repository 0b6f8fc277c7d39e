"""OpenAI-shaped errors: ``{"error": {"message", "type", "param", "code"}}``.

The statuses and codes follow what the official API sends, so that the openai SDK
raises the same exception classes against the simulator as against the provider.
"""

from __future__ import annotations

import math

import orjson


class APIError(Exception):
    """An error response: raised anywhere while handling a request, sent by the app."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or []

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "error": {
                    "message": self.message,
                    "type": self.type,
                    "param": self.param,
                    "code": self.code,
                }
            }
        )


def invalid(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def missing(param: str) -> APIError:
    return APIError(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


def wrong_type(param: str, expected: str, value: object) -> APIError:
    return APIError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {json_type(value)} instead.",
        param=param,
        code="invalid_type",
    )


def model_not_found(model: str) -> APIError:
    return APIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def injected(status: int, retry_after_s: float) -> APIError:
    """The error a configured fault sends; marked as simulated in its message."""
    if status == 429:
        wait = max(retry_after_s, 0.0)
        return APIError(
            429,
            f"Rate limit reached for requests (simulated fault). Please try again in {wait:g}s.",
            type="requests",
            code="rate_limit_exceeded",
            headers=[
                (b"retry-after", str(math.ceil(wait)).encode()),
                (b"retry-after-ms", str(int(wait * 1000)).encode()),
            ],
        )
    if status == 500:
        return APIError(
            500,
            "The server had an error while processing your request (simulated fault).",
            type="server_error",
        )
    if status == 503:
        return APIError(
            503,
            "The engine is currently overloaded, please try again later (simulated fault).",
            type="server_error",
            code="service_unavailable",
        )
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return APIError(status, f"Simulated fault: HTTP {status}.", type=kind, code="simulated_fault")
