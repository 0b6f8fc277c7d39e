"""Database access for conversations, orders, customers and tickets.

Functions flush, never commit: the caller owns the transaction. Every query is
scoped by ``client_id``; a row of another tenant is indistinguishable from a
missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.core.ids import new_id
from ai_platform.db.base import utcnow
from ai_platform.services.agent.models import (
    AgentAction,
    Conversation,
    ConversationMessage,
    Customer,
    Order,
    Ticket,
)

# Bounds on what a conversation replays into the prompt: the newest messages win.
HISTORY_LIMIT = 40


@dataclass
class NewMessage:
    """A message produced during a turn, written when the turn ends."""

    role: str
    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    attachments: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


async def get_conversation(
    session: AsyncSession, client_id: str, conversation_id: str, kind: str
) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id,
            Conversation.client_id == client_id,
            Conversation.kind == kind,
        )
    )


async def ensure_conversation(
    session: AsyncSession, client_id: str, conversation_id: str, kind: str, title: str
) -> Conversation:
    """The conversation row, inserted if this turn started it."""
    conv = await get_conversation(session, client_id, conversation_id, kind)
    if conv is None:
        conv = Conversation(
            id=conversation_id,
            client_id=client_id,
            kind=kind,
            title=title[:200],
            status="open",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(conv)
        await session.flush()
    return conv


async def list_messages(
    session: AsyncSession, client_id: str, conversation_id: str, limit: int | None = None
) -> list[ConversationMessage]:
    """Messages oldest first; with ``limit``, only the newest ``limit`` of them."""
    stmt = select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation_id,
        ConversationMessage.client_id == client_id,
    )
    if limit is None:
        rows = await session.scalars(stmt.order_by(ConversationMessage.id))
        return list(rows)
    rows = await session.scalars(stmt.order_by(ConversationMessage.id.desc()).limit(limit))
    return list(reversed(list(rows)))


async def append_messages(
    session: AsyncSession, conv: Conversation, messages: Sequence[NewMessage]
) -> list[ConversationMessage]:
    now = utcnow()
    rows = [
        ConversationMessage(
            conversation_id=conv.id,
            client_id=conv.client_id,
            role=m.role,
            content=m.content,
            tool_calls=m.tool_calls,
            tool_call_id=m.tool_call_id,
            name=m.name,
            attachments=m.attachments,
            finish_reason=m.finish_reason,
            model=m.model,
            prompt_tokens=m.prompt_tokens,
            completion_tokens=m.completion_tokens,
            cost_usd=Decimal(str(round(m.cost_usd, 10))),
            created_at=now,
        )
        for m in messages
    ]
    session.add_all(rows)
    conv.updated_at = now
    await session.flush()
    return rows


async def mark_escalated(
    session: AsyncSession, client_id: str, conversation_id: str, ticket_id: str
) -> None:
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.client_id == client_id)
        .values(status="escalated", escalation_ticket_id=ticket_id, updated_at=utcnow())
    )


async def get_order(session: AsyncSession, client_id: str, order_ref: str) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.client_id == client_id, Order.order_ref == order_ref.upper())
    )


async def get_customer(session: AsyncSession, client_id: str, customer_ref: str) -> Customer | None:
    return await session.scalar(
        select(Customer).where(
            Customer.client_id == client_id, Customer.customer_ref == customer_ref
        )
    )


async def create_ticket(
    session: AsyncSession,
    client_id: str,
    *,
    subject: str,
    description: str,
    priority: str,
    conversation_id: str | None,
    source: str,
) -> Ticket:
    ticket = Ticket(
        id=new_id("tkt"),
        client_id=client_id,
        conversation_id=conversation_id,
        subject=subject[:200],
        description=description,
        priority=priority,
        status="open",
        source=source,
        created_at=utcnow(),
    )
    session.add(ticket)
    await session.flush()
    return ticket


async def get_ticket(session: AsyncSession, client_id: str, ticket_id: str) -> Ticket | None:
    return await session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.client_id == client_id)
    )


async def list_tickets(
    session: AsyncSession, client_id: str, *, conversation_id: str | None, limit: int
) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.client_id == client_id)
    if conversation_id is not None:
        stmt = stmt.where(Ticket.conversation_id == conversation_id)
    rows = await session.scalars(stmt.order_by(Ticket.created_at.desc(), Ticket.id).limit(limit))
    return list(rows)


async def count_orders(session: AsyncSession, client_id: str) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Order).where(Order.client_id == client_id)
    )
    return int(total or 0)


async def get_customer_order(
    session: AsyncSession, client_id: str, customer_ref: str, order_ref: str
) -> Order | None:
    """The order if it belongs to this tenant *and* this customer; else None, whether it
    is missing or someone else's (the caller cannot tell the two apart)."""
    return await session.scalar(
        select(Order).where(
            Order.client_id == client_id,
            Order.customer_ref == customer_ref,
            Order.order_ref == order_ref.upper(),
        )
    )


ACTIVE_ACTIONS = ("pending", "executed")


async def action_total(
    session: AsyncSession,
    client_id: str,
    *,
    kind: str,
    statuses: Sequence[str] = ACTIVE_ACTIONS,
    customer_ref: str | None = None,
    conversation_id: str | None = None,
    order_ref: str | None = None,
    since: datetime | None = None,
    exclude_id: str | None = None,
    pending_since: datetime | None = None,
) -> Decimal:
    """The sum of ``amount_usd`` over the tenant's matching actions; with
    ``pending_since``, a pending action proposed before it (expired) counts for nothing."""
    stmt = select(func.coalesce(func.sum(AgentAction.amount_usd), 0)).where(
        AgentAction.client_id == client_id,
        AgentAction.kind == kind,
        AgentAction.status.in_(statuses),
    )
    if pending_since is not None:
        stmt = stmt.where(
            or_(AgentAction.status != "pending", AgentAction.created_at >= pending_since)
        )
    if customer_ref is not None:
        stmt = stmt.where(AgentAction.customer_ref == customer_ref)
    if conversation_id is not None:
        stmt = stmt.where(AgentAction.conversation_id == conversation_id)
    if order_ref is not None:
        stmt = stmt.where(AgentAction.order_ref == order_ref)
    if since is not None:
        stmt = stmt.where(AgentAction.created_at >= since)
    if exclude_id is not None:
        stmt = stmt.where(AgentAction.id != exclude_id)
    total = await session.scalar(stmt)
    return Decimal(str(total or 0))


async def create_action(session: AsyncSession, action: AgentAction) -> AgentAction:
    session.add(action)
    await session.flush()
    return action


async def get_action(
    session: AsyncSession, client_id: str, conversation_id: str, action_id: str
) -> AgentAction | None:
    return await session.scalar(
        select(AgentAction).where(
            AgentAction.id == action_id,
            AgentAction.client_id == client_id,
            AgentAction.conversation_id == conversation_id,
        )
    )


async def mark_executed(
    session: AsyncSession,
    client_id: str,
    action_id: str,
    request_id: str,
    *,
    proposed_since: datetime,
) -> bool:
    """Move a pending action proposed at or after ``proposed_since`` to executed; False
    if it was not pending (already run) or is older (expired).

    One conditional UPDATE: of two concurrent confirmations exactly one wins.
    """
    result = await session.execute(
        update(AgentAction)
        .where(
            AgentAction.id == action_id,
            AgentAction.client_id == client_id,
            AgentAction.status == "pending",
            AgentAction.created_at >= proposed_since,
        )
        .values(status="executed", executed_at=utcnow(), confirmed_by=request_id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
