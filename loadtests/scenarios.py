"""The scenarios the runner knows: which Locust users, against which server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Target = Literal["platform", "experiment"]


@dataclass(frozen=True)
class Scenario:
    name: str
    target: Target
    user_classes: tuple[str, ...]
    description: str


STYLE_USERS = {
    "async": "AsyncStyleUser",
    "sync": "SyncStyleUser",
    "blocking": "BlockingStyleUser",
}

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "experiment",
            "experiment",
            tuple(STYLE_USERS.values()),
            "one simulated LLM call behind async, sync and blocking endpoints",
        ),
        Scenario(
            "knowledge",
            "platform",
            ("KnowledgeUser",),
            "knowledge base: searches, filtered searches, cited answers, document lists",
        ),
        Scenario(
            "agent", "platform", ("AgentUser",), "customer agent: JSON and SSE turns, follow-ups"
        ),
        Scenario(
            "research",
            "platform",
            ("ResearchUser",),
            "research team: start a task and poll it to completion",
        ),
        Scenario(
            "assistant",
            "platform",
            ("AssistantUser",),
            "multi-modal assistant: image uploads and text follow-ups",
        ),
        Scenario("admin", "platform", ("AdminUser",), "admin: usage reports from the ledger"),
        Scenario(
            "mixed",
            "platform",
            ("KnowledgeUser", "AgentUser", "AssistantUser", "ResearchUser", "OccasionalAdminUser"),
            "every service at once: users weighted 4:3:1:1:1 (knowledge, agent, assistant, "
            "research, an admin refreshing reports every 2-5 s)",
        ),
    )
}
