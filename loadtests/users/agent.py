"""Customer agent traffic: JSON turns, streamed turns, and follow-ups in a conversation."""

from __future__ import annotations

import random
from typing import Any

from locust import task

from loadtests.users.base import PlatformUser

# Order numbers from the agent's demo data (seeded for the load-test tenant), and
# questions the knowledge tool answers. None of them asks for a human, so turns end
# in an answer rather than an escalation ticket.
MESSAGES = (
    "Where is my order ORD-1001?",
    "What is the status of order ORD-1003?",
    "Has ORD-1005 shipped yet?",
    "When will order ORD-1002 arrive?",
    "What is your return policy for jackets?",
    "How do I care for a down jacket?",
    "Do you ship internationally?",
    "How do I file a warranty claim?",
)
FOLLOW_UPS = (
    "Thanks. And how long do returns take to refund?",
    "Can you tell me which carrier it is with?",
    "What about the warranty on it?",
)


def agent_reply(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("reply"), str):
        return "chat data has no reply"
    return None if data.get("conversation_id") else "chat data has no conversation_id"


class AgentUser(PlatformUser):
    """JSON turn 5 : streamed turn 3 : follow-up in the same conversation 2."""

    weight = 3

    @task(5)
    def chat(self) -> None:
        self.call(
            "POST",
            "/api/v1/agent/chat",
            json={"message": random.choice(MESSAGES)},
            validate=agent_reply,
        )

    @task(3)
    def chat_stream(self) -> None:
        self.stream("/api/v1/agent/chat/stream", json={"message": random.choice(MESSAGES)})

    @task(2)
    def conversation(self) -> None:
        first = self.call(
            "POST",
            "/api/v1/agent/chat",
            name="/api/v1/agent/chat [first turn]",
            json={"message": random.choice(MESSAGES)},
            validate=agent_reply,
        )
        if not isinstance(first, dict) or not first.get("conversation_id"):
            return
        self.call(
            "POST",
            "/api/v1/agent/chat",
            name="/api/v1/agent/chat [follow-up]",
            json={
                "conversation_id": first["conversation_id"],
                "message": random.choice(FOLLOW_UPS),
            },
            validate=agent_reply,
        )
