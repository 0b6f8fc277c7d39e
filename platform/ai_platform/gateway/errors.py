"""One exception handler per error family, all answering with the error envelope."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ai_platform.core.envelope import ErrorResponse, error_body_bytes
from ai_platform.core.errors import AIServiceError

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "service_unavailable",
    504: "upstream_timeout",
}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    state = request.scope.get("state") or {}
    start = state.get("start")
    body = error_body_bytes(
        code=code,
        message=message,
        request_id=state.get("request_id", "unknown"),
        details=details,
        processing_time_ms=int((time.perf_counter() - start) * 1000) if start else 0,
    )
    return Response(body, status_code=status, headers=headers, media_type="application/json")


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AIServiceError)
    return error_response(
        request, exc.status_code, exc.error_code, exc.message, exc.details, exc.headers
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Starlette's multipart parser has no error type for a text field over its part-size
# limit: it raises a 400 with this message. It is a size refusal, so a 413.
_PART_TOO_LARGE = "Part exceeded maximum size"


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path, asking the app's own router.

    Each route of a path is its own route object, so the 405 a router raises names
    only the methods of the first route whose path matched.
    """
    base = {
        "type": "http",
        "path": request.scope["path"],
        "root_path": request.scope.get("root_path", ""),
        "headers": [],
        "query_string": b"",
    }
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**base, "method": method})[0] == Match.FULL for route in routes)
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    message = exc.detail if isinstance(exc.detail, str) else ""
    if status == 400 and message.startswith(_PART_TOO_LARGE):
        status = 413
    code = HTTP_CODES.get(status, "http_error")
    message = message or code.replace("_", " ")
    if status == 404 and message == "Not Found":
        message = f"no route matches {request.method} {request.url.path}"
    elif status == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
        allowed = allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return error_response(request, status, code, message, None, headers or None)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": list(err.get("loc", ())),
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    if any(err["type"] == "json_invalid" for err in errors):
        return error_response(
            request, 400, "invalid_json", "the request body is not valid JSON", errors
        )
    return error_response(request, 422, "validation_error", "the request failed validation", errors)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AIServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


_ERROR_SCHEMA_REF = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}


def error_responses(*errors: type[AIServiceError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a route, generated from the errors it can raise."""
    grouped: dict[int, list[type[AIServiceError]]] = {}
    for err in dict.fromkeys(errors):  # a class listed twice is documented once
        grouped.setdefault(err.status_code, []).append(err)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, errs in sorted(grouped.items()):
        codes = ", ".join(f"`{e.error_code}`" for e in errs)
        desc = "; ".join(e.description for e in errs)
        responses[status] = {
            "model": ErrorResponse,
            "description": f"{desc} ({codes})",
            # Errors are always JSON. With ``model`` alone FastAPI documents them only in
            # the route's media type, which for an SSE route is text/event-stream.
            "content": {"application/json": {"schema": _ERROR_SCHEMA_REF}},
        }
    return responses
