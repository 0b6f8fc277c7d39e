"""Pure ASGI middleware, not Starlette's dispatch-based base class: that one costs a task
and a memory stream per request per middleware (lesson 04 measures about 2.2x fewer
requests per second).

Each class checks ``scope["type"]``, keeps no per-request state on the instance and
edits headers in a ``send`` wrapper.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_platform.core.envelope import error_body_bytes
from ai_platform.core.ids import is_valid_request_id, new_request_id
from ai_platform.core.logging import client_id_var, request_id_var, service_var

access_logger = logging.getLogger("ai_platform.access")
error_logger = logging.getLogger("ai_platform.errors")

Observer = Callable[[str, str, int, float], None]
"""Called once per HTTP request with (method, route, status, seconds)."""


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


async def send_error(
    send: Send, scope: Scope, status: int, code: str, message: str, details: Any = None
) -> None:
    state = scope.get("state") or {}
    start = state.get("start")
    elapsed = int((time.perf_counter() - start) * 1000) if start else 0
    body = error_body_bytes(
        code=code,
        message=message,
        request_id=state.get("request_id", "unknown"),
        details=details,
        processing_time_ms=elapsed,
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Request id, ``X-Processing-Time-Ms``, one JSON access line, and the last-resort 500.

    The request id is always made here: it keys the usage ledger, so no header may
    choose it (a caller could otherwise make twenty billed calls share one ledger row,
    or claim an id another tenant's client will send). A well-formed incoming
    ``X-Request-ID`` is kept as the *correlation id*: echoed back as
    ``X-Correlation-ID``, logged, stored on the ledger row and searchable within the
    caller's own tenant. Unhandled exceptions become a 500 envelope with no trace for
    the client and a logged traceback carrying the request id.
    """

    def __init__(
        self, app: ASGIApp, *, access_log: bool = True, observer: Observer | None = None
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = new_request_id()
        correlation_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if is_valid_request_id(candidate):
                    correlation_id = candidate
                break
        # Each request gets its own copy of the lifespan state (uvicorn copies it too,
        # but not every ASGI server does), so per-request values never leak across.
        state = dict(scope.get("state") or {})
        scope["state"] = state
        state["request_id"] = request_id
        state["correlation_id"] = correlation_id
        state["start"] = start
        token = request_id_var.set(request_id)
        # Set later by the auth and governed dependencies; reset with the request so a
        # task that serves several requests (in-process clients) never logs stale ids.
        client_token = client_id_var.set(None)
        service_token = service_var.set(None)
        id_headers = [(b"x-request-id", request_id.encode())]
        if correlation_id is not None:
            id_headers.append((b"x-correlation-id", correlation_id.encode()))
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                elapsed = f"{(time.perf_counter() - start) * 1000:.2f}".encode()
                message["headers"] = [
                    *message.get("headers", ()),
                    *id_headers,
                    (b"x-processing-time-ms", elapsed),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            error_logger.exception(
                "unhandled error", extra={"path": scope.get("path"), "method": scope["method"]}
            )
            if not started:
                await send_error(
                    send_wrapper, scope, 500, "internal_error", "Internal server error"
                )
        finally:
            duration = time.perf_counter() - start
            route = route_of(scope)
            if self.observer is not None:
                self.observer(scope["method"], route, status, duration)
            if self.access_log:
                access_logger.info(
                    "request",
                    extra={
                        "client_id": state.get("client_id"),
                        "correlation_id": correlation_id,
                        "service": state.get("service"),
                        "method": scope["method"],
                        "route": route,
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                    },
                )
            request_id_var.reset(token)
            client_id_var.reset(client_token)
            service_var.reset(service_token)


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` once a body passes the limit (FastAPI re-raises
    ``HTTPException`` from its body read, so the handler answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes")


class BodySizeLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with a 413 envelope before the app reads them.

    A declared ``Content-Length`` over the limit is refused at once. A body without one
    (chunked) is counted as it is read: past the limit, ``receive`` raises
    ``BodyTooLargeError`` and every later read raises it again. Whatever the app makes
    of that (a parser may wrap it into a 400, or let it escape), the client gets the
    413 envelope: once the limit is passed, a response the app starts with any other
    status is replaced by it.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0:
                    await send_error(send, scope, 400, "bad_request", "invalid Content-Length")
                    return
                if declared > limit:
                    await self._too_large(send, scope, declared)
                    return
                break
        received = 0
        exceeded = False
        started = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLargeError(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLargeError(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
                if exceeded and message["status"] != 413:
                    replaced = True
                    await self._too_large(send, scope)
                    return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
            await self._too_large(send, scope)

    async def _too_large(self, send: Send, scope: Scope, declared: int | None = None) -> None:
        size = "request body" if declared is None else f"request body of {declared} bytes"
        limit = self.max_bytes
        await send_error(
            send,
            scope,
            413,
            "payload_too_large",
            f"{size} exceeds the limit of {limit} bytes",
            {"limit_bytes": limit},
        )
