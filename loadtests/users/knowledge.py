"""Knowledge base traffic: mostly searches, some cited answers (each one model call)."""

from __future__ import annotations

import random
from typing import Any

from locust import task

from loadtests.users.base import PlatformUser

# Questions a Northwind Outfitters customer would ask; the runner's tenant holds the
# sample corpus, so each one finds passages.
QUESTIONS = (
    "How long do I have to return a jacket?",
    "Does the holiday return extension apply to online orders?",
    "How do I exchange boots for a different size?",
    "What should I do if my order arrived damaged?",
    "How long does standard shipping take?",
    "Do you ship to Canada and who pays the duties?",
    "How can I track my order?",
    "Can I cancel an order after it has shipped?",
    "What does the Northwind warranty cover?",
    "How do I file a warranty claim for a broken zipper?",
    "How do I wash a down jacket?",
    "How should I store a tent after a wet trip?",
    "What size backpack fits a 45 cm torso?",
    "Which payment methods do you accept?",
    "Do you price match other retailers?",
    "What are the store hours in Portland?",
    "How do Trailblazer points work?",
    "Can I rent a tent for a weekend?",
)
CATEGORIES = ("policy", "shipping", "warranty", "product-care", "stores", "payments")


def found_passages(data: Any) -> str | None:
    if not isinstance(data, list):
        return "search data is not a list"
    return None if data else "no passages found in the sample corpus"


def cited_answer(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return "answer data has no answer text"
    return None


class KnowledgeUser(PlatformUser):
    """Search 6 : answer 2 : filtered search 1 : list documents 1."""

    weight = 4

    @task(6)
    def search(self) -> None:
        self.call(
            "POST",
            "/api/v1/knowledge/search",
            json={"query": random.choice(QUESTIONS), "max_results": 5},
            validate=found_passages,
        )

    @task(1)
    def filtered_search(self) -> None:
        self.call(
            "POST",
            "/api/v1/knowledge/search",
            name="/api/v1/knowledge/search [filtered]",
            json={
                "query": random.choice(QUESTIONS),
                "max_results": 3,
                "filters": {"category": random.choice(CATEGORIES)},
            },
        )

    @task(2)
    def answer(self) -> None:
        self.call(
            "POST",
            "/api/v1/knowledge/answer",
            json={"question": random.choice(QUESTIONS), "max_passages": 4},
            validate=cited_answer,
        )

    @task(1)
    def documents(self) -> None:
        self.call("GET", "/api/v1/knowledge/documents", params={"limit": 10})
