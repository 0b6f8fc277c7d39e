"""The agent's turn as Server-Sent Events, and the stream's end-of-life bookkeeping.

Events (the SSE ``event:`` field; ``data:`` is JSON):

- ``token``       ``{"text"}`` — a piece of the answer, as the model produces it;
- ``tool_call``   ``{"id", "name", "arguments"}`` — the agent is calling a tool;
- ``tool_result`` ``{"id", "name", "summary", "failed"}`` — what the tool returned;
- ``done``        ``{"conversation_id", "model", "usage", "cost_usd", "ttft_ms", ...}``
  — the turn is complete and stored;
- ``error``       ``{"code", "message", "request_id", "details"}`` — the turn failed
  after the stream had started (errors before it are ordinary error envelopes).

A stream ends in one of three ways, and each one stores what the client was shown
and finishes the governed context exactly once (one ledger row):

- it completes: the turn is written, ``done`` is sent;
- it fails: the partial turn is written (if any of it was shown), ``error`` is sent,
  the context records the error's status;
- the client disconnects: the provider call is cancelled, the partial turn is written
  (if any of it was shown) with ``finish_reason="client_disconnected"``, the context
  records ``client_disconnected`` (status 499).

The disconnect case has two shapes. If the cancellation lands while the turn is
awaiting the provider, it runs through the turn's own ``finally``. If it lands while
the event generator is parked at a ``yield`` (the client went away while events were
queued for it), nothing resumes the generator; the route's dependency therefore calls
``close()`` when the request ends, which closes the generator chain and settles.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
from fastapi.sse import ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.core.errors import AIServiceError, InternalError
from ai_platform.governance.context import RequestContext
from ai_platform.services.agent.conversations import TurnPlan, persist_turn
from ai_platform.services.agent.service import AgentTurn, Token, ToolCallStarted, ToolFinished

logger = logging.getLogger("ai_platform.services.agent")


class TurnStream:
    """Drives one ``AgentTurn`` as SSE events; ``close()`` is safe to call any number of times."""

    def __init__(
        self,
        ctx: RequestContext,
        plan: TurnPlan,
        turn: AgentTurn,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.ctx = ctx
        self.plan = plan
        self.turn = turn
        self.sessionmaker = sessionmaker
        self.ttft_ms: float | None = None
        self.completed = False
        self.stored = False
        self.closed = False
        self._events: AsyncGenerator[ServerSentEvent, None] | None = None

    def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        if self._events is None:
            self._events = self._run()
        return self._events

    async def _run(self) -> AsyncGenerator[ServerSentEvent, None]:
        ctx = self.ctx
        try:
            async with aclosing(self.turn.events()) as events:
                async for event in events:
                    yield self._encode(event)
            await self._store("stop")
            self.completed = True
            yield ServerSentEvent(event="done", data=self._done())
        except AIServiceError as exc:
            ctx.fail(exc)
            yield ServerSentEvent(event="error", data=self._error(exc))
        except Exception as exc:
            logger.exception("agent stream failed", extra={"rid": ctx.request_id})
            ctx.fail(exc)
            yield ServerSentEvent(event="error", data=self._error(InternalError()))
        finally:
            await self._settle()

    def _encode(self, event: Token | ToolCallStarted | ToolFinished) -> ServerSentEvent:
        if isinstance(event, Token):
            if self.ttft_ms is None:
                self.ttft_ms = round((time.perf_counter() - self.ctx.started) * 1000, 2)
            return ServerSentEvent(event="token", data={"text": event.text})
        if isinstance(event, ToolCallStarted):
            return ServerSentEvent(
                event="tool_call",
                data={"id": event.id, "name": event.name, "arguments": event.arguments},
            )
        return ServerSentEvent(
            event="tool_result",
            data={
                "id": event.id,
                "name": event.name,
                "summary": event.summary,
                "failed": event.failed,
            },
        )

    def _done(self) -> dict[str, Any]:
        usage = self.ctx.usage
        state = self.turn.state
        return {
            "conversation_id": self.plan.conversation_id,
            "model": usage.model,
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.tokens,
            },
            "cost_usd": round(usage.cost_usd, 10),
            "ttft_ms": self.ttft_ms,
            "rounds": state.rounds,
            "tool_calls": len(state.tool_calls),
            "escalated": state.escalated,
            "ticket_id": state.escalation_ticket_id,
            "finish_reason": state.finish_reason,
            "pending_actions": state.pending_actions,
            "request_id": self.ctx.request_id,
        }

    def _error(self, exc: AIServiceError) -> dict[str, Any]:
        return {
            "code": exc.error_code,
            "message": exc.message,
            "request_id": self.ctx.request_id,
            "details": exc.details,
            "conversation_id": self.plan.conversation_id,
        }

    async def _store(self, finish_reason: str) -> None:
        if self.stored:
            return
        self.stored = True
        produced = (
            self.turn.state.produced
            if finish_reason == "stop"
            else self.turn.unfinished(finish_reason)
        )
        async with self.sessionmaker() as session:
            await persist_turn(
                session,
                self.plan,
                produced,
                escalation_ticket_id=self.turn.state.escalation_ticket_id,
            )
            await session.commit()

    async def _settle(self) -> None:
        """Store an unfinished turn and finish the context, even under cancellation."""
        if self.closed:
            return
        self.closed = True
        ctx = self.ctx
        with anyio.CancelScope(shield=True):
            if not self.completed and ctx.outcome == "ok":
                ctx.disconnected()
            # Nothing shown, nothing stored: a stream that failed before its first
            # event leaves the conversation as it was, like a failed JSON turn.
            shown = self.turn.state.produced or self.turn.state.pending
            if not self.stored and shown:
                try:
                    await self._store(
                        "error" if ctx.outcome not in ("ok", "client_disconnected")
                        else "client_disconnected"
                    )
                except Exception:
                    logger.exception(
                        "storing an unfinished turn failed", extra={"rid": ctx.request_id}
                    )
            await ctx.finish()

    async def close(self) -> None:
        """End-of-request safety net: close a generator left parked at a ``yield``."""
        if self.closed:
            return
        if self._events is not None:
            gen = self._events
            with anyio.CancelScope(shield=True):
                await gen.aclose()
        await self._settle()
