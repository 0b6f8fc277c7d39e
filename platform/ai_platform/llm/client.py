"""The platform's only way to reach an LLM: the official ``openai`` SDK, wrapped with
explicit timeouts, bounded retries, a circuit breaker, usage and cost.

``AsyncOpenAI`` serves OpenAI and any OpenAI-compatible server (the bundled simulator,
vLLM, Ollama, LM Studio, a LiteLLM proxy); ``AsyncAzureOpenAI`` serves Azure OpenAI,
where the deployment name is passed as the model. The SDK's own retries are switched
off (``max_retries=0``) so that one policy decides: which failures to retry, how long
to wait, when to stop calling a failing provider, and which platform error a caller
sees (see ``failures.py``).

One client per process, created at start-up and closed at shutdown; it holds the
connection pool, so creating one per request would throw the pool away.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx
import httpx2
import openai
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion_usage import CompletionUsage

from ai_platform.core.errors import BadRequestError, ServiceUnavailableError
from ai_platform.llm.breaker import BreakerOpen, BreakerState, CircuitBreaker
from ai_platform.llm.failures import Failure, classify
from ai_platform.llm.images import image_part, image_url_part, text_part
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.retry import RetryPolicy
from ai_platform.llm.tokens import estimate_messages_tokens, estimate_text_tokens
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


class LLMClient:
    def __init__(
        self,
        sdk: openai.AsyncOpenAI,
        *,
        provider: str,
        prices: PriceTable,
        default_model: str,
        embedding_model: str,
        max_output_tokens: int = 1024,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        timer: Callable[[], float] = time.perf_counter,
        ping_timeout_s: float = DEFAULT_PING_TIMEOUT_S,
    ) -> None:
        self.sdk = sdk
        self.provider = provider
        self.prices = prices
        self.default_model = default_model
        self.embedding_model = embedding_model
        self.max_output_tokens = max_output_tokens
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(provider)
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

        ``http_client`` replaces the transport (tests pass an ``httpx.AsyncClient`` over
        a ``MockTransport``); the client then owns it and ``aclose`` closes it.
        ``sleep``, ``clock`` (the breaker's) and ``random`` (the backoff jitter) are
        there so tests can observe waits without waiting.
        """
        timeout = openai.Timeout(
            settings.llm_read_timeout_s, connect=settings.llm_connect_timeout_s
        )
        if http_client is None and settings.llm_http_backend == "aiohttp":
            http_client = openai.DefaultAioHttpClient(timeout=timeout)
        transport = cast("httpx2.AsyncClient | None", http_client)
        sdk: openai.AsyncOpenAI
        default_model = settings.default_model
        if settings.llm_provider == "azure":
            if base_url is not None:
                raise ValueError("base_url does not apply to Azure; set AZURE_OPENAI_ENDPOINT")
            if not settings.azure_openai_endpoint or settings.azure_openai_api_key is None:
                raise ValueError("AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY are required")
            sdk = openai.AsyncAzureOpenAI(
                azure_endpoint=settings.azure_openai_endpoint,
                api_key=settings.azure_openai_api_key.get_secret_value(),
                api_version=settings.azure_openai_api_version,
                timeout=timeout,
                max_retries=0,
                http_client=transport,
            )
            default_model = settings.azure_openai_deployment or settings.default_model
        else:
            url = base_url or settings.llm_base_url
            if settings.llm_provider == "simulator" and not url:
                raise ValueError(
                    "the simulator's address is needed: pass base_url= (the embedded "
                    "simulator's) or set LLM_BASE_URL"
                )
            sdk = openai.AsyncOpenAI(
                api_key=settings.llm_api_key.get_secret_value(),
                base_url=url,
                timeout=timeout,
                max_retries=0,
                http_client=transport,
            )
        retry_kwargs: dict[str, Any] = {} if random is None else {"jitter": random}
        return cls(
            sdk,
            provider=settings.llm_provider,
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
            breaker=CircuitBreaker(
                settings.llm_provider,
                failure_threshold=settings.llm_breaker_failures,
                reset_timeout_s=settings.llm_breaker_reset_s,
                clock=clock,
            ),
            sleep=sleep,
        )

    @property
    def base_url(self) -> str:
        return str(self.sdk.base_url)

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
        requested = model or self.default_model
        params = self._chat_params(
            messages,
            requested,
            max_tokens,
            temperature,
            tools,
            tool_choice,
            response_format,
            n,
            extra,
        )
        started = self._timer()

        async def attempt() -> ChatCompletion:
            return cast(ChatCompletion, await self.sdk.chat.completions.create(**params))

        completion, attempts = await self._with_retries(attempt)
        latency_ms = (self._timer() - started) * 1000
        choices = [_choice_from_completion(choice) for choice in completion.choices]
        usage = _usage(completion.usage)
        if usage is None:
            usage = _estimated_usage(messages, tools, choices)
        return self._result(
            choices,
            reported_model=completion.model,
            requested_model=requested,
            usage=usage,
            latency_ms=latency_ms,
            attempts=attempts,
            request_id=getattr(completion, "_request_id", None),
        )

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

        Retries happen only until the first chunk arrives; once text has been handed
        on, a failure is raised as the mapped platform error.
        """
        requested = model or self.default_model
        params = self._chat_params(
            messages,
            requested,
            max_tokens,
            temperature,
            tools,
            tool_choice,
            response_format,
            n,
            extra,
        )
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
        started = self._timer()

        async def attempt() -> tuple[
            openai.AsyncStream[ChatCompletionChunk], ChatCompletionChunk | None, float
        ]:
            stream = cast(
                openai.AsyncStream[ChatCompletionChunk],
                await self.sdk.chat.completions.create(**params),
            )
            try:
                first: ChatCompletionChunk | None = await stream.__anext__()
            except StopAsyncIteration:
                first = None
            except BaseException:
                await stream.close()
                raise
            return stream, first, self._timer()

        (stream, chunk, received_at), attempts = await self._with_retries(attempt)
        assembly = _StreamAssembly()
        try:
            while chunk is not None:
                for event in assembly.feed(chunk, received_at - started):
                    yield event
                try:
                    chunk = await stream.__anext__()
                except StopAsyncIteration:
                    chunk = None
                except Exception as exc:
                    failure = classify(exc)
                    if failure is None:
                        raise
                    if failure.provider_unhealthy:
                        self.breaker.record_failure()
                    raise failure.to_error(self.provider, attempts=attempts) from exc
                received_at = self._timer()
            for event in assembly.finish():
                yield event
        finally:
            await stream.close()
        choices = assembly.choices()
        usage = assembly.usage or _estimated_usage(messages, tools, choices)
        yield StreamDone(
            self._result(
                choices,
                reported_model=assembly.model,
                requested_model=requested,
                usage=usage,
                latency_ms=(self._timer() - started) * 1000,
                attempts=attempts,
                request_id=getattr(stream.response, "headers", {}).get("x-request-id"),
                ttft_ms=assembly.ttft_ms,
            )
        )

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
        for offset in range(0, len(texts), EMBED_BATCH):
            batch = list(texts[offset : offset + EMBED_BATCH])

            async def attempt(batch: list[str] = batch) -> CreateEmbeddingResponse:
                return await self.sdk.embeddings.create(
                    model=requested, input=batch, encoding_format="float"
                )

            response, tries = await self._with_retries(attempt)
            attempts += tries
            vectors.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
            if response.usage is not None:
                prompt_tokens += response.usage.prompt_tokens
            else:
                prompt_tokens += sum(estimate_text_tokens(text) for text in batch)
            reported = response.model or reported
        price_model = self._price_model(reported, requested)
        return EmbeddingResult(
            vectors=vectors,
            model=reported or requested,
            usage=Usage(prompt_tokens=prompt_tokens),
            latency_ms=(self._timer() - started) * 1000,
            cost_usd=self.prices.cost_usd(price_model, prompt_tokens, 0),
            price_known=self.prices.is_known(price_model),
            attempts=attempts,
        )

    # -- readiness, cost, lifecycle -----------------------------------------------------

    async def ping(self, timeout_s: float | None = None) -> None:
        """Cheap readiness check (``GET /models``), outside retries and the breaker so
        that probes neither wait on backoff nor move the breaker."""
        try:
            await self.sdk.models.list(timeout=timeout_s or self.ping_timeout_s)
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            raise failure.to_error(self.provider, attempts=1) from exc

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

    def status(self) -> dict[str, Any]:
        """For readiness and metrics: provider, address and breaker state."""
        return {
            "provider": self.provider,
            "base_url": self.base_url,
            "breaker": self.breaker.snapshot(),
        }

    async def aclose(self) -> None:
        """Close the connection pool (an injected ``http_client`` included)."""
        await self.sdk.close()

    # -- internals ---------------------------------------------------------------------

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        attempts = 0
        last: tuple[Failure, Exception] | None = None
        while True:
            try:
                self.breaker.before_call()
            except BreakerOpen as exc:
                if last is not None:
                    # The breaker opened while this request was retrying: report the
                    # failure that was actually seen.
                    raise last[0].to_error(self.provider, attempts=attempts) from last[1]
                wait = max(1.0, exc.retry_after)
                raise ServiceUnavailableError(
                    f"{self.provider} is failing; calls are paused for {wait:.0f}s",
                    details={"provider": self.provider, "breaker": self.breaker.state.value},
                    headers={"Retry-After": str(int(wait + 0.999))},
                ) from exc
            attempts += 1
            try:
                result = await attempt()
            except BaseException as exc:
                failure = classify(exc) if isinstance(exc, Exception) else None
                if failure is None:
                    # Cancelled, or not an upstream failure: no verdict on the provider.
                    self.breaker.record_abandoned()
                    raise
                assert isinstance(exc, Exception)
                if failure.provider_unhealthy:
                    self.breaker.record_failure()
                else:
                    self.breaker.record_success()
                if not failure.retryable or attempts > self.retry.max_retries:
                    raise failure.to_error(self.provider, attempts=attempts) from exc
                last = (failure, exc)
                await self._sleep(self.retry.delay(attempts - 1, failure.retry_after))
                continue
            self.breaker.record_success()
            return result, attempts

    def _chat_params(
        self,
        messages: Messages,
        model: str,
        max_tokens: int | None,
        temperature: float | None,
        tools: Sequence[Mapping[str, Any]] | None,
        tool_choice: str | Mapping[str, Any] | None,
        response_format: Mapping[str, Any] | None,
        n: int,
        extra: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
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
        )


# -- response shaping --------------------------------------------------------------------


def _usage(usage: CompletionUsage | None) -> Usage | None:
    if usage is None:
        return None
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else None
    reasoning = (
        usage.completion_tokens_details.reasoning_tokens
        if usage.completion_tokens_details
        else None
    )
    return Usage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=cached or 0,
        reasoning_tokens=reasoning or 0,
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


def _choice_from_completion(choice: Any) -> ChatChoice:
    message = choice.message
    calls: list[ToolCall] = []
    for call in message.tool_calls or ():
        function = getattr(call, "function", None)
        if function is not None:
            calls.append(ToolCall.from_raw(call.id, function.name, function.arguments or ""))
        else:
            custom = call.custom
            calls.append(
                ToolCall(
                    id=call.id, name=custom.name, arguments=custom.input, raw_arguments=custom.input
                )
            )
    return ChatChoice(
        index=choice.index,
        content=message.content,
        tool_calls=calls,
        finish_reason=choice.finish_reason,
        refusal=getattr(message, "refusal", None),
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

    def feed(self, chunk: ChatCompletionChunk, elapsed_s: float) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if chunk.model and not self.model:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        for choice in chunk.choices:
            parts = self._choices.setdefault(choice.index, _ChoiceParts())
            delta = choice.delta
            produced = False
            if delta.content:
                parts.content.append(delta.content)
                events.append(ContentDelta(delta.content, choice.index))
                produced = True
            if delta.refusal:
                parts.refusal.append(delta.refusal)
                produced = True
            for piece in delta.tool_calls or ():
                produced = True
                call = parts.tools.setdefault(piece.index, _ToolCallParts())
                if piece.id:
                    call.id = piece.id
                function = piece.function
                if function is not None:
                    # OpenAI sends the name once; some compatible servers repeat it whole.
                    if function.name and function.name != call.name:
                        call.name += function.name
                    if function.arguments:
                        call.arguments.append(function.arguments)
            if produced and self.ttft_ms is None:
                self.ttft_ms = elapsed_s * 1000
            if choice.finish_reason is not None:
                parts.finish_reason = choice.finish_reason
                events.extend(self._emit_tools(choice.index, parts))
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
