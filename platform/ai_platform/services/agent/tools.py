"""The agent's tools: their JSON schemas (what the model is offered) and their execution.

Results are plain JSON objects the model reads back. A tool never raises into the
agent loop for a bad argument or a missing record: it returns ``{"error": ...}`` so the
model can recover (ask for the right order number, or escalate), and the loop counts
failures to decide when a human should take over.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.governance.context import RequestContext
from ai_platform.services.agent import repository as repo
from ai_platform.services.agent.models import Order
from ai_platform.services.peers import knowledge_search

if TYPE_CHECKING:
    from ai_platform.services.knowledge.schemas import SearchHit

SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""Opens the session a tool runs in (the request's own, or a short committed one)."""

MAX_KNOWLEDGE_RESULTS = 5
PASSAGE_CHARS = 1_200
PRIORITIES = ("low", "normal", "high", "urgent")
_ORDER_REF = re.compile(r"^[A-Za-z]{2,6}-?\d{1,12}$")

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "search_knowledge",
            "description": (
                "Search the company knowledge base (help articles, policies, product manuals) "
                "for passages that answer a general question: returns, refunds, warranty, "
                "shipping times, payments, accounts, how a product works."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look up."},
                    "max_results": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_KNOWLEDGE_RESULTS,
                        "default": 3,
                    },
                },
                "required": ["query"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_order_status",
            "description": (
                "Look up a customer's order by its id (like ORD-1001): status, items, dates, "
                "carrier and tracking number."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "order_id": {"type": "string", "description": "The order id, e.g. ORD-1001."}
                },
                "required": ["order_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "create_ticket",
            "description": (
                "Open a support ticket for a problem that needs follow-up by the support "
                "team (damaged item, wrong item, billing problem, complaint)."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "subject": {"type": "string", "description": "A short title."},
                    "description": {"type": "string", "description": "What happened."},
                    "priority": {"type": "string", "enum": list(PRIORITIES), "default": "normal"},
                },
                "required": ["subject", "description"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "request_refund",
            "description": (
                "Refund one of the signed-in customer's orders (like ORD-1001), only when the "
                "customer asks for a refund. Nothing is paid until the customer confirms "
                "it in the app; tell them so."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "order_id": {"type": "string", "description": "The order id, e.g. ORD-1001."},
                    "amount_usd": {
                        "type": "number",
                        "description": "Dollars to refund; the order's remaining total if omitted.",
                    },
                    "reason": {"type": "string", "description": "Why, in the customer's words."},
                },
                "required": ["order_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "escalate_to_human",
            "description": (
                "Hand the conversation to a human support agent: when the customer asks for "
                "a person, or when you cannot help with the tools you have."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "reason": {"type": "string", "description": "Why a human should take over."}
                },
                "required": ["reason"],
            },
        },
    },
]

TOOL_NAMES = frozenset(t["function"]["name"] for t in TOOLS)


@dataclass
class ToolOutcome:
    result: dict[str, Any]
    summary: str
    failed: bool = False
    ticket_id: str | None = None
    escalated: bool = False
    action_id: str | None = None


class ToolBox:
    """Runs tool calls for one turn of one conversation, on behalf of one tenant."""

    def __init__(
        self,
        ctx: RequestContext,
        sessions: SessionScope,
        conversation_id: str,
        *,
        escalation_ticket_id: str | None = None,
        last_user_message: str = "",
        customer_ref: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.sessions = sessions
        self.conversation_id = conversation_id
        self.escalation_ticket_id = escalation_ticket_id
        self.last_user_message = last_user_message
        self.customer_ref = customer_ref

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        if name == "search_knowledge":
            return await self.search_knowledge(arguments)
        if name == "get_order_status":
            return await self.get_order_status(arguments)
        if name == "create_ticket":
            return await self.create_ticket(arguments)
        if name == "request_refund":
            return await self.request_refund(arguments)
        if name == "escalate_to_human":
            return await self.escalate(str(arguments.get("reason") or "").strip())
        return ToolOutcome({"error": f"there is no tool named {name!r}"}, f"{name}: unknown", True)

    async def search_knowledge(self, arguments: dict[str, Any]) -> ToolOutcome:
        query = str(arguments.get("query") or "").strip()
        if not query:
            return ToolOutcome({"error": "query is empty"}, "search_knowledge: empty query", True)
        max_results = _clamp_int(arguments.get("max_results"), 3, 1, MAX_KNOWLEDGE_RESULTS)
        # In process or over HTTP, as this process was composed; the in-process search
        # loads the knowledge service only when a conversation first needs it.
        search = knowledge_search(self.ctx)
        async with self.sessions() as session:
            hits = await search.search(self.ctx, session, query, max_results)
        passages = [_passage(n, hit) for n, hit in enumerate(hits, start=1)]
        if not passages:
            return ToolOutcome(
                {"query": query, "passages": [], "note": "nothing in the knowledge base matches"},
                "search_knowledge: no passages found",
                True,
            )
        sources = sorted({str(p["source"]) for p in passages})
        return ToolOutcome(
            {"query": query, "passages": passages},
            f"search_knowledge: {len(passages)} passage(s) from {', '.join(sources)}",
        )

    async def get_order_status(self, arguments: dict[str, Any]) -> ToolOutcome:
        raw = str(arguments.get("order_id") or "").strip().lstrip("#").upper()
        if not _ORDER_REF.match(raw):
            return ToolOutcome(
                {"error": f"{raw or 'an empty value'} is not an order id (like ORD-1001)"},
                "get_order_status: invalid order id",
                True,
            )
        ref = raw if "-" in raw else re.sub(r"^([A-Z]+)(\d+)$", r"\1-\2", raw)
        async with self.sessions() as session:
            order = await repo.get_order(session, self.ctx.client_id, ref)
        if order is None:
            return ToolOutcome(
                {
                    "error": f"no order {ref} was found; ask the customer to check the number, "
                    "or escalate to a human"
                },
                f"get_order_status: {ref} not found",
                True,
            )
        return ToolOutcome(order_facts(order), f"{order.order_ref}: {order.status}")

    async def create_ticket(self, arguments: dict[str, Any]) -> ToolOutcome:
        subject = " ".join(str(arguments.get("subject") or "").split())[:200]
        description = str(arguments.get("description") or "").strip()[:8_000]
        if not subject and not description:
            return ToolOutcome(
                {"error": "a ticket needs a subject or a description"},
                "create_ticket: nothing to file",
                True,
            )
        priority = str(arguments.get("priority") or "normal").lower()
        if priority not in PRIORITIES:
            priority = "normal"
        async with self.sessions() as session:
            ticket = await repo.create_ticket(
                session,
                self.ctx.client_id,
                subject=subject or description[:80],
                description=description or subject,
                priority=priority,
                conversation_id=self.conversation_id,
                source="agent",
            )
        return ToolOutcome(
            {"ticket_id": ticket.id, "status": ticket.status, "priority": ticket.priority},
            f"ticket {ticket.id} opened ({ticket.priority})",
            ticket_id=ticket.id,
        )

    async def request_refund(self, arguments: dict[str, Any]) -> ToolOutcome:
        """Propose a refund (``actions.py``): it waits for the client's confirmation."""
        from ai_platform.services.agent import actions

        ref = _order_ref(arguments.get("order_id"))
        if ref is None:
            return ToolOutcome(
                {"error": "order_id is not an order id (like ORD-1001)"},
                "request_refund: invalid order id",
                True,
            )
        async with self.sessions() as session:
            proposed = await actions.propose_refund(
                session,
                self.ctx.governor.settings,
                client_id=self.ctx.client_id,
                customer_ref=self.customer_ref,
                conversation_id=self.conversation_id,
                request_id=self.ctx.request_id,
                order_ref=ref,
                amount=arguments.get("amount_usd"),
                reason=str(arguments.get("reason") or ""),
            )
        if isinstance(proposed, actions.Refusal):
            self.ctx.guardrail(f"tool_refused:{proposed.reason}:request_refund")
            return ToolOutcome(
                {"error": proposed.message, "refused": True, "reason": proposed.reason},
                f"request_refund: refused ({proposed.reason})",
                True,
            )
        action = proposed.action
        self.ctx.guardrail("action_pending:refund")
        return ToolOutcome(
            {
                "action_id": action.id,
                "status": "awaiting_confirmation",
                "order_id": action.order_ref,
                "amount_usd": str(action.amount_usd),
                "message": "nothing has been refunded yet: the customer must confirm "
                "this refund in the app",
            },
            f"refund of {action.amount_usd} USD for {action.order_ref} awaits confirmation",
            action_id=action.id,
        )

    async def escalate(self, reason: str) -> ToolOutcome:
        """Open a high-priority ticket and mark the conversation for a human (once)."""
        if self.escalation_ticket_id is not None:
            return ToolOutcome(
                {
                    "ticket_id": self.escalation_ticket_id,
                    "status": "already escalated",
                    "message": "a human agent already has this conversation",
                },
                f"already escalated ({self.escalation_ticket_id})",
                ticket_id=self.escalation_ticket_id,
                escalated=True,
            )
        reason = reason or "the customer needs help the agent cannot give"
        description = f"Reason: {reason}"
        if self.last_user_message:
            description += f"\n\nLast customer message:\n{self.last_user_message}"
        async with self.sessions() as session:
            ticket = await repo.create_ticket(
                session,
                self.ctx.client_id,
                subject=f"Escalation: {' '.join(reason.split())[:150]}",
                description=description,
                priority="high",
                conversation_id=self.conversation_id,
                source="escalation",
            )
            await repo.mark_escalated(session, self.ctx.client_id, self.conversation_id, ticket.id)
        self.escalation_ticket_id = ticket.id
        return ToolOutcome(
            {
                "ticket_id": ticket.id,
                "status": "escalated",
                "message": "a human agent will take over this conversation",
            },
            f"escalated to a human (ticket {ticket.id})",
            ticket_id=ticket.id,
            escalated=True,
        )


def order_facts(order: Order) -> dict[str, Any]:
    """The order as the model and the client see it: the answer's facts first."""

    def day(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "order_id": order.order_ref,
        "status": order.status,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "estimated_delivery": day(order.estimated_delivery),
        "ordered_on": day(order.ordered_on),
        "shipped_on": day(order.shipped_on),
        "delivered_on": day(order.delivered_on),
        "items": [
            {"name": i.get("name"), "quantity": i.get("quantity"), "sku": i.get("sku")}
            for i in order.items
        ],
        "total_usd": str(order.total_usd),
    }


def _order_ref(value: Any) -> str | None:
    """``ORD-1001`` from "ord-1001", "#ORD1001" ...; None if it is not an order id."""
    raw = str(value or "").strip().lstrip("#").upper()
    if not _ORDER_REF.match(raw):
        return None
    return raw if "-" in raw else re.sub(r"^([A-Z]+)(\d+)$", r"\1-\2", raw)


def _clamp_int(value: Any, default: int, low: int, high: int) -> int:
    if isinstance(value, bool):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


def _passage(n: int, hit: SearchHit) -> dict[str, Any]:
    """A knowledge ``SearchHit`` as the model reads it: the text first, then where from."""
    text = " ".join(str(hit.content).split())
    if len(text) > PASSAGE_CHARS:
        text = text[: PASSAGE_CHARS - 1].rstrip() + "…"
    return {
        "n": n,
        "text": text,
        "title": hit.title,
        "source": hit.source,
        "score": round(float(hit.score), 4),
    }
