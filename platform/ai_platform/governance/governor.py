"""The Governor: one per process, applying governance around every LLM call.

It holds the shared parts (LLM client, price table, injection detector, and the
limit, budget and ledger backends) and is what ``RequestContext`` delegates to.

The life of a governed request::

    begin()    requests-per-minute hit                      -> 429 rate_limited
    chat()     estimate prompt tokens; reserve tokens/day   -> 429 rate_limited
               reserve worst-case cost from the budget      -> 429 budget_exceeded
               call the LLM; settle both to the actual usage (release on failure)
    finish()   release anything still held; one ledger row; metrics; trace span

Every path ends in ``finish()`` exactly once (the governed dependency, the stream's
own ``finally``, or the gateway's safety net for a stream that never ran), so every
governed request leaves exactly one ledger row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.core.errors import (
    AIServiceError,
    BudgetExceededError,
    PromptInjectionError,
    RateLimitedError,
    ServiceUnavailableError,
)
from ai_platform.governance import metrics
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.budget import Budget, BudgetStatus, MemoryBudget
from ai_platform.governance.context import Hold, RequestContext
from ai_platform.governance.headers import limit_headers
from ai_platform.governance.ledger import (
    WAL_DIRNAME,
    LedgerEntry,
    UsageLedger,
    cost_decimal,
    guardrail_summary,
    hops_summary,
    spent_since,
)
from ai_platform.governance.ratelimit import LimitState, RateLimiter
from ai_platform.governance.tracing import Tracing
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.tokens import estimate_messages_tokens, estimate_text_tokens
from ai_platform.llm.types import ChatResult, ContentDelta, EmbeddingResult, StreamDone, StreamEvent

if TYPE_CHECKING:
    from ai_platform.governance.screening import InjectionDetector, ScreeningResult
    from ai_platform.llm.client import LLMClient, RoutedChunk
    from ai_platform.llm.transports import Raw
    from ai_platform.services.peers import KnowledgeSearch

logger = logging.getLogger("ai_platform.governance")

DEFAULT_KEY_PREFIX = "aip"
LEDGERED_BY_CALLER = "ledgered_by_caller"
"""``ctx.extra`` flag of a call one service makes to another for a request the caller
ledgers: its usage travels back in the envelope and lands on the caller's row."""
STREAM_CHECKPOINT_S = 0.5
"""How often a stream logs its estimated usage so far (what a crash would bill)."""

Pending = tuple[int, int, float]
"""(prompt tokens, completion tokens, USD) of a call still streaming: an estimate."""
NO_PENDING: Pending = (0, 0, 0.0)


def _shielded() -> anyio.CancelScope:
    # Settling and releasing must complete even when the request's task is being
    # cancelled (a client that disconnects mid-stream): otherwise budget stays held.
    return anyio.CancelScope(shield=True)


class Governor:
    def __init__(
        self,
        settings: Settings,
        llm: LLMClient,
        prices: PriceTable,
        detector: InjectionDetector,
        *,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        limiter: RateLimiter | None = None,
        budget: Budget | None = None,
        ledger: UsageLedger | None = None,
        tracing: Tracing | None = None,
        key_prefix: str | None = None,
    ) -> None:
        self.settings = settings
        self.llm = llm
        self.prices = prices
        self.detector = detector
        self._own_engine: AsyncEngine | None = None
        if sessionmaker is None:
            from ai_platform.db.engine import create_engine, create_sessionmaker

            self._own_engine = create_engine(settings.database_url)
            sessionmaker = create_sessionmaker(self._own_engine)
        self.sessionmaker = sessionmaker
        prefix = key_prefix or getattr(settings, "redis_key_prefix", None) or DEFAULT_KEY_PREFIX
        self.key_prefix = str(prefix)
        # Backends are chosen by the composition root (``governance.backends``); left
        # out, they are this process's memory.
        self.limiter = limiter or RateLimiter.memory()
        self.budget: Budget = budget or MemoryBudget(self._ledger_spend)
        self.ledger = ledger or UsageLedger(
            sessionmaker,
            batch_size=settings.ledger_batch_size,
            flush_interval_s=settings.ledger_flush_interval_s,
            wal_dir=Path(settings.data_dir) / WAL_DIRNAME,
        )
        self.ledger.on_written.append(metrics.LEDGER_ROWS.inc)
        self.ledger.replay_settle = self.budget.settle_replayed
        self.tracing = tracing or Tracing.from_settings(settings)
        self.knowledge_search: KnowledgeSearch | None = None
        """Set by the composition root when knowledge runs in another process."""
        self._series: dict[tuple[str, str, str], tuple[Any, ...]] = {}

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start the ledger's background writer (called by the lifespan)."""
        await self.ledger.start()

    async def aclose(self) -> None:
        """Flush the ledger and close the backends (called by the lifespan at shutdown)."""
        await self.ledger.aclose()
        for close in (self.limiter.aclose, self.budget.aclose):
            try:
                await close()
            except Exception:
                logger.warning("closing a governance backend failed", exc_info=True)
        self.tracing.shutdown()
        if self._own_engine is not None:
            await self._own_engine.dispose()

    async def _ledger_spend(self, client_id: str, since: datetime) -> float:
        # Rows still queued in this process belong to budgets this process already
        # counts; the ledger covers everything earlier, including previous runs.
        return await spent_since(self.sessionmaker, client_id, since)

    async def budget_status(self, client: ClientInfo) -> BudgetStatus:
        return await self.budget.status(client.id, client.monthly_budget_usd)

    # -- contexts --------------------------------------------------------------------

    async def begin(
        self,
        client: ClientInfo,
        service: str,
        route: str,
        request_id: str,
        correlation_id: str | None = None,
    ) -> RequestContext:
        """Open a request's context: count it against the per-minute limit.

        A refused request is ledgered here, then ``RateLimitedError`` is raised.
        """
        ctx = RequestContext(
            governor=self,
            client=client,
            service=service,
            route=route,
            request_id=request_id,
            correlation_id=correlation_id,
        )
        if self.tracing.enabled:
            ctx.span = self.tracing.start_request(
                service=service, route=route, client_id=client.id, request_id=request_id, job=False
            )
        try:
            state = await self.limiter.hit_request(client.id, client.rpm_limit)
        except Exception as exc:
            await self._refuse(ctx, _store_down("rate limit", exc))
        ctx.requests_limit = state
        if not state.allowed:
            metrics.RATE_LIMIT_REJECTIONS.labels(client.id, state.name).inc()
            await self._refuse(ctx, self._rate_limited(state, client.id))
        return ctx

    def for_job(self, client: ClientInfo, service: str, request_id: str) -> RequestContext:
        """A context for background work (research steps), ledgered under its own id.

        Jobs are not counted against requests per minute; their LLM calls reserve
        tokens and budget like any request, and ``await ctx.finish()`` settles and
        writes the step's ledger row. ``request_id`` must be unique per step (a re-run
        step with the same id is not ledgered twice).
        """
        ctx = RequestContext(
            governor=self,
            client=client,
            service=service,
            route="job",
            request_id=request_id,
            job=True,
        )
        if self.tracing.enabled:
            ctx.span = self.tracing.start_request(
                service=service, route="job", client_id=client.id, request_id=request_id, job=True
            )
        return ctx

    async def _refuse(self, ctx: RequestContext, exc: AIServiceError) -> NoReturn:
        ctx.fail(exc)
        await self.finish(ctx)
        raise exc

    def _rate_limited(self, state: LimitState, client_id: str) -> RateLimitedError:
        reset_in = state.reset_in()
        unit = "requests per minute" if state.name == "requests_per_minute" else "tokens per day"
        return RateLimitedError(
            f"rate limit of {state.limit} {unit} exceeded; retry in {max(1, round(reset_in))} s",
            retry_after=reset_in,
            details={
                "limit": state.name,
                "limit_value": state.limit,
                "remaining": state.remaining,
                "reset_in_s": round(reset_in, 3),
                "client_id": client_id,
            },
            headers=dict(limit_headers(state)),
        )

    # -- screening -------------------------------------------------------------------

    async def screen(self, ctx: RequestContext, text: str, *, kind: str) -> ScreeningResult:
        result = self.detector.screen(text)
        if result.flagged:
            ctx.usage.flagged = True
            ctx.usage.signals.extend(s for s in result.signals if s not in ctx.usage.signals)
            if kind == "prompt" and self.settings.injection_policy == "block":
                raise PromptInjectionError(result.score, list(result.signals))
        return result

    # -- reservations ----------------------------------------------------------------

    async def _reserve(
        self, ctx: RequestContext, model: str, prompt_tokens: int, max_output: int
    ) -> Hold:
        client = ctx.client
        tokens = prompt_tokens + max_output
        try:
            state = await self.limiter.reserve_tokens(client.id, client.tpd_limit, tokens)
        except Exception as exc:
            raise _store_down("rate limit", exc) from exc
        ctx.tokens_limit = state
        if not state.allowed:
            metrics.RATE_LIMIT_REJECTIONS.labels(client.id, state.name).inc()
            raise self._rate_limited(state, client.id)
        hold = Hold(tokens)
        ctx.holds.append(hold)
        cost = self.prices.max_cost_usd(model, prompt_tokens, max_output)
        try:
            hold.reservation = await self.budget.reserve(client.id, client.monthly_budget_usd, cost)
        except BudgetExceededError:
            metrics.BUDGET_REJECTIONS.labels(client.id).inc()
            await self._release(ctx, hold)
            raise
        except Exception as exc:
            await self._release(ctx, hold)
            raise _store_down("budget", exc) from exc
        except BaseException:
            await self._release(ctx, hold)
            raise
        return hold

    async def _settle(self, ctx: RequestContext, hold: Hold, tokens: int, cost_usd: float) -> None:
        if not hold.open:
            return
        hold.open = False
        ctx.holds.remove(hold)
        with _shielded():
            if hold.reservation is not None:
                await self.budget.settle(hold.reservation, cost_usd)
            used = await self.limiter.adjust_tokens(ctx.client_id, tokens - hold.tokens)
        state = ctx.tokens_limit
        if state is not None:
            ctx.tokens_limit = LimitState(
                state.name, state.limit, max(0, state.limit - used), state.reset_at, True
            )

    def _estimate(self, model: str, prompt: int, streamed: list[str]) -> Pending:
        completion = estimate_text_tokens("".join(streamed))
        return prompt, completion, self.prices.cost_usd(model, prompt, completion)

    async def _settle_abandoned(
        self, ctx: RequestContext, hold: Hold, model: str, prompt: int, streamed: list[str]
    ) -> None:
        """Charge a stream its client left: the provider's usage arrives only in the last
        chunk, which never comes, yet it bills the prompt and every token it produced.
        Settle to an estimate (the prompt estimate plus the text streamed so far)."""
        if not hold.open:
            return
        prompt, completion, cost = self._estimate(model, prompt, streamed)
        self.checkpoint(ctx, (prompt, completion, cost), hold)  # see _completed
        try:
            await self._settle(ctx, hold, prompt + completion, cost)
        except Exception:
            logger.exception("settling an abandoned stream failed", extra={"rid": ctx.request_id})
            return
        self._account(ctx, model, prompt, completion, cost)

    async def _release(self, ctx: RequestContext, hold: Hold) -> None:
        try:
            await self._settle(ctx, hold, 0, 0.0)
        except Exception:
            logger.exception("releasing a reservation failed", extra={"rid": ctx.request_id})

    # -- LLM calls -------------------------------------------------------------------

    def _account(
        self, ctx: RequestContext, model: str, prompt: int, completion: int, cost: float
    ) -> None:
        ctx.usage.add(
            model=model, prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost
        )
        key = (ctx.client_id, ctx.service, model)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                metrics.LLM_TOKENS.labels(ctx.client_id, ctx.service, model, "input"),
                metrics.LLM_TOKENS.labels(ctx.client_id, ctx.service, model, "output"),
                metrics.LLM_COST.labels(ctx.client_id, ctx.service, model),
            )
        series[0].inc(prompt)
        series[1].inc(completion)
        series[2].inc(cost)

    def _call_failed(
        self, ctx: RequestContext, model: str, operation: str, exc: BaseException
    ) -> None:
        code = exc.error_code if isinstance(exc, AIServiceError) else type(exc).__name__
        metrics.LLM_CALLS.labels(ctx.service, model, operation, code).inc()
        if (isinstance(exc, AIServiceError) and exc.status_code >= 500) or code == "rate_limited":
            metrics.LLM_UPSTREAM_ERRORS.labels(ctx.service, model, code).inc()

    async def _completed(
        self,
        ctx: RequestContext,
        hold: Hold,
        span: Any,
        model: str,
        operation: str,
        started: float,
        result: ChatResult,
        ttft_s: float | None = None,
    ) -> None:
        """A chat call that finished: settle, account, metrics, close its span."""
        usage = result.usage
        # Logged, with the charge about to be made, before the budget is charged: if the
        # process dies in between, the replay writes the row and makes the charge (once:
        # settling is idempotent), so ledger and budget agree.
        self.checkpoint(ctx, (usage.prompt_tokens, usage.completion_tokens, result.cost_usd), hold)
        await self._settle(ctx, hold, usage.total_tokens, result.cost_usd)
        self._account(
            ctx, result.model, usage.prompt_tokens, usage.completion_tokens, result.cost_usd
        )
        metrics.LLM_CALLS.labels(ctx.service, model, operation, "ok").inc()
        metrics.LLM_LATENCY.labels(ctx.service, model, operation).observe(
            time.perf_counter() - started
        )
        self.tracing.end_llm(
            span,
            response_model=result.model,
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            finish_reason=result.finish_reason,
            cost_usd=result.cost_usd,
            ttft_s=ttft_s,
            hops=result.hops,
        )

    async def chat(
        self,
        ctx: RequestContext,
        messages: Sequence[dict[str, Any]],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model_name = model or self.settings.default_model
        ceiling = max_tokens or self.settings.llm_max_output_tokens
        params = self.llm.chat_params(messages, model=model_name, max_tokens=ceiling, **kwargs)
        prompt = estimate_messages_tokens(messages, tools=kwargs.get("tools"))
        _, result = await self.chat_call(ctx, params, prompt, ceiling * kwargs.get("n", 1))
        return result

    async def chat_call(
        self, ctx: RequestContext, params: dict[str, Any], prompt_tokens: int, max_output: int
    ) -> tuple[Raw, ChatResult]:
        """One governed chat call of a complete request body: reserve (``prompt_tokens``
        estimated, ``max_output`` the most it may produce), call along the model's
        route, settle. The provider's bytes come back with the parsed result."""
        model_name = str(params["model"])
        hold = await self._reserve(ctx, self.llm.price_model(model_name), prompt_tokens, max_output)
        span = (
            self.tracing.start_llm(
                ctx.span, operation="chat", model=model_name, max_tokens=max_output
            )
            if self.tracing.enabled
            else None
        )
        started = time.perf_counter()
        try:
            raw, result = await self.llm.chat_raw(params)
        except BaseException as exc:
            await self._release(ctx, hold)
            _record_hops(ctx, exc)
            self._call_failed(ctx, model_name, "chat", exc)
            self.tracing.end_llm(span, error=exc)
            raise
        ctx.usage.hops.extend(result.hops)
        await self._completed(ctx, hold, span, model_name, "chat", started, result)
        return raw, result

    async def stream_chat(
        self,
        ctx: RequestContext,
        messages: Sequence[dict[str, Any]],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[StreamEvent]:
        model_name = model or self.settings.default_model
        ceiling = max_tokens or self.settings.llm_max_output_tokens
        params = self.llm.chat_params(messages, model=model_name, max_tokens=ceiling, **kwargs)
        prompt = estimate_messages_tokens(messages, tools=kwargs.get("tools"))
        chunks = self.stream_call(ctx, params, prompt, ceiling * kwargs.get("n", 1))
        try:
            async for chunk in chunks:
                for event in chunk.events:
                    yield event
        finally:
            await chunks.aclose()

    async def stream_call(
        self, ctx: RequestContext, params: dict[str, Any], prompt_tokens: int, max_output: int
    ) -> AsyncGenerator[RoutedChunk]:
        """A governed streamed chat call of a complete request body: each provider chunk
        as it arrives (its bytes and events). Settled when the last chunk's usage
        arrives; a stream its consumer leaves is settled to an estimate."""
        model_name = str(params["model"])
        hold = await self._reserve(ctx, self.llm.price_model(model_name), prompt_tokens, max_output)
        span = (
            self.tracing.start_llm(
                ctx.span,
                operation="chat",
                model=model_name,
                max_tokens=max_output,
                extra={"ai_platform.stream": True},
            )
            if self.tracing.enabled
            else None
        )
        started = time.perf_counter()
        first_token: float | None = None
        stream = self.llm.stream_raw(params)
        streamed: list[str] = []
        next_checkpoint = time.monotonic() + STREAM_CHECKPOINT_S
        try:
            async for chunk in stream:
                for event in chunk.events:
                    if isinstance(event, ContentDelta):
                        streamed.append(event.text)
                        if first_token is None and event.text:
                            first_token = time.perf_counter() - started
                            metrics.LLM_TTFT.labels(ctx.service, model_name).observe(first_token)
                    elif isinstance(event, StreamDone):
                        result = event.result
                        if first_token is None and result.ttft_ms is not None:
                            first_token = result.ttft_ms / 1000
                            metrics.LLM_TTFT.labels(ctx.service, model_name).observe(first_token)
                        ctx.usage.hops.extend(result.hops)
                        await self._completed(
                            ctx, hold, span, model_name, "chat_stream", started, result, first_token
                        )
                        span = None
                if hold.open and time.monotonic() >= next_checkpoint:
                    next_checkpoint = time.monotonic() + STREAM_CHECKPOINT_S
                    self.checkpoint(ctx, self._estimate(model_name, prompt_tokens, streamed), hold)
                yield chunk
        except GeneratorExit:
            # The consumer closed the stream early (a route that stopped reading, or a
            # response torn down after its client left): nothing more is coming.
            await self._settle_abandoned(ctx, hold, model_name, prompt_tokens, streamed)
            self.tracing.end_llm(span, error=GeneratorExit())
            raise
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                await self._settle_abandoned(ctx, hold, model_name, prompt_tokens, streamed)
                ctx.disconnected()
            else:
                await self._release(ctx, hold)
                _record_hops(ctx, exc)
                ctx.fail(exc)
                self._call_failed(ctx, model_name, "chat_stream", exc)
            self.tracing.end_llm(span, error=exc)
            raise
        finally:
            # Close the provider's stream now, not when the garbage collector gets to it:
            # an early exit must stop the upstream call at once.
            await stream.aclose()
        if hold.open:
            # A stream that ended without its final usage event: nothing to settle to.
            await self._release(ctx, hold)
            self.tracing.end_llm(span)

    async def embed(
        self, ctx: RequestContext, texts: Sequence[str], *, model: str | None = None
    ) -> EmbeddingResult:
        model_name = model or self.settings.embedding_model
        prompt = sum(estimate_text_tokens(t) for t in texts)
        return await self._embedding(
            ctx, model_name, prompt, lambda: self.llm.embed(list(texts), model=model_name)
        )

    async def embed_call(
        self, ctx: RequestContext, params: dict[str, Any], prompt_tokens: int
    ) -> tuple[Raw, EmbeddingResult]:
        """A governed embeddings call of a complete request body; the provider's bytes
        come back with the usage and cost read from them."""
        answer: list[Raw] = []

        async def call() -> EmbeddingResult:
            raw, result = await self.llm.embed_raw(params)
            answer.append(raw)
            return result

        result = await self._embedding(ctx, str(params["model"]), prompt_tokens, call)
        return answer[0], result

    async def _embedding(
        self,
        ctx: RequestContext,
        model_name: str,
        prompt: int,
        call: Callable[[], Awaitable[EmbeddingResult]],
    ) -> EmbeddingResult:
        hold = await self._reserve(ctx, self.llm.price_model(model_name), prompt, 0)
        span = (
            self.tracing.start_llm(ctx.span, operation="embeddings", model=model_name)
            if self.tracing.enabled
            else None
        )
        started = time.perf_counter()
        try:
            result = await call()
        except BaseException as exc:
            await self._release(ctx, hold)
            _record_hops(ctx, exc)
            self._call_failed(ctx, model_name, "embeddings", exc)
            self.tracing.end_llm(span, error=exc)
            raise
        usage = result.usage
        self.checkpoint(ctx, (usage.prompt_tokens, 0, result.cost_usd), hold)  # see _completed
        await self._settle(ctx, hold, usage.total_tokens, result.cost_usd)
        self._account(ctx, result.model, usage.prompt_tokens, 0, result.cost_usd)
        metrics.LLM_CALLS.labels(ctx.service, model_name, "embeddings", "ok").inc()
        metrics.LLM_LATENCY.labels(ctx.service, model_name, "embeddings").observe(
            time.perf_counter() - started
        )
        self.tracing.end_llm(
            span, response_model=result.model, input_tokens=usage.prompt_tokens, output_tokens=0
        )
        return result

    # -- the end of a request --------------------------------------------------------

    def _entry(self, ctx: RequestContext, pending: Pending = NO_PENDING) -> LedgerEntry:
        usage = ctx.usage
        extra_prompt, extra_completion, extra_cost = pending
        return LedgerEntry(
            request_id=ctx.request_id,
            correlation_id=ctx.correlation_id,
            client_id=ctx.client_id,
            service=ctx.service,
            route=ctx.route,
            model=usage.model,
            prompt_tokens=usage.prompt_tokens + extra_prompt,
            completion_tokens=usage.completion_tokens + extra_completion,
            cost_usd=cost_decimal(usage.cost_usd + extra_cost),
            latency_ms=round(ctx.latency_ms, 3),
            status_code=ctx.status_code,
            outcome=ctx.outcome,
            flagged=usage.flagged,
            created_at=datetime.now(UTC),
            guardrail_events=guardrail_summary(ctx.guardrail_events),
            hops=hops_summary(usage.hops),
        )

    def checkpoint(
        self, ctx: RequestContext, pending: Pending = NO_PENDING, hold: Hold | None = None
    ) -> None:
        """Log the request's usage so far (``pending``: a call not yet in it), so that a
        crash before ``finish`` still ledgers it. With ``hold``, the budget charge about
        to be made for ``pending`` is logged too, for a replay to complete."""
        if ctx.finished:
            return
        settle = None
        if hold is not None and hold.open and hold.reservation is not None:
            r = hold.reservation
            settle = (r.client_id, r.month, r.id, pending[2])
        self.ledger.checkpoint(self._entry(ctx, pending), settle)

    async def finish(self, ctx: RequestContext) -> None:
        """Release what is still held, write the ledger row, count the request. Idempotent."""
        if ctx.finished:
            return
        ctx.finished = True
        for hold in list(ctx.holds):
            await self._release(ctx, hold)
        usage = ctx.usage
        if not ctx.extra.get(LEDGERED_BY_CALLER):
            self.ledger.record(self._entry(ctx))
        metrics.GOVERNED_REQUESTS.labels(ctx.service, ctx.outcome).inc()
        if ctx.span is not None:
            self.tracing.end_request(
                ctx.span,
                status_code=ctx.status_code,
                outcome=ctx.outcome,
                tokens_in=usage.prompt_tokens,
                tokens_out=usage.completion_tokens,
                cost_usd=usage.cost_usd,
            )
            ctx.span = None


def _record_hops(ctx: RequestContext, exc: BaseException) -> None:
    # A routed call that failed on every target says where it went in its details.
    if isinstance(exc, AIServiceError) and isinstance(exc.details, dict):
        hops = exc.details.get("hops")
        if isinstance(hops, list):
            ctx.usage.hops.extend(str(h) for h in hops)


def _store_down(what: str, exc: BaseException) -> ServiceUnavailableError:
    # Fail closed: admitting traffic without limits or budgets is worse than a 503.
    logger.error(f"{what} store unavailable", exc_info=exc)
    return ServiceUnavailableError(f"{what} store unavailable; retry shortly")
