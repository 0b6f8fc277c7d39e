"""``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``: governed pass-through.

The hot path reads the body once with orjson, checks what governance needs, forwards
the caller's body to the model's route and returns the provider's bytes as they came
(a stream chunk by chunk). No pydantic model is built for a request or a response:
that is where an SDK-based gateway spends most of its CPU.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from ai_platform.core.errors import AIServiceError, ForbiddenError, UnknownModelError
from ai_platform.core.logging import client_id_var, service_var
from ai_platform.gateway.state import PlatformState
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.context import RequestContext
from ai_platform.llm.client import RoutedChunk
from ai_platform.openai_api.errors import error_body, error_response
from ai_platform.openai_api.requests import parse_chat, parse_embeddings

SERVICE = "openai"
MAX_MESSAGE_CHARS = 200_000
DONE = b"data: [DONE]\n\n"

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

_CHAT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["messages"],
                    "properties": {
                        "model": {"type": "string"},
                        "messages": {"type": "array", "items": {"type": "object"}},
                        "stream": {"type": "boolean"},
                        "max_tokens": {"type": "integer", "minimum": 1},
                    },
                }
            }
        },
    }
}
_EMBEDDINGS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["input"],
                    "properties": {"model": {"type": "string"}, "input": {}},
                }
            }
        },
    }
}


def _key(request: Request, platform: PlatformState) -> str | None:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return request.headers.get(platform.settings.api_key_header)


async def _client(request: Request, platform: PlatformState) -> ClientInfo:
    client = await platform.auth.authenticate(_key(request, platform))
    state = request.scope["state"]
    state["client_id"] = client.id
    state["client"] = client
    client_id_var.set(client.id)
    return client


def _allowed(platform: PlatformState, client: ClientInfo, model: str, *, embedding: bool) -> None:
    """A model the platform serves (a route alias, or a priced model) and the client may use."""
    llm = platform.llm
    if model not in llm.routes.routes:
        settings = platform.settings
        prices = llm.prices
        if embedding:
            if model != settings.embedding_model and not prices.is_known(model):
                raise UnknownModelError(
                    model, reason="is not an embedding model this platform serves"
                )
        else:
            prices.require_chat_model(
                model, configured=(settings.default_model, settings.vision_model)
            )
    if client.allowed_models is not None and model not in client.allowed_models:
        raise ForbiddenError(
            f"this API key's client may not use model {model!r}; "
            f"allowed: {', '.join(sorted(client.allowed_models)) or 'none'}"
        )


def _usage_headers(ctx: RequestContext) -> dict[str, str]:
    usage = ctx.usage
    headers = {
        "x-ai-platform-cost-usd": f"{usage.cost_usd:.10f}",
        "x-ai-platform-tokens": str(usage.tokens),
    }
    if usage.model:
        headers["x-ai-platform-model"] = usage.model
    if usage.hops:
        headers["x-ai-platform-route"] = ">".join(usage.hops)
    return headers


async def _begin(request: Request, platform: PlatformState, client: ClientInfo) -> RequestContext:
    state = request.scope["state"]
    state["service"] = SERVICE
    service_var.set(SERVICE)
    ctx = await platform.governor.begin(
        client, SERVICE, request.scope["path"], state["request_id"], state.get("correlation_id")
    )
    state["governed"] = ctx
    return ctx


@router.post(
    "/chat/completions",
    summary="Chat completion (OpenAI-compatible, governed)",
    openapi_extra=_CHAT_BODY,
)
async def chat_completions(request: Request) -> Response:
    """The OpenAI Chat Completions API, JSON or streamed (Server-Sent Events).

    Authenticate with `Authorization: Bearer <platform key>`. The answer is the
    provider's body; `x-ai-platform-cost-usd`, `x-ai-platform-tokens` and the
    `X-RateLimit-*` headers report what the call cost and what is left.
    """
    platform: PlatformState = request.app.state.platform
    request_id: str = request.scope["state"]["request_id"]
    ctx: RequestContext | None = None
    try:
        client = await _client(request, platform)
        chat = parse_chat(
            await request.body(),
            default_model=platform.settings.default_model,
            default_ceiling=platform.settings.llm_max_output_tokens,
            max_message_chars=MAX_MESSAGE_CHARS,
        )
        _allowed(platform, client, chat.model, embedding=False)
        ctx = await _begin(request, platform, client)
        for text in chat.screened:
            await ctx.screen(text)
        if len(chat.screened) > 1:
            # An instruction split over several messages, each clean alone.
            await ctx.screen("\n".join(chat.screened[-8:]))
        governor = platform.governor
        if not chat.stream:
            raw, _ = await governor.chat_call(ctx, chat.params, chat.prompt_tokens, chat.max_output)
            await ctx.finish()
            return Response(raw.body, media_type="application/json", headers=_usage_headers(ctx))
        chunks = governor.stream_call(ctx, chat.params, chat.prompt_tokens, chat.max_output)
        # The first chunk is awaited here, so a refusal or a failed route (every
        # deployment down) is a proper error status, not an error inside a 200 stream.
        first = await anext(chunks)
    except AIServiceError as exc:
        if ctx is not None:
            ctx.fail(exc)
            await ctx.finish()
        return error_response(exc, request_id)
    ctx.defer_finish()
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if first.served_by:
        headers["x-ai-platform-model"] = first.served_by
    if first.hops:
        headers["x-ai-platform-route"] = ">".join(first.hops)
    return StreamingResponse(
        _sse(ctx, first, chunks, chat.wants_usage, request_id),
        media_type="text/event-stream",
        headers=headers,
    )


async def _sse(
    ctx: RequestContext,
    first: RoutedChunk,
    chunks: AsyncGenerator[RoutedChunk],
    wants_usage: bool,
    request_id: str,
) -> AsyncIterator[bytes]:
    try:
        chunk: RoutedChunk | None = first
        while chunk is not None:
            if chunk.payload and (wants_usage or not chunk.usage_only):
                yield b"data: " + chunk.payload + b"\n\n"
            chunk = await anext(chunks, None)
        yield DONE
    except AIServiceError as exc:
        # Mid-stream, the status is already sent: OpenAI's convention is an error event.
        ctx.fail(exc)
        yield b"data: " + error_body(exc, request_id) + b"\n\n"
    except BaseException as exc:
        ctx.fail(exc)
        raise
    finally:
        await chunks.aclose()
        await ctx.finish()


@router.post(
    "/embeddings",
    summary="Embeddings (OpenAI-compatible, governed)",
    openapi_extra=_EMBEDDINGS_BODY,
)
async def embeddings(request: Request) -> Response:
    """The OpenAI Embeddings API; the answer is the provider's body."""
    platform: PlatformState = request.app.state.platform
    request_id: str = request.scope["state"]["request_id"]
    ctx: RequestContext | None = None
    try:
        client = await _client(request, platform)
        body = parse_embeddings(
            await request.body(), default_model=platform.settings.embedding_model
        )
        _allowed(platform, client, body.model, embedding=True)
        ctx = await _begin(request, platform, client)
        raw, _ = await platform.governor.embed_call(ctx, body.params, body.prompt_tokens)
        await ctx.finish()
        return Response(raw.body, media_type="application/json", headers=_usage_headers(ctx))
    except AIServiceError as exc:
        if ctx is not None:
            ctx.fail(exc)
            await ctx.finish()
        return error_response(exc, request_id)


@router.get("/models", summary="Models this key may use (OpenAI-compatible)")
async def models(request: Request) -> Response:
    """Route aliases and priced models, as OpenAI's model list (``created`` is 0: the
    platform does not know when a provider made a model)."""
    platform: PlatformState = request.app.state.platform
    request_id: str = request.scope["state"]["request_id"]
    try:
        client = await _client(request, platform)
    except AIServiceError as exc:
        return error_response(exc, request_id)
    settings = platform.settings
    names = {
        *platform.llm.routes.aliases(),
        *platform.llm.prices.chat_models(),
        settings.default_model,
        settings.embedding_model,
    }
    if client.allowed_models is not None:
        names &= set(client.allowed_models)
    data = [
        {"id": name, "object": "model", "created": 0, "owned_by": "ai-platform"}
        for name in sorted(names)
    ]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")
