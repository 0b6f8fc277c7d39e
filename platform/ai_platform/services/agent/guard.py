"""The agent's guardrails for one turn: provenance of tool calls, segregated tool
results, output filtering and the canary (see ``ai_platform.governance.guardrails``).

Which tools change something, and what asking for them looks like, is declared once
in ``AGENT_ACTIONS``. ``request_refund`` is also irreversible: besides the provenance
rule it only ever proposes (``actions.py``); the client confirms.
"""

from __future__ import annotations

from typing import Any

from ai_platform.config import Settings
from ai_platform.governance.context import RequestContext
from ai_platform.governance.guardrails import (
    UNTRUSTED_NOTICE,
    ActionSpec,
    AnswerGuard,
    ContextProvenance,
    HostPolicy,
    LeakGuard,
    Origin,
    ToolCallPolicy,
    new_canary,
    wrap_untrusted,
)
from ai_platform.services.agent.conversations import TurnPlan
from ai_platform.services.agent.tools import ToolOutcome

AGENT_ACTIONS = ToolCallPolicy(
    [
        ActionSpec(
            "request_refund",
            intents=(
                r"refund", r"money back", r"reimburs", r"charge ?back", r"repay",
                r"return (?:my|the) money", r"credit (?:my|the|me)",
            ),
            targets=("order_id",),
            irreversible=True,
        ),
        ActionSpec(
            "create_ticket",
            intents=(
                r"ticket", r"report", r"complain", r"broken", r"damaged", r"defective",
                r"faulty", r"wrong", r"missing", r"(?:not|n't) work", r"problem", r"issue",
                r"follow[ -]?up", r"case\b", r"claim", r"file\b", r"open (?:a|an)\b",
                r"crack", r"scratch", r"dead\b", r"stopped",
            ),
        ),
        ActionSpec(
            "escalate_to_human",
            intents=(
                r"human", r"person", r"people", r"agent", r"representative", r"manager",
                r"supervisor", r"someone", r"somebody", r"staff", r"escalat", r"colleague",
                r"call me", r"phone",
            ),
        ),
    ]
)  # fmt: skip


def turn_provenance(plan: TurnPlan) -> ContextProvenance:
    """Where each piece of the turn's starting context came from."""
    context = ContextProvenance()
    for message in plan.history:
        role = message.get("role")
        text = str(message.get("content") or "")
        if role == "user":
            context.add(Origin.USER_HISTORY, "history", text)
        elif role == "tool":
            context.add(Origin.RETRIEVED, "history:tool", text)
        else:
            context.add(Origin.MODEL, "history", text)
    for item in plan.inputs:
        # Only the human's own messages are theirs; "assistant" inputs are replayed
        # model text the client sends back, and earn no trust by being sent.
        origin = Origin.USER if item.role == "user" else Origin.MODEL
        context.add(origin, "input", item.content)
    return context


class TurnGuard:
    """Decides tool calls and checks answers for one turn; records what it did on ``ctx``."""

    def __init__(self, ctx: RequestContext, plan: TurnPlan, settings: Settings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.policy = AGENT_ACTIONS
        self.context = turn_provenance(plan)
        self.canary = new_canary()
        self.actions_run = 0
        self.answers: AnswerGuard | None = None

    def system(self, base: str) -> str:
        """The system prompt: the untrusted-data notice and this request's canary added."""
        prompt = f"{base}\n{UNTRUSTED_NOTICE}"
        leak = LeakGuard(self.canary, prompt, min_chars=self.settings.canary_verbatim_chars)
        self.answers = AnswerGuard(self.ctx, HostPolicy(self.settings.output_allowed_hosts), leak)
        return leak.stamp(prompt)

    def output(self) -> AnswerGuard:
        if self.answers is None:
            self.answers = AnswerGuard(self.ctx, HostPolicy(self.settings.output_allowed_hosts))
        return self.answers

    def admit(self, name: str, arguments: dict[str, Any]) -> ToolOutcome | None:
        """None if the call may run; else the refusal the model reads instead."""
        if not self.policy.governs(name):
            return None
        decision = self.policy.decide(name, arguments, self.context)
        reason, detail = decision.reason, decision.detail
        if decision.allowed and self.actions_run >= self.settings.agent_max_actions_per_turn:
            reason = "cap_per_turn"
            detail = f"at most {self.settings.agent_max_actions_per_turn} changes per turn"
        elif decision.allowed:
            self.actions_run += 1
            return None
        self.ctx.guardrail(f"tool_refused:{reason}:{name}")
        return refusal(name, reason, detail)

    def tool_result(self, name: str, text: str) -> str:
        """Note a tool's output as retrieved text; return it as the prompt carries it."""
        self.context.add(Origin.RETRIEVED, f"tool:{name}", text)
        return wrap_untrusted(text, f"tool:{name}")


def refusal(name: str, reason: str, detail: str) -> ToolOutcome:
    return ToolOutcome(
        {
            "error": f"refused: {detail}. Do not retry; tell the customer what you found "
            "and what they can ask for.",
            "refused": True,
            "reason": reason,
        },
        f"{name}: refused ({reason})",
        failed=True,
    )


def is_refusal(outcome: ToolOutcome) -> bool:
    return outcome.result.get("refused") is True
