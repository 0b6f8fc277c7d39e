"""The platform's error types: one base class, one envelope, one handler.

Every error leaves the platform as the same JSON envelope (see ``core.envelope``).
Routes declare the errors they can raise and OpenAPI is generated from these classes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AIServiceError(Exception):
    """Base class: an HTTP status, a stable machine-readable code and a message."""

    status_code: ClassVar[int] = 500
    error_code: ClassVar[str] = "internal_error"
    description: ClassVar[str] = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.description
        self.details = details
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)


class BadRequestError(AIServiceError):
    status_code = 400
    error_code = "bad_request"
    description = "The request is malformed"


class PromptInjectionError(AIServiceError):
    status_code = 400
    error_code = "prompt_injection_detected"
    description = "Request rejected: potential prompt injection detected"

    def __init__(self, score: float = 1.0, signals: list[str] | None = None) -> None:
        super().__init__(details={"score": round(score, 3), "signals": signals or []})


class UnauthorizedError(AIServiceError):
    status_code = 401
    error_code = "unauthorized"
    description = "A valid API key is required"

    def __init__(self, message: str | None = None, *, header: str = "X-API-Key") -> None:
        super().__init__(message, headers={"WWW-Authenticate": f'ApiKey header="{header}"'})


class ForbiddenError(AIServiceError):
    status_code = 403
    error_code = "forbidden"
    description = "The API key lacks the scope this route requires"


class NotFoundError(AIServiceError):
    status_code = 404
    error_code = "not_found"
    description = "Not found"


class MethodNotAllowedError(AIServiceError):
    status_code = 405
    error_code = "method_not_allowed"
    description = "Method not allowed"


class ConflictError(AIServiceError):
    status_code = 409
    error_code = "conflict"
    description = "The request conflicts with the current state"


class PayloadTooLargeError(AIServiceError):
    status_code = 413
    error_code = "payload_too_large"
    description = "The request body is too large"


class UnsupportedMediaTypeError(AIServiceError):
    status_code = 415
    error_code = "unsupported_media_type"
    description = "Unsupported media type"


class RequestValidationFailed(AIServiceError):
    status_code = 422
    error_code = "validation_error"
    description = "The request failed validation"


class UnknownModelError(AIServiceError):
    """A model the platform cannot price or route: refused before any call is made."""

    status_code = 422
    error_code = "unknown_model"
    description = "The requested model is not one this platform serves"

    def __init__(
        self, model: str, *, reason: str | None = None, known: list[str] | None = None
    ) -> None:
        super().__init__(
            f"model {model!r} {reason or 'is not a chat model this platform can price'}; "
            "omit 'model' to use the default",
            details={"model": model, "known_models": known or []},
        )


class RateLimitedError(AIServiceError):
    status_code = 429
    error_code = "rate_limited"
    description = "Rate limit exceeded"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float = 1.0,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        merged = {"Retry-After": str(max(1, int(retry_after + 0.999)))}
        merged.update(headers or {})
        super().__init__(message, details=details, headers=merged)
        self.retry_after = retry_after


class BudgetExceededError(AIServiceError):
    status_code = 429
    error_code = "budget_exceeded"
    description = "Monthly budget exceeded"

    def __init__(
        self, client_id: str, budget: float, spent: float = 0.0, requested: float = 0.0
    ) -> None:
        super().__init__(
            f"Monthly budget of ${budget:.2f} exceeded "
            f"(spent ${spent:.6f}, this request needs up to ${requested:.6f})",
            details={
                "client_id": client_id,
                "budget_usd": budget,
                "spent_usd": round(spent, 8),
                "requested_usd": round(requested, 8),
            },
        )


class InternalError(AIServiceError):
    status_code = 500
    error_code = "internal_error"
    description = "Internal server error"


class UpstreamError(AIServiceError):
    status_code = 502
    error_code = "upstream_error"
    description = "The LLM provider returned an error"


class ServiceUnavailableError(AIServiceError):
    status_code = 503
    error_code = "service_unavailable"
    description = "Service temporarily unavailable"


class UpstreamTimeoutError(AIServiceError):
    status_code = 504
    error_code = "upstream_timeout"
    description = "The LLM provider did not answer in time"


COMMON_ERRORS: tuple[type[AIServiceError], ...] = (
    BadRequestError,
    RequestValidationFailed,
    PayloadTooLargeError,
    InternalError,
)
GOVERNED_ERRORS: tuple[type[AIServiceError], ...] = (
    UnauthorizedError,
    ForbiddenError,
    RateLimitedError,
    BudgetExceededError,
    PromptInjectionError,
    UpstreamError,
    ServiceUnavailableError,
    UpstreamTimeoutError,
)
