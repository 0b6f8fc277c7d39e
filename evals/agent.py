"""Customer agent suite: the right tool, with the right arguments; escalation when due.

Cases (``suites/agent.jsonl``) are single turns against the demo orders
(``services/agent/demo.py``: ORD-1001 ... ORD-1008) and the Northwind corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.metrics import fact_recall
from evals.results import CaseResult
from evals.suite import Case, Suite, SuiteContext, from_reply, mean_scores, read_jsonl

CHAT = "/api/v1/agent/chat"


def load(suites_dir: Path) -> list[Case]:
    return read_jsonl(suites_dir / "agent.jsonl")


def _norm(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def arguments_match(case: Case, arguments: dict[str, Any]) -> bool:
    """Exact values (case- and whitespace-insensitive) and keywords inside free text."""
    for name, expected in (case.get("expected_arguments") or {}).items():
        if name not in arguments or _norm(arguments[name]) != _norm(expected):
            return False
    for name, words in (case.get("argument_keywords") or {}).items():
        text = _norm(arguments.get(name, ""))
        if not all(_norm(w) in text for w in words):
            return False
    return True


def agent_scores(case: Case, data: dict[str, Any]) -> dict[str, float]:
    calls = [c for c in data.get("tool_calls") or [] if isinstance(c, dict)]
    scores = {
        "escalation_correct": 1.0
        if bool(data.get("escalated")) == bool(case.get("expected_escalation"))
        else 0.0
    }
    tool = case.get("expected_tool")
    if tool:
        matching = [c for c in calls if c.get("name") == tool]
        scores["tool_correct"] = 1.0 if matching else 0.0
        if case.get("expected_arguments") or case.get("argument_keywords"):
            scores["arguments_correct"] = (
                1.0
                if any(arguments_match(case, c.get("arguments") or {}) for c in matching)
                else 0.0
            )
    facts = case.get("expected_facts") or []
    if facts:
        scores["fact_recall"] = fact_recall(str(data.get("reply") or ""), facts)
    return scores


async def run_case(ctx: SuiteContext, case: Case) -> CaseResult:
    reply = await ctx.client.post(CHAT, json={"message": case["message"]})
    data = reply.data
    if not reply.ok or not isinstance(data, dict):
        return from_reply(AGENT, case, reply, ok=False)
    return from_reply(
        AGENT,
        case,
        reply,
        scores=agent_scores(case, data),
        details={
            "tools": [
                {"name": c.get("name"), "arguments": c.get("arguments")}
                for c in data.get("tool_calls") or []
            ],
            "escalated": data.get("escalated"),
            "rounds": data.get("rounds"),
            "reply": str(data.get("reply") or "")[:500],
        },
    )


def quality(results: list[CaseResult]) -> dict[str, float]:
    return mean_scores(
        results, ["tool_correct", "arguments_correct", "escalation_correct", "fact_recall"]
    )


AGENT = Suite(
    name="agent",
    service="agent",
    endpoint=f"POST {CHAT}",
    description="Order look-ups, knowledge questions, tickets and requests for a human; "
    "the expected tool, its arguments, escalation and the reply's facts",
    load=load,
    run_case=run_case,
    quality=quality,
    quality_labels={
        "tool_correct": "the expected tool was called",
        "arguments_correct": "... with the expected arguments",
        "escalation_correct": "escalated exactly when the case says it should",
        "fact_recall": "share of the expected facts in the reply",
    },
)
