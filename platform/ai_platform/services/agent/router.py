"""``/api/v1/agent``: the customer agent's chat (JSON and SSE), history and tickets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.core.envelope import APIResponse
from ai_platform.core.errors import (
    GOVERNED_ERRORS,
    BudgetExceededError,
    NotFoundError,
    RequestValidationFailed,
    UnknownModelError,
)
from ai_platform.core.ids import ConversationIdStr
from ai_platform.gateway.deps import PlatformDep, SessionDep
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.governed import governed
from ai_platform.gateway.responses import envelope
from ai_platform.governance.context import RequestContext
from ai_platform.llm.pricing import check_requested_model
from ai_platform.services.agent import repository as repo
from ai_platform.services.agent.conversations import (
    load_conversation,
    persist_turn,
    prepare_turn,
)
from ai_platform.services.agent.schemas import (
    ChatRequest,
    ChatResponse,
    ConversationOut,
    TicketList,
    TicketOut,
    UsageOut,
)
from ai_platform.services.agent.service import KIND, AgentTurn
from ai_platform.services.agent.streaming import TurnStream

router = APIRouter(prefix="/api/v1/agent", tags=["Customer Agent"])

AgentCtx = Annotated[RequestContext, Depends(governed("agent"))]
ConversationId = Annotated[ConversationIdStr, Path(description="a `conv_…` id")]
CHAT_ERRORS = error_responses(
    *GOVERNED_ERRORS, NotFoundError, BudgetExceededError, RequestValidationFailed, UnknownModelError
)
READ_ERRORS = error_responses(*GOVERNED_ERRORS, NotFoundError)


@asynccontextmanager
async def _borrowed(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    # Tools of a JSON turn share the request's session: committed at the request
    # boundary together with the turn, or rolled back with it.
    yield session


@router.post(
    "/chat",
    response_model=APIResponse[ChatResponse],
    summary="One turn with the customer agent",
    responses=CHAT_ERRORS,
)
async def chat(
    body: ChatRequest, request: Request, ctx: AgentCtx, session: SessionDep
) -> APIResponse[ChatResponse]:
    """Send a message; the agent may look up orders, search the knowledge base, open a
    ticket or hand the conversation to a human before it answers. Omit
    ``conversation_id`` to start a conversation; the answer carries its id."""
    check_requested_model(ctx.governor.prices, ctx.governor.settings, body.model)
    plan = await prepare_turn(
        session, ctx, kind=KIND, conversation_id=body.conversation_id, inputs=body.input_messages()
    )
    turn = AgentTurn(ctx, plan, lambda: _borrowed(session), stream=False, model=body.model)
    async with aclosing(turn.events()) as events:
        async for _ in events:
            pass
    state = turn.state
    await persist_turn(
        session, plan, state.produced, escalation_ticket_id=state.escalation_ticket_id
    )
    usage = ctx.usage
    return envelope(
        request,
        ChatResponse(
            conversation_id=plan.conversation_id,
            reply=state.reply,
            tool_calls=state.tool_calls,
            escalated=state.escalated,
            ticket_id=state.escalation_ticket_id,
            rounds=state.rounds,
            model=state.model,
            usage=UsageOut(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_tokens=usage.tokens,
            ),
            cost_usd=round(usage.cost_usd, 10),
        ),
    )


async def open_stream(
    body: ChatRequest, ctx: AgentCtx, platform: PlatformDep
) -> AsyncIterator[TurnStream]:
    """Everything that can fail with an ordinary error envelope happens here, before
    the stream opens: validation, the model's name, screening, the conversation's ownership.

    A request-scoped dependency (it must outlive the stream to close it), so it opens
    its own read-only session instead of the request's function-scoped one.
    """
    check_requested_model(ctx.governor.prices, ctx.governor.settings, body.model)
    sessionmaker = platform.sessionmaker
    async with sessionmaker() as session:
        plan = await prepare_turn(
            session,
            ctx,
            kind=KIND,
            conversation_id=body.conversation_id,
            inputs=body.input_messages(),
        )

    @asynccontextmanager
    async def committed() -> AsyncIterator[AsyncSession]:
        # A streamed turn's tool effects are committed as they happen: the client is
        # told about a ticket the moment it exists.
        async with sessionmaker() as tool_session:
            yield tool_session
            await tool_session.commit()

    turn = AgentTurn(ctx, plan, committed, stream=True, model=body.model)
    stream = TurnStream(ctx, plan, turn, sessionmaker)
    ctx.defer_finish()
    try:
        yield stream
    except* (anyio.BrokenResourceError, anyio.ClosedResourceError):
        # FastAPI's SSE keep-alive task can write to its already-closed output when the
        # client leaves while events are queued (fastapi discussion #15725). The client
        # is gone and the stream settles below: a normal disconnect, not an error.
        pass
    finally:
        await stream.close()


@router.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    summary="One turn with the customer agent, streamed as Server-Sent Events",
    responses=CHAT_ERRORS,
)
async def chat_stream(
    stream: Annotated[TurnStream, Depends(open_stream)],
) -> AsyncIterator[ServerSentEvent]:
    """Events: ``token`` {text}, ``tool_call`` {id, name, arguments}, ``tool_result``
    {id, name, summary, failed}, then ``done`` {conversation_id, model, usage, cost_usd,
    ttft_ms, ...} or ``error`` {code, message, request_id}. A client that disconnects
    cancels the model call; what it was shown is kept in the conversation."""
    async for event in stream:
        yield event


@router.get(
    "/conversations/{conversation_id}",
    response_model=APIResponse[ConversationOut],
    summary="A conversation's history, tool calls and results included",
    responses=READ_ERRORS,
)
async def get_conversation(
    conversation_id: ConversationId, request: Request, ctx: AgentCtx, session: SessionDep
) -> APIResponse[ConversationOut]:
    conversation = await load_conversation(session, ctx.client_id, conversation_id, KIND)
    return envelope(request, conversation)


@router.get(
    "/tickets",
    response_model=APIResponse[TicketList],
    summary="Support tickets opened by the agent and by escalations, newest first",
    responses=error_responses(*GOVERNED_ERRORS),
)
async def list_tickets(
    request: Request,
    ctx: AgentCtx,
    session: SessionDep,
    conversation_id: Annotated[ConversationIdStr | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> APIResponse[TicketList]:
    tickets = await repo.list_tickets(
        session, ctx.client_id, conversation_id=conversation_id, limit=limit
    )
    return envelope(
        request,
        TicketList(
            tickets=[
                TicketOut(
                    id=t.id,
                    conversation_id=t.conversation_id,
                    subject=t.subject,
                    description=t.description,
                    priority=t.priority,
                    status=t.status,
                    source=t.source,
                    created_at=t.created_at,
                )
                for t in tickets
            ]
        ),
    )
