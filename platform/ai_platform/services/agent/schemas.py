"""Request and response models of the customer agent (shared by the assistant's chat)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ai_platform.core.ids import MAX_ID_CHARS, ConversationIdStr, id_pattern
from ai_platform.core.text import ModelName, Text

MAX_MESSAGE_CHARS = 8_000
MAX_MESSAGES = 20
MAX_TOTAL_CHARS = 32_000

CustomerRef = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
ActionIdStr = Annotated[str, StringConstraints(max_length=MAX_ID_CHARS, pattern=id_pattern("act"))]


class InputMessage(BaseModel):
    """A message the client sends: its own words, or earlier turns it wants replayed."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"] = "user"
    content: Text = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class ChatRequest(BaseModel):
    """One turn: ``message`` (the usual case) or ``messages`` (several, the last from the user)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"message": "Where is my order ORD-1001?"},
                {
                    "conversation_id": "conv_5f0c3a1e9b2d4c6f8a7e1d2c3b4a5f60",
                    "message": "Can you open a ticket? The keyboard arrived broken.",
                },
            ]
        },
    )

    conversation_id: ConversationIdStr | None = Field(
        default=None, description="Continue this conversation (`conv_…`); omit to start a new one."
    )
    message: Text | None = Field(default=None, min_length=1, max_length=MAX_MESSAGE_CHARS)
    messages: list[InputMessage] | None = Field(default=None, min_length=1, max_length=MAX_MESSAGES)
    model: ModelName | None = Field(
        default=None,
        description="Chat model for this turn; the platform default when omitted. "
        "A model the platform cannot price is a 422 `unknown_model`.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> ChatRequest:
        if (self.message is None) == (self.messages is None):
            raise ValueError("send exactly one of 'message' or 'messages'")
        if self.messages is not None:
            if self.messages[-1].role != "user":
                raise ValueError("the last of 'messages' must have role 'user'")
            if sum(len(m.content) for m in self.messages) > MAX_TOTAL_CHARS:
                raise ValueError(f"'messages' may hold at most {MAX_TOTAL_CHARS} characters")
        return self

    def input_messages(self) -> list[InputMessage]:
        if self.messages is not None:
            return list(self.messages)
        assert self.message is not None
        return [InputMessage(role="user", content=self.message)]


class AgentChatRequest(ChatRequest):
    """A turn with the customer agent: a chat request, and the customer it acts for."""

    customer_id: CustomerRef | None = Field(
        default=None,
        description="The signed-in customer this turn acts for, as your backend "
        "authenticated them (e.g. `CUST-001`). Actions that change records (refunds) "
        "touch only this customer's orders; without it they are refused. A key issued "
        "for one customer (scope `customer:<id>`) implies it.",
    )


class ToolCallOut(BaseModel):
    """One tool the agent called during the turn, with what it returned."""

    id: str
    name: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    summary: str


class UsageOut(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "conversation_id": "conv_5f0c3a1e9b2d4c6f8a7e1d2c3b4a5f60",
                    "reply": "Your order ORD-1001 has shipped with UPS and should arrive soon.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "name": "get_order_status",
                            "arguments": {"order_id": "ORD-1001"},
                            "result": {"order_id": "ORD-1001", "status": "shipped"},
                            "summary": "ORD-1001: shipped",
                        }
                    ],
                    "escalated": False,
                    "ticket_id": None,
                    "rounds": 2,
                    "model": "gpt-4o-mini",
                    "usage": {"prompt_tokens": 412, "completion_tokens": 38, "total_tokens": 450},
                    "cost_usd": 0.0000846,
                }
            ]
        }
    )

    conversation_id: str
    reply: str
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    escalated: bool = False
    ticket_id: str | None = Field(
        default=None, description="The ticket opened by an escalation in this turn, if any."
    )
    rounds: int = Field(description="Model calls made in this turn.")
    model: str | None = None
    usage: UsageOut = Field(default_factory=UsageOut)
    cost_usd: float = 0.0
    pending_actions: list[str] = Field(
        default_factory=list,
        description="Ids of irreversible actions (refunds) the agent proposed in this turn. "
        "None has run: each runs only when the client confirms it with "
        "`POST /api/v1/agent/conversations/{conversation_id}/actions/{action_id}/confirm`.",
    )


class ConfirmRequest(BaseModel):
    """The confirmation of a proposed action, sent by the client on the customer's behalf."""

    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerRef | None = Field(
        default=None, description="The signed-in customer; must be the one the action is for."
    )


class ActionOut(BaseModel):
    id: str
    conversation_id: str
    kind: str
    order_id: str
    amount_usd: str
    status: str
    reason: str
    created_at: datetime
    executed_at: datetime | None = None


class MessageOut(BaseModel):
    id: int
    role: str
    content: str
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    attachments: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    created_at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "conv_5f0c3a1e9b2d4c6f8a7e1d2c3b4a5f60",
                    "kind": "agent",
                    "title": "Where is my order ORD-1001?",
                    "status": "open",
                    "escalation_ticket_id": None,
                    "created_at": "2025-01-01T12:00:00Z",
                    "updated_at": "2025-01-01T12:00:02Z",
                    "messages": [],
                }
            ]
        }
    )

    id: str
    kind: str
    title: str
    status: str
    escalation_ticket_id: str | None = None
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]


class TicketOut(BaseModel):
    id: str
    conversation_id: str | None
    subject: str
    description: str
    priority: str
    status: str
    source: str
    created_at: datetime


class TicketList(BaseModel):
    tickets: list[TicketOut]
