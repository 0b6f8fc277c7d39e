"""Stored messages replayed as chat messages: tool exchanges are kept whole or dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from ai_platform.services.agent.conversations import replay
from ai_platform.services.agent.models import ConversationMessage


def row(role: str, content: str = "", **kw: Any) -> ConversationMessage:
    return ConversationMessage(
        conversation_id="conv_x",
        client_id="cli_x",
        role=role,
        content=content,
        prompt_tokens=0,
        completion_tokens=0,
        cost_usd=Decimal(0),
        created_at=datetime.now(UTC),
        **kw,
    )


CALL = {"id": "call_1", "name": "get_order_status", "arguments": {"order_id": "ORD-1001"}}


def test_a_complete_tool_exchange_is_replayed_in_wire_shape() -> None:
    messages = replay(
        [
            row("user", "Where is ORD-1001?"),
            row("assistant", "", tool_calls=[CALL]),
            row("tool", '{"status":"shipped"}', tool_call_id="call_1", name="get_order_status"),
            row("assistant", "It has shipped."),
        ]
    )
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    wire = messages[1]["tool_calls"][0]
    assert wire["type"] == "function" and wire["id"] == "call_1"
    assert orjson.loads(wire["function"]["arguments"]) == {"order_id": "ORD-1001"}
    assert messages[1]["content"] is None
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"status":"shipped"}',
    }


def test_results_whose_call_fell_outside_the_window_are_dropped() -> None:
    messages = replay(
        [
            row("tool", '{"status":"shipped"}', tool_call_id="call_0", name="get_order_status"),
            row("assistant", "It has shipped."),
            row("user", "Thanks"),
        ]
    )
    assert [m["role"] for m in messages] == ["assistant", "user"]


def test_calls_without_results_are_dropped_and_empty_messages_skipped() -> None:
    messages = replay(
        [
            row("user", "Where is ORD-1001?"),
            row("assistant", "", tool_calls=[CALL]),  # the turn was cut short here
            row("user", "Hello?"),
        ]
    )
    assert messages == [
        {"role": "user", "content": "Where is ORD-1001?"},
        {"role": "user", "content": "Hello?"},
    ]


def test_image_turns_are_replayed_as_text_notes() -> None:
    [message] = replay(
        [
            row(
                "user",
                "What is this?",
                attachments=[
                    {"index": 0, "filename": "a.png", "format": "PNG", "width": 4, "height": 2}
                ],
            )
        ]
    )
    assert message["content"] == "[image 1: a.png PNG 4x2]\nWhat is this?"
