"""The Governor: one per process, applying governance around every LLM call.

It holds the shared parts (LLM client, price table, injection detector, and the
limit, budget and ledger backends) and is what ``RequestContext`` delegates to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ai_platform.config import Settings
from ai_platform.core.errors import PromptInjectionError
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.context import RequestContext
from ai_platform.governance.screening import InjectionDetector, ScreeningResult
from ai_platform.llm.client import ChatResult, EmbeddingResult, LLMClient, StreamEvent
from ai_platform.llm.pricing import PriceTable


class Governor:
    def __init__(
        self,
        settings: Settings,
        llm: LLMClient,
        prices: PriceTable,
        detector: InjectionDetector,
    ) -> None:
        self.settings = settings
        self.llm = llm
        self.prices = prices
        self.detector = detector

    async def begin(
        self, client: ClientInfo, service: str, route: str, request_id: str
    ) -> RequestContext:
        return RequestContext(
            governor=self, client=client, service=service, route=route, request_id=request_id
        )

    def for_job(self, client: ClientInfo, service: str, request_id: str) -> RequestContext:
        """A context for background work (research steps), ledgered under its own id."""
        return RequestContext(
            governor=self, client=client, service=service, route="job", request_id=request_id
        )

    async def screen(self, ctx: RequestContext, text: str, *, kind: str) -> ScreeningResult:
        result = self.detector.screen(text)
        if result.flagged:
            ctx.usage.flagged = True
            ctx.usage.signals.extend(s for s in result.signals if s not in ctx.usage.signals)
            if kind == "prompt" and self.settings.injection_policy == "block":
                raise PromptInjectionError(result.score, list(result.signals))
        return result

    async def chat(
        self, ctx: RequestContext, messages: Sequence[dict[str, Any]], **kwargs: Any
    ) -> ChatResult:
        result = await self.llm.chat(list(messages), **kwargs)
        ctx.usage.add(
            model=result.model,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            cost_usd=result.cost_usd,
        )
        return result

    async def stream_chat(
        self, ctx: RequestContext, messages: Sequence[dict[str, Any]], **kwargs: Any
    ) -> AsyncIterator[StreamEvent]:
        async for event in self.llm.stream_chat(list(messages), **kwargs):
            if event.usage is not None:
                ctx.usage.add(
                    model=event.model,
                    prompt_tokens=event.usage.prompt_tokens,
                    completion_tokens=event.usage.completion_tokens,
                    cost_usd=event.cost_usd or 0.0,
                )
            yield event

    async def embed(
        self, ctx: RequestContext, texts: Sequence[str], *, model: str | None = None
    ) -> EmbeddingResult:
        result = await self.llm.embed(list(texts), model=model)
        ctx.usage.add(
            model=result.model,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=0,
            cost_usd=result.cost_usd,
        )
        return result

    async def finish(self, ctx: RequestContext) -> None:
        ctx.finished = True
