"""Conversation turns shared by the agent and the assistant: load, replay, persist.

A turn is prepared before any model call (ownership check, screening, history
replay) and written when it ends. Writing at the end keeps a database write
transaction from spanning slow model calls, and means the history holds exactly
what the client was shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.core.errors import NotFoundError
from ai_platform.core.ids import new_id
from ai_platform.governance.context import RequestContext
from ai_platform.services.agent import repository as repo
from ai_platform.services.agent.models import Conversation, ConversationMessage
from ai_platform.services.agent.repository import HISTORY_LIMIT, NewMessage
from ai_platform.services.agent.schemas import ConversationOut, InputMessage, MessageOut

TITLE_CHARS = 80


@dataclass
class TurnPlan:
    """Everything a turn needs before its first model call."""

    client_id: str
    kind: str
    conversation_id: str
    is_new: bool
    title: str
    status: str = "open"
    escalation_ticket_id: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[NewMessage] = field(default_factory=list)


async def prepare_turn(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    kind: str,
    conversation_id: str | None,
    inputs: list[InputMessage],
) -> TurnPlan:
    """Check the conversation belongs to the caller (else 404), screen the new text and
    replay the stored history as chat messages. Reads only."""
    for message in inputs:
        await ctx.screen(message.content)
    latest = inputs[-1].content
    earlier: list[str] = []
    if conversation_id is None:
        plan = TurnPlan(
            client_id=ctx.client_id,
            kind=kind,
            conversation_id=new_id("conv"),
            is_new=True,
            title=_title(latest),
        )
    else:
        conv = await repo.get_conversation(session, ctx.client_id, conversation_id, kind)
        if conv is None:
            raise NotFoundError(f"conversation {conversation_id} not found")
        rows = await repo.list_messages(session, ctx.client_id, conv.id, limit=HISTORY_LIMIT)
        plan = TurnPlan(
            client_id=ctx.client_id,
            kind=kind,
            conversation_id=conv.id,
            is_new=False,
            title=conv.title,
            status=conv.status,
            escalation_ticket_id=conv.escalation_ticket_id,
            history=replay(rows),
        )
        earlier = [row.content for row in rows if row.role == "user" and row.content]
    await _screen_joined(ctx, earlier, inputs)
    plan.inputs = [NewMessage(role=m.role, content=m.content) for m in inputs]
    return plan


async def _screen_joined(
    ctx: RequestContext, earlier: list[str], inputs: list[InputMessage]
) -> None:
    # An instruction split across several user messages is harmless in each part, so
    # the recent user turns are screened joined as well as one by one.
    texts = earlier + [m.content for m in inputs if m.role == "user"]
    if len(texts) > 1:
        await ctx.screen_conversation(texts)


def _title(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TITLE_CHARS else flat[: TITLE_CHARS - 1].rstrip() + "…"


def replay(rows: list[ConversationMessage]) -> list[dict[str, Any]]:
    """Stored messages as chat-completion messages.

    The history window may start in the middle of a tool exchange; tool results whose
    calling message fell outside it are dropped, and so are calls whose results are
    missing (a turn cut short), because providers reject unmatched pairs.
    """
    answered = {r.tool_call_id for r in rows if r.role == "tool" and r.tool_call_id}
    out: list[dict[str, Any]] = []
    open_calls: set[str] = set()
    for row in rows:
        if row.role == "tool":
            if row.tool_call_id in open_calls:
                out.append(
                    {"role": "tool", "tool_call_id": row.tool_call_id, "content": row.content}
                )
            continue
        if row.role == "assistant":
            calls = [c for c in row.tool_calls or [] if c.get("id") in answered]
            open_calls = {str(c["id"]) for c in calls}
            message: dict[str, Any] = {"role": "assistant", "content": row.content or None}
            if calls:
                message["tool_calls"] = [wire_tool_call(c) for c in calls]
            elif not row.content:
                continue
            out.append(message)
            continue
        open_calls = set()
        out.append({"role": row.role, "content": _with_attachments(row)})
    return out


def _with_attachments(row: ConversationMessage) -> str:
    if not row.attachments:
        return row.content
    notes = [
        f"[image {a.get('index', i) + 1}: {a.get('filename', '')} {a.get('format', '')} "
        f"{a.get('width', '?')}x{a.get('height', '?')}]"
        for i, a in enumerate(row.attachments)
    ]
    return "\n".join([*notes, row.content])


def wire_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    """A stored call ({id, name, arguments}) in the chat-completion wire shape."""
    return {
        "id": call["id"],
        "type": "function",
        "function": {
            "name": call["name"],
            "arguments": orjson.dumps(call.get("arguments") or {}).decode(),
        },
    }


async def persist_turn(
    session: AsyncSession,
    plan: TurnPlan,
    produced: list[NewMessage],
    *,
    escalation_ticket_id: str | None = None,
) -> Conversation:
    """Write the turn: the conversation row if new, the inputs, what the model produced."""
    conv = await repo.ensure_conversation(
        session, plan.client_id, plan.conversation_id, plan.kind, plan.title
    )
    await repo.append_messages(session, conv, [*plan.inputs, *produced])
    if escalation_ticket_id is not None and conv.status != "escalated":
        conv.status = "escalated"
        conv.escalation_ticket_id = escalation_ticket_id
        await session.flush()
    return conv


async def load_conversation(
    session: AsyncSession, client_id: str, conversation_id: str, kind: str
) -> ConversationOut:
    conv = await repo.get_conversation(session, client_id, conversation_id, kind)
    if conv is None:
        raise NotFoundError(f"conversation {conversation_id} not found")
    rows = await repo.list_messages(session, client_id, conv.id)
    return ConversationOut(
        id=conv.id,
        kind=conv.kind,
        title=conv.title,
        status=conv.status,
        escalation_ticket_id=conv.escalation_ticket_id,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
        messages=[
            MessageOut(
                id=r.id,
                role=r.role,
                content=r.content,
                tool_calls=r.tool_calls,
                tool_call_id=r.tool_call_id,
                name=r.name,
                attachments=r.attachments,
                finish_reason=r.finish_reason,
                model=r.model,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost_usd=float(r.cost_usd),
                created_at=r.created_at,
            )
            for r in rows
        ],
    )
