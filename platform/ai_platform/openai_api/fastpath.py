"""The ``/v1`` hot path as pure ASGI, in front of FastAPI's router.

The routes stay declared on the FastAPI router (that is what documents them in
OpenAPI), but a request for one of them is answered here, inside the platform's own
middleware (request id, timing, body limit, governance headers) and before FastAPI's
routing, dependency solving and exception layers, which cost about a tenth of the
endpoint's CPU per call (``benchmarks/openai_gateway.py --profile``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ai_platform.openai_api.router import chat_completions, embeddings, models

Handler = Callable[[Request], Awaitable[Response]]

ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): chat_completions,
    ("POST", "/v1/embeddings"): embeddings,
    ("GET", "/v1/models"): models,
}


class OpenAIFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = ROUTES.get((scope["method"], scope["path"]))
            if handler is not None:
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
