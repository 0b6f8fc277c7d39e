"""Refunds: the agent's irreversible action, proposed by a tool and run only on confirmation.

The ``request_refund`` tool never moves money. It checks the order is the signed-in
customer's (tenant *and* customer in the query: someone else's order reads as
missing) and that the amount fits the caps, then stores a *pending* action and tells
the model the customer must confirm. The refund runs when the client calls
``POST /api/v1/agent/conversations/{id}/actions/{action_id}/confirm`` — an explicit
request of the client, which no model output can make — and runs once: the pending →
executed transition is one conditional UPDATE, so a second confirmation is a 409.

Caps (settings): per call ``AGENT_REFUND_MAX_USD``, per conversation
``AGENT_REFUND_MAX_USD_PER_CONVERSATION``, per customer and UTC day
``AGENT_REFUND_MAX_USD_PER_DAY``; and never more than what is left of the order.
Pending refunds count against the caps when one is proposed, so a pile of unconfirmed
proposals cannot be confirmed past them; executed ones are counted again at
confirmation. A proposal waits ``AGENT_ACTION_TTL_S`` (15 minutes) for confirmation:
after that it has expired, cannot run (409), and no longer counts against the caps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.core.errors import ConflictError, ForbiddenError, NotFoundError
from ai_platform.core.ids import new_id
from ai_platform.db.base import utcnow
from ai_platform.governance.auth import ClientInfo
from ai_platform.services.agent import repository as repo
from ai_platform.services.agent.models import AgentAction

REFUND = "refund"
CENTS = Decimal("0.01")
CUSTOMER_SCOPE = "customer:"
CUSTOMER_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def customer_for(client: ClientInfo, requested: str | None) -> str | None:
    """The customer a turn acts for.

    A key issued for one customer (scope ``customer:<ref>``) acts for that customer
    only; otherwise the tenant's backend names the signed-in customer in the request.
    None: no customer, so no action on any customer's records.
    """
    pinned = sorted(s[len(CUSTOMER_SCOPE) :] for s in client.scopes if s.startswith(CUSTOMER_SCOPE))
    if pinned:
        if requested is not None and requested not in pinned:
            raise ForbiddenError("this API key acts for another customer")
        return requested or pinned[0]
    return requested


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refund the tool will not propose: ``reason`` for the ledger, ``message`` for the model."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Proposed:
    action: AgentAction


def proposals_since(settings: Settings) -> datetime:
    """The oldest proposal time still open for confirmation: older pending actions have
    expired, and neither run nor count against the caps."""
    return utcnow() - timedelta(seconds=settings.agent_action_ttl_s)


def start_of_day(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip().lstrip("$")).quantize(CENTS)
    except (InvalidOperation, ValueError):
        return Decimal(-1)
    return amount


async def propose_refund(
    session: AsyncSession,
    settings: Settings,
    *,
    client_id: str,
    customer_ref: str | None,
    conversation_id: str,
    request_id: str,
    order_ref: str,
    amount: Any,
    reason: str,
) -> Proposed | Refusal:
    if customer_ref is None:
        return Refusal(
            "no_customer",
            "refunds need a signed-in customer and this conversation has none; "
            "offer to open a ticket instead",
        )
    order = await repo.get_customer_order(session, client_id, customer_ref, order_ref)
    if order is None:
        return Refusal(
            "not_customers_order",
            f"no order {order_ref} was found for this customer; ask them to check the number",
        )
    open_since = proposals_since(settings)
    already = await repo.action_total(
        session, client_id, kind=REFUND, order_ref=order.order_ref, pending_since=open_since
    )
    left = (Decimal(order.total_usd) - already).quantize(CENTS)
    wanted = _amount(amount)
    if wanted is None:
        wanted = left
    if wanted <= 0:
        return Refusal(
            "nothing_to_refund",
            f"order {order.order_ref} has nothing left to refund"
            if left <= 0
            else "the amount must be a positive number of dollars",
        )
    if wanted > left:
        return Refusal(
            "cap_order", f"at most {left} USD of order {order.order_ref} can be refunded"
        )
    per_call = Decimal(str(settings.agent_refund_max_usd)).quantize(CENTS)
    if wanted > per_call:
        return Refusal(
            "cap_per_call",
            f"refunds over {per_call} USD need a human: offer to escalate",
        )
    in_conversation = await repo.action_total(
        session, client_id, kind=REFUND, conversation_id=conversation_id, pending_since=open_since
    )
    if in_conversation + wanted > Decimal(str(settings.agent_refund_max_usd_per_conversation)):
        return Refusal(
            "cap_per_conversation",
            "this conversation has reached its refund limit: offer to escalate to a human",
        )
    today = await repo.action_total(
        session,
        client_id,
        kind=REFUND,
        customer_ref=customer_ref,
        since=start_of_day(),
        pending_since=open_since,
    )
    if today + wanted > Decimal(str(settings.agent_refund_max_usd_per_day)):
        return Refusal(
            "cap_per_day",
            "this customer has reached today's refund limit: offer to escalate to a human",
        )
    action = AgentAction(
        id=new_id("act"),
        client_id=client_id,
        customer_ref=customer_ref,
        conversation_id=conversation_id,
        kind=REFUND,
        order_ref=order.order_ref,
        amount_usd=wanted,
        reason=" ".join(reason.split())[:2_000],
        status="pending",
        requested_by=request_id,
        created_at=utcnow(),
    )
    await repo.create_action(session, action)
    return Proposed(action)


async def confirm(
    session: AsyncSession,
    settings: Settings,
    *,
    client_id: str,
    customer_ref: str | None,
    conversation_id: str,
    action_id: str,
    request_id: str,
) -> AgentAction:
    """Run a pending action once; 404 if it is not this customer's, 409 if already run
    or if the caps no longer allow it."""
    action = await repo.get_action(session, client_id, conversation_id, action_id)
    if action is None or (customer_ref is not None and action.customer_ref != customer_ref):
        raise NotFoundError(f"action {action_id} not found")
    if action.status != "pending":
        raise ConflictError(f"action {action_id} was already {action.status}")
    open_since = proposals_since(settings)
    if action.created_at < open_since:
        raise ConflictError(
            f"action {action_id} expired: a proposal waits "
            f"{settings.agent_action_ttl_s:g} s for confirmation; ask the agent again"
        )
    executed = ("executed",)
    amount = Decimal(action.amount_usd)
    limits = (
        ("conversation", {"conversation_id": conversation_id},
         settings.agent_refund_max_usd_per_conversation),
        ("day", {"customer_ref": action.customer_ref, "since": start_of_day()},
         settings.agent_refund_max_usd_per_day),
    )  # fmt: skip
    for name, where, cap in limits:
        done = await repo.action_total(
            session,
            client_id,
            kind=action.kind,
            statuses=executed,
            **where,  # type: ignore[arg-type]
        )
        if done + amount > Decimal(str(cap)):
            raise ConflictError(f"the refund limit per {name} no longer allows this refund")
    order = await repo.get_customer_order(session, client_id, action.customer_ref, action.order_ref)
    refunded = await repo.action_total(
        session, client_id, kind=action.kind, statuses=executed, order_ref=action.order_ref
    )
    if order is None or refunded + amount > Decimal(order.total_usd):
        raise ConflictError(f"order {action.order_ref} cannot be refunded that much any more")
    if not await repo.mark_executed(
        session, client_id, action.id, request_id, proposed_since=open_since
    ):
        raise ConflictError(f"action {action_id} was already executed or has expired")
    await session.refresh(action)
    return action
