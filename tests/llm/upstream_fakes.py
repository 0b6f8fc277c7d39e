"""A scripted OpenAI-compatible upstream at the HTTP level, for the LLM client tests.

The openai SDK talks to it through a real ``httpx.AsyncClient`` whose transport is an
``httpx.MockTransport``: requests are built, sent and parsed exactly as in production,
only the bytes come from the script.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx

from ai_platform.config import Settings
from ai_platform.llm.client import LLMClient
from ai_platform.llm.pricing import PriceTable

BASE_URL = "http://upstream.test/v1"
Step = httpx.Response | Callable[[httpx.Request], Awaitable[httpx.Response]]


class Upstream:
    """Each request takes the next step of the script; the last step repeats."""

    def __init__(self, *steps: Step) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, httpx.Response):
            return step
        return await step(request)

    def http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) if r.content else {} for r in self.requests]


class Sleeps:
    """Stands in for ``asyncio.sleep``: records each wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": "openai",
        "llm_api_key": "sk-test",
        "llm_base_url": BASE_URL,
        "llm_max_retries": 3,
        "llm_backoff_base_s": 0.5,
        "llm_backoff_max_s": 4.0,
        "llm_breaker_failures": 5,
        "llm_breaker_reset_s": 30.0,
        "default_model": "gpt-4o-mini",
        "embedding_model": "text-embedding-3-small",
        "llm_max_output_tokens": 256,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def make_client(
    upstream: Upstream,
    *,
    sleeps: Sleeps | None = None,
    clock: Clock | None = None,
    jitter: float = 0.5,
    prices: PriceTable | None = None,
    **overrides: Any,
) -> LLMClient:
    return LLMClient.from_settings(
        settings(**overrides),
        http_client=upstream.http_client(),
        sleep=sleeps or Sleeps(),
        clock=clock or Clock(),
        random=lambda: jitter,
        prices=prices,
    )


# -- response builders -------------------------------------------------------------------


def completion(
    content: str | None = "Hello!",
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    prompt_tokens: int = 12,
    completion_tokens: int = 3,
    cached_tokens: int | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    usage: bool = True,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    if usage:
        body["usage"] = usage_body(prompt_tokens, completion_tokens, cached_tokens)
    return httpx.Response(200, json=body, headers=headers)


def usage_body(prompt: int, completion_: int, cached: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion_,
        "total_tokens": prompt + completion_,
    }
    if cached is not None:
        body["prompt_tokens_details"] = {"cached_tokens": cached}
    return body


def error(
    status: int,
    message: str = "upstream says no",
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"error": {"message": message, "type": "error", "param": None, "code": code}}
    return httpx.Response(status, json=body, headers=headers)


def raises(exc_type: type[httpx.TransportError], message: str = "boom") -> Step:
    async def step(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return step


def held(response: httpx.Response, gate: asyncio.Event, entered: asyncio.Event) -> Step:
    """A step that answers only once ``gate`` is set, signalling ``entered`` on arrival."""

    async def step(request: httpx.Request) -> httpx.Response:
        entered.set()
        await gate.wait()
        return response

    return step


def chunk(
    *,
    content: str | None = None,
    role: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    index: int = 0,
    model: str = "gpt-4o-mini-2024-07-18",
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
    }


def usage_chunk(prompt: int, completion_: int, cached: int | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [],
        "usage": usage_body(prompt, completion_, cached),
    }


def sse(
    events: Sequence[dict[str, Any]],
    *,
    delay_s: float = 0.0,
    fail_after: int | None = None,
) -> httpx.Response:
    """An event-stream response: one ``data:`` frame per event, then ``[DONE]``.

    ``delay_s`` spaces the frames out in time; ``fail_after`` breaks the connection
    (``httpx.ReadError``) after that many frames.
    """

    async def body() -> AsyncIterator[bytes]:
        for number, event in enumerate(events):
            if fail_after is not None and number == fail_after:
                raise httpx.ReadError("connection reset mid-stream")
            if delay_s and number:
                await asyncio.sleep(delay_s)
            yield f"data: {json.dumps(event)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def embeddings(
    vectors: Sequence[Sequence[float]], *, model: str, prompt_tokens: int
) -> httpx.Response:
    data = [
        {"object": "embedding", "index": i, "embedding": list(v)} for i, v in enumerate(vectors)
    ]
    return httpx.Response(
        200,
        json={
            "object": "list",
            "data": list(reversed(data)),  # the client must restore input order
            "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        },
    )
