"""Agent tables: conversations and their messages (shared with the assistant), and the
customer-support data the agent's tools read and write (customers, orders, tickets).

Every table carries ``client_id`` and every query filters on it: one tenant never
sees another's conversations, orders or tickets.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ai_platform.db.base import Base, TimestampMixin, utcnow
from ai_platform.db.types import Money

Price = Numeric(12, 2)


class Conversation(TimestampMixin, Base):
    """A chat thread. ``kind`` says which service owns it ("agent" or "assistant")."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_client_kind", "client_id", "kind", "updated_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    escalation_ticket_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConversationMessage(TimestampMixin, Base):
    """One message of a conversation, in the shape the chat API uses.

    ``tool_calls`` holds an assistant message's calls ([{id, name, arguments}]); a
    ``role="tool"`` message holds one call's result with ``tool_call_id`` and ``name``.
    ``attachments`` describes images the assistant was shown (never the bytes).
    Usage columns are set on assistant messages: what that model call cost.
    """

    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_conversation_messages_conv", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    tool_call_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(64))
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    finish_reason: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("client_id", "customer_ref"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    customer_ref: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))


class Order(TimestampMixin, Base):
    """A customer's order as the support agent sees it (status, items, dates, tracking)."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("client_id", "order_ref"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    order_ref: Mapped[str] = mapped_column(String(40))
    customer_ref: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_usd: Mapped[Decimal] = mapped_column(Price)
    ordered_on: Mapped[date] = mapped_column(Date)
    shipped_on: Mapped[date | None] = mapped_column(Date)
    estimated_delivery: Mapped[date | None] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(60))


class Ticket(TimestampMixin, Base):
    """A support ticket, opened by the agent's tools or by an escalation to a human."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_client_time", "client_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    # Not a foreign key: a ticket belongs to the helpdesk and outlives the chat, and
    # an escalation may open it before the turn's conversation row is written.
    conversation_id: Mapped[str | None] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="open")
    source: Mapped[str] = mapped_column(String(20), default="agent")


class AgentAction(TimestampMixin, Base):
    """An irreversible action the agent proposed (a refund): it runs only when the client
    confirms it (``POST …/actions/{id}/confirm``), once.

    Scoped like every agent row by ``client_id``, and by ``customer_ref``: the customer
    the turn acted for. Executed refunds are what the caps count (with pending ones).
    """

    __tablename__ = "agent_actions"
    __table_args__ = (
        Index("ix_agent_actions_customer_time", "client_id", "customer_ref", "created_at"),
        Index("ix_agent_actions_conversation", "client_id", "conversation_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    customer_ref: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    order_ref: Mapped[str] = mapped_column(String(40))
    amount_usd: Mapped[Decimal] = mapped_column(Price)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_by: Mapped[str] = mapped_column(String(64))
    """The request id of the turn that proposed it."""
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    executed_at: Mapped[datetime | None] = mapped_column()
