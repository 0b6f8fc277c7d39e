"""The platform's only way to reach an LLM: the OpenAI wire format, with explicit
timeouts, bounded retries, a circuit breaker per deployment, model routing with
fallbacks, usage and cost.

Bytes travel by one of two transports (``transports.py``): aiohttp + orjson (the
default, the hot path) or the official ``openai`` SDK's HTTP layer. Either way the
response is parsed here once, from its JSON: the choices, usage, tool calls and finish
reason that governance needs. The SDK's own retries are off (``max_retries=0``) so
that one policy decides which failures to retry, how long to wait, when to stop
calling a failing deployment, when to fall back to the next, and which platform error
a caller sees (see ``failures.py``).

One client per process, created at start-up and closed at shutdown; it holds the
connection pools, so creating one per request would throw them away.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import httpx2
import openai
import orjson

from ai_platform.core.errors import AIServiceError, BadRequestError, ServiceUnavailableError
from ai_platform.llm.breaker import BreakerOpen, BreakerState, CircuitBreaker
from ai_platform.llm.failures import Failure, classify
from ai_platform.llm.images import image_part, image_url_part, text_part
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.retry import RetryPolicy
from ai_platform.llm.routing import ModelRoutes, Target, build_routes
from ai_platform.llm.tokens import estimate_messages_tokens, estimate_text_tokens
from ai_platform.llm.transports import Raw, SdkTransport, WireProtocolError
from ai_platform.llm.types import (
    ChatChoice,
    ChatResult,
    ContentDelta,
    EmbeddingResult,
    StreamDone,
    StreamEvent,
    ToolCall,
    ToolCallReady,
    Usage,
)

if TYPE_CHECKING:
    from ai_platform.config import Settings

__all__ = [
    "BreakerState",
    "ChatResult",
    "EmbeddingResult",
    "LLMClient",
    "RoutedChunk",
    "StreamEvent",
    "image_part",
    "image_url_part",
    "text_part",
]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Messages = Sequence[Mapping[str, Any]]

# OpenAI caps one embeddings request at 2048 inputs.
EMBED_BATCH = 2048
DEFAULT_PING_TIMEOUT_S = 5.0
# Reasoning models refuse ``max_tokens`` and want ``max_completion_tokens``; older
# OpenAI-compatible servers know only ``max_tokens``, so the choice goes by model name.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


@dataclass(frozen=True, slots=True)
class RoutedChunk:
    """One ``data:`` payload of a stream as the provider sent it, and what it meant."""

    payload: bytes
    events: list[StreamEvent]
    usage_only: bool = False
    """A final chunk carrying only usage (``stream_options.include_usage``)."""
    hops: tuple[str, ...] = ()
    """On the first chunk: the deployments tried before this one answered."""
    served_by: str | None = None
    """On the first chunk: the model name the serving deployment was asked for."""


class _RouteFailed(Exception):
    def __init__(self, error: AIServiceError, fallback: bool) -> None:
        self.error = error
        self.fallback = fallback


class LLMClient:
    def __init__(
        self,
        routes: ModelRoutes,
        *,
        prices: PriceTable,
        default_model: str,
        embedding_model: str,
        max_output_tokens: int = 1024,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        timer: Callable[[], float] = time.perf_counter,
        ping_timeout_s: float = DEFAULT_PING_TIMEOUT_S,
    ) -> None:
        self.routes = routes
        self.prices = prices
        self.default_model = default_model
        self.embedding_model = embedding_model
        self.max_output_tokens = max_output_tokens
        self.retry = retry or RetryPolicy()
        self.ping_timeout_s = ping_timeout_s
        self._sleep = sleep
        self._timer = timer

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        base_url: str | None = None,
        prices: PriceTable | None = None,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] | None = None,
    ) -> LLMClient:
        """Build the client the settings describe.

        ``base_url`` overrides ``LLM_BASE_URL`` (the platform passes the embedded
        simulator's address). On Azure the chat model defaults to
        ``AZURE_OPENAI_DEPLOYMENT`` and embeddings go to the deployment named by
        ``EMBEDDING_MODEL``; costs are priced by the model the response reports.

        ``http_client`` replaces the primary deployment's transport with the SDK over
        that client (tests pass an ``httpx.AsyncClient`` over a ``MockTransport``); the
        client then owns it and ``aclose`` closes it. ``sleep``, ``clock`` (the
        breakers') and ``random`` (the backoff jitter) are there so tests can observe
        waits without waiting.
        """
        routes = build_routes(settings, base_url=base_url, http_client=http_client, clock=clock)
        default_model = settings.default_model
        if settings.llm_provider == "azure":
            default_model = settings.azure_openai_deployment or settings.default_model
        retry_kwargs: dict[str, Any] = {} if random is None else {"jitter": random}
        return cls(
            routes,
            prices=prices or PriceTable.load(settings.price_table_path),
            default_model=default_model,
            embedding_model=settings.embedding_model,
            max_output_tokens=settings.llm_max_output_tokens,
            retry=RetryPolicy(
                max_retries=settings.llm_max_retries,
                backoff_base_s=settings.llm_backoff_base_s,
                backoff_max_s=settings.llm_backoff_max_s,
                **retry_kwargs,
            ),
            sleep=sleep,
        )

    # The primary deployment: what a single-provider setup has, and what readiness,
    # status and the tests look at.

    @property
    def provider(self) -> str:
        return self.routes.primary_deployment.provider

    @property
    def breaker(self) -> CircuitBreaker:
        return self.routes.primary_deployment.breaker

    @property
    def base_url(self) -> str:
        return self.routes.primary_deployment.transport.base_url

    @property
    def sdk(self) -> openai.AsyncOpenAI:
        transport = self.routes.primary_deployment.transport
        if not isinstance(transport, SdkTransport):
            raise AttributeError("the primary deployment is on the wire transport (no SDK)")
        return transport.sdk

    # -- chat --------------------------------------------------------------------------

    async def chat(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        n: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """One chat completion. ``response_format={"type": "json_object"}`` is JSON mode;
        ``extra`` carries other request fields (``seed``, ``stop``, ``top_p``, ...)."""
        params = self.chat_params(
            messages,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            tools=tools,
            tool_choice=tool_choice,
            response_format=response_format,
            n=n,
            extra=extra,
        )
        _, result = await self.chat_raw(params)
        return result

    async def chat_raw(self, params: Mapping[str, Any]) -> tuple[Raw, ChatResult]:
        """Send a complete request body (``model`` is the alias asked for) along its
        route; the provider's bytes and the result parsed from them."""
        requested = str(params["model"])
        started = self._timer()

        async def attempt(target: Target) -> Raw:
            return await target.deployment.transport.post(
                "/chat/completions", _for_target(params, target)
            )

        raw, target, attempts, hops = await self._routed(requested, attempt)
        data = raw.data
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise Failure("protocol", message="a chat completion without choices").to_error(
                target.deployment.provider, attempts=attempts
            )
        choices = [_choice(choice) for choice in data["choices"]]
        usage = _usage(data.get("usage"))
        if usage is None:
            usage = _estimated_usage(params.get("messages", ()), params.get("tools"), choices)
        result = self._result(
            choices,
            reported_model=str(data.get("model") or ""),
            requested_model=target.model,
            usage=usage,
            latency_ms=(self._timer() - started) * 1000,
            attempts=attempts,
            request_id=raw.request_id,
            deployment=target.deployment.name,
            hops=hops,
        )
        return raw, result

    async def stream_chat(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        n: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream a chat completion: ``ContentDelta`` events as text arrives,
        ``ToolCallReady`` once a choice's tool calls are complete, and one final
        ``StreamDone`` with usage, finish reason, cost and time to first token.

        Retries (and fallbacks) happen only until the first chunk arrives; once text
        has been handed on, a failure is raised as the mapped platform error.
        """
        params = self.chat_params(
            messages,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            tools=tools,
            tool_choice=tool_choice,
            response_format=response_format,
            n=n,
            extra=extra,
        )
        chunks = self.stream_raw(params)
        try:
            async for chunk in chunks:
                for event in chunk.events:
                    yield event
        finally:
            await chunks.aclose()

    async def stream_raw(self, params: Mapping[str, Any]) -> AsyncGenerator[RoutedChunk]:
        """Stream a complete request body along its route: each provider payload with
        its events; the last chunk's events end with ``StreamDone``. Usage is always
        asked for (``stream_options.include_usage``): budgets need it."""
        requested = str(params["model"])
        body = dict(params)
        body["stream"] = True
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True
        body["stream_options"] = options
        started = self._timer()

        async def attempt(target: Target) -> tuple[Any, Any, bytes | None, float]:
            opened = target.deployment.transport.stream(
                "/chat/completions", _for_target(body, target)
            )
            payloads = await opened.__aenter__()
            try:
                first: bytes | None = await anext(payloads)
            except StopAsyncIteration:
                first = None
            except BaseException as exc:
                await opened.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            return opened, payloads, first, self._timer()

        (opened, payloads, payload, received_at), target, attempts, hops = await self._routed(
            requested, attempt
        )
        assembly = _StreamAssembly()
        failure: BaseException | None = None
        route: tuple[str, ...] = tuple(hops)
        served_by: str | None = target.model
        try:
            while payload is not None:
                try:
                    chunk = _loads_chunk(payload)
                except WireProtocolError as exc:
                    # An error event or a broken chunk mid-stream: the provider failed.
                    target.deployment.breaker.record_failure()
                    raise Failure("protocol", message=str(exc)).to_error(
                        target.deployment.provider, attempts=attempts
                    ) from exc
                events = assembly.feed(chunk, received_at - started)
                yield RoutedChunk(
                    payload,
                    events,
                    usage_only=not chunk.get("choices"),
                    hops=route,
                    served_by=served_by,
                )
                route, served_by = (), None
                try:
                    payload = await anext(payloads)
                except StopAsyncIteration:
                    payload = None
                except Exception as exc:
                    found = classify(exc)
                    if found is None:
                        raise
                    if found.provider_unhealthy:
                        target.deployment.breaker.record_failure()
                    raise found.to_error(target.deployment.provider, attempts=attempts) from exc
                received_at = self._timer()
            tail = assembly.finish()
        except BaseException as exc:
            failure = exc
            raise
        finally:
            if failure is None:
                await opened.__aexit__(None, None, None)
            else:
                await opened.__aexit__(type(failure), failure, failure.__traceback__)
        choices = assembly.choices()
        usage = assembly.usage or _estimated_usage(
            params.get("messages", ()), params.get("tools"), choices
        )
        done = StreamDone(
            self._result(
                choices,
                reported_model=assembly.model,
                requested_model=target.model,
                usage=usage,
                latency_ms=(self._timer() - started) * 1000,
                attempts=attempts,
                request_id=None,
                ttft_ms=assembly.ttft_ms,
                deployment=target.deployment.name,
                hops=hops,
            )
        )
        yield RoutedChunk(b"", [*tail, done])

    # -- embeddings --------------------------------------------------------------------

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> EmbeddingResult:
        """Embeddings of ``texts``, in order; requests of more than 2048 texts are split."""
        requested = model or self.embedding_model
        if isinstance(texts, str):
            raise BadRequestError("embed() takes a list of texts, not one string")
        started = self._timer()
        vectors: list[list[float]] = []
        prompt_tokens = 0
        reported = ""
        attempts = 0
        served = requested
        for offset in range(0, len(texts), EMBED_BATCH):
            batch = list(texts[offset : offset + EMBED_BATCH])
            raw, result = await self.embed_raw(
                {"model": requested, "input": batch, "encoding_format": "float"}
            )
            data = raw.data
            items = sorted(data.get("data") or (), key=lambda d: d.get("index", 0))
            vectors.extend(item["embedding"] for item in items)
            prompt_tokens += result.usage.prompt_tokens
            attempts += result.attempts
            reported = result.model or reported
            served = result.model
        price_model = self._price_model(reported, served)
        return EmbeddingResult(
            vectors=vectors,
            model=reported or requested,
            usage=Usage(prompt_tokens=prompt_tokens),
            latency_ms=(self._timer() - started) * 1000,
            cost_usd=self.prices.cost_usd(price_model, prompt_tokens, 0),
            price_known=self.prices.is_known(price_model),
            attempts=attempts,
        )

    async def embed_raw(self, params: Mapping[str, Any]) -> tuple[Raw, EmbeddingResult]:
        """Send an embeddings request body along its route; the provider's bytes and
        the usage and cost read from them (the vectors are left in the bytes)."""
        requested = str(params["model"])
        started = self._timer()

        async def attempt(target: Target) -> Raw:
            return await target.deployment.transport.post(
                "/embeddings", _for_target(params, target)
            )

        raw, target, attempts, _ = await self._routed(requested, attempt)
        data = raw.data
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise Failure("protocol", message="an embeddings response without data").to_error(
                target.deployment.provider, attempts=attempts
            )
        usage = data.get("usage") or {}
        prompt_tokens = usage.get("prompt_tokens")
        if not isinstance(prompt_tokens, int):
            inputs = params.get("input")
            texts = [inputs] if isinstance(inputs, str) else list(inputs or ())
            prompt_tokens = sum(estimate_text_tokens(str(t)) for t in texts)
        reported = str(data.get("model") or "")
        price_model = self._price_model(reported, target.model)
        return raw, EmbeddingResult(
            vectors=[],
            model=reported or target.model,
            usage=Usage(prompt_tokens=prompt_tokens),
            latency_ms=(self._timer() - started) * 1000,
            cost_usd=self.prices.cost_usd(price_model, prompt_tokens, 0),
            price_known=self.prices.is_known(price_model),
            attempts=attempts,
        )

    # -- readiness, cost, lifecycle -----------------------------------------------------

    async def ping(self, timeout_s: float | None = None) -> None:
        """Cheap readiness check (``GET /models`` on the primary deployment), outside
        retries and the breaker so that probes neither wait on backoff nor move it."""
        deployment = self.routes.primary_deployment
        try:
            await deployment.transport.get("/models", timeout_s=timeout_s or self.ping_timeout_s)
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            raise failure.to_error(deployment.provider, attempts=1) from exc

    def worst_case_cost_usd(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> float:
        """The most a chat call can cost: estimated prompt, every output token used.
        What a budget reserves before the call."""
        prompt = estimate_messages_tokens(messages, tools=tools)
        limit = max_tokens if max_tokens is not None else self.max_output_tokens
        return self.prices.max_cost_usd(model or self.default_model, prompt, limit)

    def price_model(self, requested: str) -> str:
        """The model a reservation for ``requested`` is priced as: the first target's."""
        return self.routes.resolve(requested)[0].model

    def status(self) -> dict[str, Any]:
        """For readiness and metrics: provider, address and breaker state (the primary
        deployment's), and every deployment's breaker."""
        return {
            "provider": self.provider,
            "base_url": self.base_url,
            "breaker": self.breaker.snapshot(),
            "deployments": {
                name: {"provider": d.provider, "breaker": d.breaker.state.value}
                for name, d in self.routes.deployments.items()
            },
        }

    async def aclose(self) -> None:
        """Close the connection pools (an injected ``http_client`` included)."""
        await self.routes.aclose()

    # -- internals ---------------------------------------------------------------------

    async def _routed(
        self, requested: str, attempt: Callable[[Target], Awaitable[T]]
    ) -> tuple[T, Target, int, list[str]]:
        """``attempt`` along the route of ``requested``: retries on the last target,
        one try on each earlier one, then on to the next when it failed in a way
        another deployment may not (429, 5xx, timeout, unreachable, breaker open)."""
        targets = self.routes.resolve(requested)
        hops: list[str] = []
        total = 0
        for position, target in enumerate(targets):
            last = position == len(targets) - 1
            retries = self.retry.max_retries if last else 0
            try:
                result, attempts = await self._with_retries(target, attempt, retries)
            except _RouteFailed as failed:
                hops.append(f"{target.label}:{failed.error.error_code}")
                if last or not failed.fallback:
                    if len(targets) > 1:
                        details = failed.error.details
                        if not isinstance(details, dict):
                            details = failed.error.details = {}
                        details["hops"] = hops
                    raise failed.error from failed.error.__cause__
                continue
            total += attempts
            if len(targets) > 1:
                hops.append(f"{target.label}:ok")
            return result, target, total, hops
        raise AssertionError("a route has at least one target")

    async def _with_retries(
        self, target: Target, attempt: Callable[[Target], Awaitable[T]], max_retries: int
    ) -> tuple[T, int]:
        deployment = target.deployment
        breaker = deployment.breaker
        attempts = 0
        last: tuple[Failure, Exception] | None = None
        while True:
            try:
                breaker.before_call()
            except BreakerOpen as exc:
                if last is not None:
                    # The breaker opened while this request was retrying: report the
                    # failure that was actually seen.
                    error = last[0].to_error(deployment.provider, attempts=attempts)
                    error.__cause__ = last[1]
                    raise _RouteFailed(error, fallback=True) from last[1]
                wait = max(1.0, exc.retry_after)
                raise _RouteFailed(
                    ServiceUnavailableError(
                        f"{deployment.provider} is failing; calls are paused for {wait:.0f}s",
                        details={"provider": deployment.provider, "breaker": breaker.state.value},
                        headers={"Retry-After": str(int(wait + 0.999))},
                    ),
                    fallback=True,
                ) from exc
            attempts += 1
            try:
                result = await attempt(target)
            except BaseException as exc:
                failure = classify(exc) if isinstance(exc, Exception) else None
                if failure is None:
                    # Cancelled, or not an upstream failure: no verdict on the provider.
                    breaker.record_abandoned()
                    raise
                assert isinstance(exc, Exception)
                if failure.provider_unhealthy:
                    breaker.record_failure()
                else:
                    breaker.record_success()
                if not failure.retryable or attempts > max_retries:
                    error = failure.to_error(deployment.provider, attempts=attempts)
                    error.__cause__ = exc
                    raise _RouteFailed(error, fallback=failure.retryable) from exc
                last = (failure, exc)
                await self._sleep(self.retry.delay(attempts - 1, failure.retry_after))
                continue
            breaker.record_success()
            return result, attempts

    def chat_params(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        n: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The request body ``chat`` sends (``model`` still the alias the caller named)."""
        model = model or self.default_model
        if not messages:
            raise BadRequestError("at least one message is required")
        if n < 1:
            raise BadRequestError("n must be at least 1")
        limit = max_tokens if max_tokens is not None else self.max_output_tokens
        if limit < 1:
            raise BadRequestError("max_tokens must be at least 1")
        params: dict[str, Any] = dict(extra or {})
        params["model"] = model
        params["messages"] = [dict(message) for message in messages]
        bare = model.lower().rsplit("/", 1)[-1]
        params["max_completion_tokens" if _REASONING_MODEL.match(bare) else "max_tokens"] = limit
        if temperature is not None:
            params["temperature"] = temperature
        if tools:
            params["tools"] = [dict(tool) for tool in tools]
        if tool_choice is not None:
            params["tool_choice"] = (
                tool_choice if isinstance(tool_choice, str) else dict(tool_choice)
            )
        if response_format is not None:
            params["response_format"] = dict(response_format)
        if n != 1:
            params["n"] = n
        return params

    def _price_model(self, reported: str, requested: str) -> str:
        # The reported model names the snapshot that ran (and is the only real model
        # name on Azure, where the request names a deployment); the requested name is
        # the fallback when the server reports something the table does not know.
        if reported and (self.prices.is_known(reported) or not self.prices.is_known(requested)):
            return reported
        return requested

    def _result(
        self,
        choices: list[ChatChoice],
        *,
        reported_model: str,
        requested_model: str,
        usage: Usage,
        latency_ms: float,
        attempts: int,
        request_id: str | None,
        ttft_ms: float | None = None,
        deployment: str | None = None,
        hops: Sequence[str] = (),
    ) -> ChatResult:
        price_model = self._price_model(reported_model, requested_model)
        first = choices[0] if choices else ChatChoice(0, None, [], None)
        return ChatResult(
            content=first.content,
            tool_calls=first.tool_calls,
            finish_reason=first.finish_reason,
            model=reported_model or requested_model,
            usage=usage,
            latency_ms=latency_ms,
            cost_usd=self.prices.cost_usd(
                price_model, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens
            ),
            price_known=self.prices.is_known(price_model),
            attempts=attempts,
            ttft_ms=ttft_ms,
            request_id=request_id,
            refusal=first.refusal,
            choices=choices,
            deployment=deployment,
            hops=tuple(hops),
        )


# -- response shaping --------------------------------------------------------------------


def _for_target(params: Mapping[str, Any], target: Target) -> Mapping[str, Any]:
    if params.get("model") == target.model:
        return params
    body = dict(params)
    body["model"] = target.model
    return body


def _loads_chunk(payload: bytes) -> dict[str, Any]:
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise WireProtocolError(f"a stream chunk is not JSON: {payload[:80]!r}") from exc
    if not isinstance(chunk, dict):
        raise WireProtocolError("a stream chunk is not a JSON object")
    error = chunk.get("error")
    if error is not None:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise WireProtocolError(str(message or "error event in the stream"))
    return chunk


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")),
        cached_tokens=_int(prompt_details.get("cached_tokens")),
        reasoning_tokens=_int(completion_details.get("reasoning_tokens")),
    )


def _estimated_usage(
    messages: Messages, tools: Sequence[Mapping[str, Any]] | None, choices: list[ChatChoice]
) -> Usage:
    # Some OpenAI-compatible servers send no usage; budgets still need a number.
    completion = 0
    for choice in choices:
        completion += estimate_text_tokens(choice.content or "")
        completion += sum(
            estimate_text_tokens(call.name) + estimate_text_tokens(call.raw_arguments)
            for call in choice.tool_calls
        )
    return Usage(
        prompt_tokens=estimate_messages_tokens(messages, tools=tools),
        completion_tokens=completion,
        estimated=True,
    )


def _choice(choice: dict[str, Any]) -> ChatChoice:
    message = choice.get("message") or {}
    calls: list[ToolCall] = []
    for call in message.get("tool_calls") or ():
        function = call.get("function")
        if function is not None:
            calls.append(
                ToolCall.from_raw(
                    call.get("id", ""), function.get("name", ""), function.get("arguments") or ""
                )
            )
        else:
            custom = call.get("custom") or {}
            text = str(custom.get("input", ""))
            calls.append(
                ToolCall(
                    id=call.get("id", ""),
                    name=custom.get("name", ""),
                    arguments=text,
                    raw_arguments=text,
                )
            )
    return ChatChoice(
        index=_int(choice.get("index")),
        content=message.get("content"),
        tool_calls=calls,
        finish_reason=choice.get("finish_reason"),
        refusal=message.get("refusal"),
    )


@dataclass(slots=True)
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def build(self) -> ToolCall:
        return ToolCall.from_raw(self.id, self.name, "".join(self.arguments))


@dataclass(slots=True)
class _ChoiceParts:
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tools: dict[int, _ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None
    tools_emitted: bool = False

    def tool_calls(self) -> list[ToolCall]:
        return [self.tools[i].build() for i in sorted(self.tools)]


class _StreamAssembly:
    """Folds ``chat.completion.chunk`` events into events and, at the end, choices."""

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceParts] = {}
        self.model = ""
        self.usage: Usage | None = None
        self.ttft_ms: float | None = None

    def feed(self, chunk: dict[str, Any], elapsed_s: float) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        model = chunk.get("model")
        if model and not self.model:
            self.model = str(model)
        usage = chunk.get("usage")
        if usage is not None:
            self.usage = _usage(usage)
        for choice in chunk.get("choices") or ():
            index = _int(choice.get("index"))
            parts = self._choices.setdefault(index, _ChoiceParts())
            delta = choice.get("delta") or {}
            produced = False
            content = delta.get("content")
            if content:
                parts.content.append(content)
                events.append(ContentDelta(content, index))
                produced = True
            refusal = delta.get("refusal")
            if refusal:
                parts.refusal.append(refusal)
                produced = True
            for piece in delta.get("tool_calls") or ():
                produced = True
                call = parts.tools.setdefault(_int(piece.get("index")), _ToolCallParts())
                if piece.get("id"):
                    call.id = piece["id"]
                function = piece.get("function")
                if function is not None:
                    # OpenAI sends the name once; some compatible servers repeat it whole.
                    name = function.get("name")
                    if name and name != call.name:
                        call.name += name
                    if function.get("arguments"):
                        call.arguments.append(function["arguments"])
            if produced and self.ttft_ms is None:
                self.ttft_ms = elapsed_s * 1000
            finish = choice.get("finish_reason")
            if finish is not None:
                parts.finish_reason = finish
                events.extend(self._emit_tools(index, parts))
        return events

    def finish(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for index in sorted(self._choices):
            events.extend(self._emit_tools(index, self._choices[index]))
        return events

    def choices(self) -> list[ChatChoice]:
        return [
            ChatChoice(
                index=index,
                content="".join(parts.content) if parts.content else None,
                tool_calls=parts.tool_calls(),
                finish_reason=parts.finish_reason,
                refusal="".join(parts.refusal) if parts.refusal else None,
            )
            for index, parts in sorted(self._choices.items())
        ]

    @staticmethod
    def _emit_tools(index: int, parts: _ChoiceParts) -> list[StreamEvent]:
        if parts.tools_emitted or not parts.tools:
            return []
        parts.tools_emitted = True
        return [ToolCallReady(call, index) for call in parts.tool_calls()]
