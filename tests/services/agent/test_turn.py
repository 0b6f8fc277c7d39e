"""The agent loop against a scripted model: escalation policy, round limit, bad calls.

The simulator answers after one tool round; these cases need a model that keeps
calling tools or calls them badly, so the model's side is scripted here. The tools,
tickets and conversation rows are real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.services.agent.conversations import TurnPlan, load_conversation, persist_turn
from ai_platform.services.agent.models import Order
from ai_platform.services.agent.repository import NewMessage
from ai_platform.services.agent.service import (
    FAILED_TOOL_LIMIT,
    MAX_TOOL_ROUNDS,
    AgentTurn,
    Token,
    ToolCallStarted,
    ToolFinished,
    asks_for_human,
)
from tests.services.agent.support import (
    ScriptedGovernor,
    calls,
    db_session,
    said,
    scripted_context,
    seeded_tenant,
    tickets_of,
)


def plan_for(client_id: str, text: str, **kw: object) -> TurnPlan:
    values: dict[str, object] = {
        "client_id": client_id,
        "kind": "agent",
        "conversation_id": f"conv_{client_id[-20:]}",
        "is_new": True,
        "title": text[:80],
        **kw,
    }
    plan = TurnPlan(**values)  # type: ignore[arg-type]
    plan.inputs = [NewMessage(role="user", content=text)]
    return plan


async def run(settings: Settings, client_id: str, plan: TurnPlan, governor: ScriptedGovernor):  # type: ignore[no-untyped-def]
    ctx = scripted_context(governor, client_id)
    async with db_session(settings) as session:

        @asynccontextmanager
        async def sessions() -> AsyncIterator[AsyncSession]:
            yield session

        turn = AgentTurn(ctx, plan, sessions, stream=False)
        events = [e async for e in turn.events()]
        await persist_turn(
            session, plan, turn.state.produced,
            escalation_ticket_id=turn.state.escalation_ticket_id,
        )  # fmt: skip
        await session.commit()
    return turn, events


async def test_tool_results_go_back_to_the_model_in_order(settings: Settings) -> None:
    tenant = await seeded_tenant(settings)
    governor = ScriptedGovernor(
        settings,
        [calls(("get_order_status", {"order_id": "ord-1005"})), said("It is delayed.")],
    )
    plan = plan_for(tenant.client_id, "Where is ORD-1005?")
    turn, events = await run(settings, tenant.client_id, plan, governor)

    assert [type(e) for e in events] == [ToolCallStarted, ToolFinished, Token]
    finished = events[1]
    assert isinstance(finished, ToolFinished)
    assert finished.result["status"] == "delayed"  # lower-case id normalised
    assert finished.result["carrier"] == "DHL"
    second_request, options = governor.requests[1]
    assert [m["role"] for m in second_request] == ["system", "user", "assistant", "tool"]
    assert second_request[2]["tool_calls"][0]["function"]["name"] == "get_order_status"
    assert second_request[3]["tool_call_id"] == second_request[2]["tool_calls"][0]["id"]
    assert options["tools"] and options["tool_choice"] == "auto"
    assert turn.state.reply == "It is delayed."
    assert not turn.state.escalated


async def test_repeated_failed_lookups_escalate_to_a_human(settings: Settings) -> None:
    tenant = await seeded_tenant(settings)
    governor = ScriptedGovernor(
        settings,
        [
            calls(("get_order_status", {"order_id": "ORD-9001"})),
            calls(("get_order_status", {"order_id": "ORD-9002"})),
            said("I could not find those orders."),
        ],
    )
    plan = plan_for(tenant.client_id, "Where are ORD-9001 and ORD-9002?")
    turn, _ = await run(settings, tenant.client_id, plan, governor)

    assert FAILED_TOOL_LIMIT == 2
    assert turn.state.escalated
    [ticket] = await tickets_of(settings, tenant.client_id)
    assert (ticket.priority, ticket.source) == ("high", "escalation")
    assert ticket.conversation_id == plan.conversation_id
    assert "found nothing" in ticket.description
    assert "ORD-9001 and ORD-9002" in ticket.description  # the customer's words travel along
    assert ticket.id in turn.state.reply
    async with db_session(settings) as session:
        stored = await load_conversation(session, tenant.client_id, plan.conversation_id, "agent")
    assert (stored.status, stored.escalation_ticket_id) == ("escalated", ticket.id)
    assert ticket.id in stored.messages[-1].content


async def test_rounds_run_out_then_the_model_must_answer_and_a_human_takes_over(
    settings: Settings,
) -> None:
    tenant = await seeded_tenant(settings)
    lookup = calls(("get_order_status", {"order_id": "ORD-1001"}))
    governor = ScriptedGovernor(
        settings, [lookup] * MAX_TOOL_ROUNDS + [said("Here is what I know.")]
    )
    plan = plan_for(tenant.client_id, "Tell me everything about ORD-1001")
    turn, events = await run(settings, tenant.client_id, plan, governor)

    assert turn.state.rounds == MAX_TOOL_ROUNDS + 1
    assert sum(isinstance(e, ToolCallStarted) for e in events) == MAX_TOOL_ROUNDS
    assert [kw["tool_choice"] for _, kw in governor.requests] == ["auto"] * MAX_TOOL_ROUNDS + [
        "none"
    ]
    assert turn.state.escalated
    [ticket] = await tickets_of(settings, tenant.client_id)
    assert f"after {MAX_TOOL_ROUNDS} rounds" in ticket.description


async def test_malformed_arguments_and_unknown_tools_are_reported_to_the_model(
    settings: Settings,
) -> None:
    tenant = await seeded_tenant(settings)
    governor = ScriptedGovernor(
        settings,
        [
            calls(("get_order_status", "{not json"), ("launch_rocket", {})),
            said("Sorry about that."),
        ],
    )
    plan = plan_for(tenant.client_id, "Where is my order?")
    turn, _ = await run(settings, tenant.client_id, plan, governor)

    results = [c.result for c in turn.state.tool_calls]
    assert "not a JSON object" in results[0]["error"]
    assert "no tool named 'launch_rocket'" in results[1]["error"]
    assert turn.state.tool_calls[0].arguments == {"_raw": "{not json"}
    # Two failed calls in one turn: the policy hands the conversation over.
    assert turn.state.escalated


async def test_an_escalated_conversation_is_not_escalated_twice(settings: Settings) -> None:
    tenant = await seeded_tenant(settings)
    first = plan_for(tenant.client_id, "I want to talk to a human")
    governor = ScriptedGovernor(
        settings, [calls(("escalate_to_human", {"reason": "asked for a person"})), said("Done.")]
    )
    turn, _ = await run(settings, tenant.client_id, first, governor)
    ticket_id = turn.state.escalation_ticket_id
    assert ticket_id is not None

    again = plan_for(
        tenant.client_id,
        "Still waiting for a human!",
        is_new=False,
        status="escalated",
        escalation_ticket_id=ticket_id,
    )
    again.conversation_id = first.conversation_id
    governor = ScriptedGovernor(
        settings, [calls(("escalate_to_human", {"reason": "impatient"})), said("Soon.")]
    )
    turn, _ = await run(settings, tenant.client_id, again, governor)

    assert turn.state.tool_calls[0].result["status"] == "already escalated"
    assert turn.state.escalation_ticket_id is None  # no new ticket this turn
    assert len(await tickets_of(settings, tenant.client_id)) == 1
    assert "already handed to a human" in governor.requests[0][0][0]["content"]


async def test_orders_are_per_tenant(settings: Settings) -> None:
    owner = await seeded_tenant(settings)
    stranger = await seeded_tenant(settings)
    async with db_session(settings) as session:
        await session.execute(delete(Order).where(Order.client_id == stranger.client_id))
        await session.commit()
    governor = ScriptedGovernor(
        settings, [calls(("get_order_status", {"order_id": "ORD-1001"})), said("Not found.")]
    )
    plan = plan_for(stranger.client_id, "Where is ORD-1001?")
    turn, _ = await run(settings, stranger.client_id, plan, governor)
    assert "no order ORD-1001" in turn.state.tool_calls[0].result["error"]
    assert owner.client_id != stranger.client_id


async def test_a_request_for_a_person_escalates_even_if_the_model_does_not(
    settings: Settings,
) -> None:
    tenant = await seeded_tenant(settings)
    governor = ScriptedGovernor(settings, [said("I can surely help you myself!")])
    plan = plan_for(tenant.client_id, "Can I speak with a manager, please?")
    turn, _ = await run(settings, tenant.client_id, plan, governor)

    assert turn.state.escalated and turn.state.tool_calls == []
    [ticket] = await tickets_of(settings, tenant.client_id)
    assert "asked for a human" in ticket.description
    assert turn.state.reply.startswith("I can surely help you myself!")
    assert ticket.id in turn.state.reply


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("This is useless, I want to talk to a human now", True),
        ("Can I speak with a manager?", True),
        ("put me through to someone", True),
        ("I want a real person", True),
        ("It was delivered to a person next door", False),
        ("That was human error on my side", False),
        ("Where is my order?", False),
    ],
)
def test_requests_for_a_person_are_recognised(text: str, asks: bool) -> None:
    assert asks_for_human(text) is asks
