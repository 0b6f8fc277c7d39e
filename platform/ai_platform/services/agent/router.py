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
    ConflictError,
    ForbiddenError,
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
from ai_platform.governance.guardrails import AnswerBlockedError
from ai_platform.llm.pricing import check_requested_model
from ai_platform.services.agent import actions
from ai_platform.services.agent import repository as repo
from ai_platform.services.agent.conversations import (
    load_conversation,
    persist_turn,
    prepare_turn,
)
from ai_platform.services.agent.schemas import (
    ActionIdStr,
    ActionOut,
    AgentChatRequest,
    ChatResponse,
    ConfirmRequest,
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
    *GOVERNED_ERRORS,
    NotFoundError,
    BudgetExceededError,
    RequestValidationFailed,
    UnknownModelError,
    ForbiddenError,
    AnswerBlockedError,
)
ActionId = Annotated[ActionIdStr, Path(description="an `act_…` id")]
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
    body: AgentChatRequest, request: Request, ctx: AgentCtx, session: SessionDep
) -> APIResponse[ChatResponse]:
    """Send a message; the agent may look up orders, search the knowledge base, open a
    ticket, propose a refund or hand the conversation to a human before it answers. Omit
    ``conversation_id`` to start a conversation; the answer carries its id.

    Guardrails that hold even when injection detection misses: a tool that changes
    something runs only when the customer's own message asks for it (never because a
    document or a tool result says so) and only on ``customer_id``'s records; a refund
    is only *proposed* (``pending_actions``) until the client confirms it; links and
    images to hosts not on the allow-list are replaced by ``[link removed]`` /
    ``[image removed]``; an answer that repeats the confidential system prompt is a 502
    ``answer_blocked``."""
    check_requested_model(ctx.governor.prices, ctx.governor.settings, body.model)
    customer = actions.customer_for(ctx.client, body.customer_id)
    plan = await prepare_turn(
        session, ctx, kind=KIND, conversation_id=body.conversation_id, inputs=body.input_messages()
    )
    turn = AgentTurn(
        ctx,
        plan,
        lambda: _borrowed(session),
        stream=False,
        model=body.model,
        customer_ref=customer,
    )
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
            pending_actions=state.pending_actions,
        ),
    )


async def open_stream(
    body: AgentChatRequest, ctx: AgentCtx, platform: PlatformDep
) -> AsyncIterator[TurnStream]:
    """Everything that can fail with an ordinary error envelope happens here, before
    the stream opens: validation, the model's name, screening, the conversation's ownership.

    A request-scoped dependency (it must outlive the stream to close it), so it opens
    its own read-only session instead of the request's function-scoped one.
    """
    check_requested_model(ctx.governor.prices, ctx.governor.settings, body.model)
    customer = actions.customer_for(ctx.client, body.customer_id)
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

    turn = AgentTurn(ctx, plan, committed, stream=True, model=body.model, customer_ref=customer)
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
    ttft_ms, pending_actions, ...} or ``error`` {code, message, request_id}. A client that
    disconnects cancels the model call; what it was shown is kept in the conversation.

    The same guardrails as the JSON route apply. Tokens are filtered as they stream: only
    a link or image that may still be open is held back until it is complete, and an
    answer that repeats the confidential system prompt ends with an ``error`` event
    (``answer_blocked``)."""
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


@router.post(
    "/conversations/{conversation_id}/actions/{action_id}/confirm",
    response_model=APIResponse[ActionOut],
    summary="Confirm an irreversible action the agent proposed (a refund): it runs now, once",
    responses=error_responses(*GOVERNED_ERRORS, NotFoundError, ConflictError, ForbiddenError),
)
async def confirm_action(
    conversation_id: ConversationId,
    action_id: ActionId,
    request: Request,
    ctx: AgentCtx,
    session: SessionDep,
    body: ConfirmRequest | None = None,
) -> APIResponse[ActionOut]:
    """The agent never runs an irreversible action by itself: ``request_refund`` only
    proposes one and the turn lists it in ``pending_actions``. This call — made by the
    client when the customer agrees, never by the model — runs it.

    404 if the action is not in this conversation or not this customer's
    (``customer_id``, or the key's ``customer:<id>`` scope); 409 if it already ran,
    expired (a proposal waits ``AGENT_ACTION_TTL_S``, 15 minutes by default) or the
    refund caps no longer allow it."""
    customer = actions.customer_for(ctx.client, body.customer_id if body else None)
    action = await actions.confirm(
        session,
        ctx.governor.settings,
        client_id=ctx.client_id,
        customer_ref=customer,
        conversation_id=conversation_id,
        action_id=action_id,
        request_id=ctx.request_id,
    )
    ctx.guardrail(f"action_confirmed:{action.kind}")
    return envelope(
        request,
        ActionOut(
            id=action.id,
            conversation_id=action.conversation_id,
            kind=action.kind,
            order_id=action.order_ref,
            amount_usd=str(action.amount_usd),
            status=action.status,
            reason=action.reason,
            created_at=action.created_at,
            executed_at=action.executed_at,
        ),
    )
