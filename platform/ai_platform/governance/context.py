"""The governed request: what a service route receives instead of a bare LLM client.

Services never call the LLM client directly. They call ``ctx.chat`` / ``ctx.stream_chat``
/ ``ctx.embed`` and ``ctx.screen``; the context applies the governance around each call
(token and budget reservation, screening policy, usage accounting) and the gateway
settles and ledgers the request when it ends. Background jobs get a context of their
own from ``Governor.for_job`` so their LLM spend is governed and ledgered too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ai_platform.core.errors import AIServiceError
from ai_platform.core.usage import RequestUsage
from ai_platform.governance.auth import ClientInfo

if TYPE_CHECKING:
    from ai_platform.governance.budget import Reservation
    from ai_platform.governance.governor import Governor
    from ai_platform.governance.ratelimit import LimitState
    from ai_platform.governance.screening import ScreeningResult
    from ai_platform.llm.client import ChatResult, EmbeddingResult, StreamEvent


CLIENT_CLOSED_REQUEST = 499
"""Status recorded for a client that disconnected (nginx's convention; never sent)."""


@dataclass(slots=True)
class Hold:
    """What one LLM call reserved: tokens of the daily limit and budget dollars."""

    tokens: int
    reservation: Reservation | None = None
    open: bool = True


@dataclass
class RequestContext:
    governor: Governor
    client: ClientInfo
    service: str
    route: str
    request_id: str
    """Server-made; keys the ledger row."""
    correlation_id: str | None = None
    """The caller's ``X-Request-ID``, if well formed: stored, never a key."""
    usage: RequestUsage = field(default_factory=RequestUsage)
    started: float = field(default_factory=time.perf_counter)
    status_code: int = 200
    outcome: str = "ok"
    finished: bool = False
    deferred: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    job: bool = False
    requests_limit: LimitState | None = None
    """The per-minute limit after this request's hit (the ``X-RateLimit-*`` headers)."""
    tokens_limit: LimitState | None = None
    """The per-day token limit after this request's latest LLM call."""
    holds: list[Hold] = field(default_factory=list)
    """Budget and token reservations not yet settled; ``finish()`` releases leftovers."""
    span: Any = None
    guardrail_events: list[str] = field(default_factory=list)
    """What the injection guardrails did (``governance.guardrails``), for the ledger row."""

    @property
    def client_id(self) -> str:
        return self.client.id

    @property
    def latency_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    async def screen(self, text: str, *, kind: str = "prompt") -> ScreeningResult:
        """Screen user text (``kind="prompt"``) or ingested text (``kind="document"``).

        Prompts are blocked (``PromptInjectionError``) or flagged by policy; documents
        are never blocked here: the caller marks flagged chunks and keeps them out of
        prompts as instructions.
        """
        return await self.governor.screen(self, text, kind=kind)

    async def screen_conversation(self, texts: Sequence[str]) -> ScreeningResult:
        """Screen the recent turns joined, under the prompt policy of ``screen``: an
        instruction split across messages only reads as one when they are joined."""
        from ai_platform.governance.screening.detector import join_recent

        return await self.governor.screen(self, join_recent(texts), kind="prompt")

    async def chat(self, messages: Sequence[dict[str, Any]], **kwargs: Any) -> ChatResult:
        return await self.governor.chat(self, messages, **kwargs)

    def stream_chat(
        self, messages: Sequence[dict[str, Any]], **kwargs: Any
    ) -> AsyncIterator[StreamEvent]:
        return self.governor.stream_chat(self, messages, **kwargs)

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> EmbeddingResult:
        return await self.governor.embed(self, texts, model=model)

    def guardrail(self, event: str) -> None:
        """Record a guardrail event (a tool refused, a link removed, a leak blocked)."""
        from ai_platform.governance import metrics

        self.guardrail_events.append(event)
        metrics.GUARDRAIL_EVENTS.labels(self.service, event.split(":", 2)[0]).inc()

    def fail(self, exc: BaseException) -> None:
        """Record how the request failed, for the ledger row."""
        if isinstance(exc, AIServiceError):
            self.status_code = exc.status_code
            self.outcome = exc.error_code
        elif isinstance(exc, asyncio.CancelledError | GeneratorExit):
            # Cancelled mid-request, or a stream torn down: the client went away.
            self.disconnected()
        elif isinstance(getattr(exc, "status_code", None), int):
            # Starlette's HTTPException (404 from a route, 413 from the body limit).
            self.status_code = exc.status_code  # type: ignore[attr-defined]
            self.outcome = "http_error"
        elif type(exc).__name__ == "RequestValidationError":
            # FastAPI validates the body after the governed dependency has run.
            self.status_code = 422
            self.outcome = "validation_error"
        else:
            self.status_code = 500
            self.outcome = "internal_error"

    def disconnected(self) -> None:
        """The client went away before the response was complete."""
        self.status_code = CLIENT_CLOSED_REQUEST
        self.outcome = "client_disconnected"

    def defer_finish(self) -> None:
        """A streamed response settles and ledgers itself when the stream ends."""
        self.deferred = True

    async def finish(self) -> None:
        await self.governor.finish(self)
