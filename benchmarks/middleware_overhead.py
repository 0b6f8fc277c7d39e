"""Lesson 04's comparison, measured at length: what two ``BaseHTTPMiddleware``s cost
against the same two middlewares written as pure ASGI, and the platform's own pair.

The app is the lesson's: one trivial ``GET /ping`` route that reads
``request.state.request_id``. Four configurations:

  no middleware
  2 x BaseHTTPMiddleware   request id + timing, written with ``dispatch(request, call_next)``
  2 x pure ASGI            the same two as ``__call__(scope, receive, send)`` classes
  platform                 ``RequestContextMiddleware`` + ``BodySizeLimitMiddleware``
                           (``ai_platform.gateway.middleware``, access log off)

Two ways to drive them, both in this process (no sockets, so the numbers are the
framework and the middleware, not the network):

  direct   the ASGI callable itself, with a prebuilt scope and a recording ``send``:
           microseconds per request one at a time, and requests/s with C in flight
  httpx    httpx's ``ASGITransport`` with C requests in flight, as the lesson does

Every configuration runs ``--rounds`` times, interleaved; the table shows medians.

    python benchmarks/middleware_overhead.py                      # 5 rounds, C = 10
    python benchmarks/middleware_overhead.py --requests 20000 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_platform.gateway.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from ai_platform.harness.tables import fmt_number, markdown_table

# -- the lesson's middleware, both styles ---------------------------------------------------


class RequestIDMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request_id = request.headers.get("X-Request-ID", str(uuid.uuid4()))
        request.state.request_id = request_id
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        return response


class TimingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Processing-Time-Ms"] = f"{(time.perf_counter() - start) * 1000:.2f}"
        return response


class PureRequestID:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None
        ) or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


class PureTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_with_time(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = f"{(time.perf_counter() - start) * 1000:.2f}".encode()
                headers = [*message.get("headers", ()), (b"x-processing-time-ms", elapsed)]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_time)


def make_app(style: str) -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping(request: Request) -> dict[str, str]:
        return {"request_id": getattr(request.state, "request_id", "none")}

    if style == "base":
        app.add_middleware(TimingMiddleware)
        app.add_middleware(RequestIDMiddleware)
    elif style == "pure":
        app.add_middleware(PureTiming)
        app.add_middleware(PureRequestID)
    elif style == "platform":
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=1024)
        app.add_middleware(RequestContextMiddleware, access_log=False)
    return app


CONFIGURATIONS: dict[str, str] = {
    "no middleware": "none",
    "2 x BaseHTTPMiddleware": "base",
    "2 x pure ASGI": "pure",
    "platform (request context + body limit)": "platform",
}

# -- driving the ASGI callable directly -----------------------------------------------------

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/ping",
    "raw_path": b"/ping",
    "query_string": b"",
    "root_path": "",
    "client": ("127.0.0.1", 50000),
    "server": ("bench", 80),
}


async def call_once(app: ASGIApp) -> None:
    scope = {**SCOPE, "headers": [(b"host", b"bench")], "state": {}}
    delivered = False
    status: list[int] = []

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect: wait until cancelled
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    assert status == [200], status


async def direct_sequential_us(app: ASGIApp, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await call_once(app)
    return (time.perf_counter() - started) / requests * 1e6


async def direct_concurrent_rps(app: ASGIApp, requests: int, concurrency: int) -> float:
    per_worker = max(1, requests // concurrency)

    async def worker() -> None:
        for _ in range(per_worker):
            await call_once(app)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - started)


async def httpx_rps(app: ASGIApp, requests: int, concurrency: int) -> float:
    per_worker = max(1, requests // concurrency)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

        async def worker() -> None:
            for _ in range(per_worker):
                assert (await http.get("/ping")).status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return per_worker * concurrency / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    apps = {name: make_app(style) for name, style in CONFIGURATIONS.items()}
    measures: dict[str, Callable[[ASGIApp], Any]] = {
        "direct_us": lambda app: direct_sequential_us(app, args.requests),
        "direct_rps": lambda app: direct_concurrent_rps(app, args.requests, args.concurrency),
        "httpx_rps": lambda app: httpx_rps(app, args.requests // 4, args.concurrency),
    }
    for app in apps.values():  # warm-up: build the middleware stacks, fill caches
        await direct_sequential_us(app, 200)
        await httpx_rps(app, 100, args.concurrency)
    results: dict[str, dict[str, list[float]]] = {
        name: {measure: [] for measure in measures} for name in apps
    }
    for _ in range(args.rounds):
        for measure, run in measures.items():
            for name, app in apps.items():
                results[name][measure].append(await run(app))

    median = {
        name: {measure: statistics.median(values) for measure, values in by_measure.items()}
        for name, by_measure in results.items()
    }
    base = median["no middleware"]
    rows = []
    for name, m in median.items():
        rows.append(
            [
                name,
                fmt_number(m["direct_us"], 1),
                fmt_number(m["direct_us"] - base["direct_us"], 1),
                fmt_number(m["direct_rps"], 0),
                fmt_number(m["httpx_rps"], 0),
                fmt_number(m["httpx_rps"] / base["httpx_rps"], 2),
            ]
        )
    print(
        f"## Middleware cost in process ({args.rounds} rounds, medians; "
        f"C = {args.concurrency} in flight)\n"
    )
    print(
        markdown_table(
            [
                "configuration",
                "direct µs/request",
                "added µs",
                f"direct req/s, C={args.concurrency}",
                f"httpx req/s, C={args.concurrency}",
                "httpx vs none",
            ],
            rows,
            align="lrrrrr",
        )
    )
    base_http = median["2 x BaseHTTPMiddleware"]
    pure = median["2 x pure ASGI"]
    print(
        f"pure ASGI / BaseHTTPMiddleware: {base_http['direct_us'] / pure['direct_us']:.2f}x "
        f"faster per request (direct), {pure['httpx_rps'] / base_http['httpx_rps']:.2f}x "
        "the requests/s (httpx)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per configuration")
    asyncio.run(main(parser.parse_args()))
