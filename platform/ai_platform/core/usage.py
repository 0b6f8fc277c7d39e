"""The usage contract between services and the gateway.

A service reports each LLM call it makes (model, tokens, cost) into the request's
``RequestUsage``; the gateway settles budgets and limits from it, writes the ledger
row and fills the envelope metadata. One object per request, so the numbers the
client sees are the numbers the ledger holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class RequestUsage:
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    flagged: bool = False
    signals: list[str] = field(default_factory=list)
    hops: list[str] = field(default_factory=list)
    """Deployments tried by routed calls, in order (``name:model:outcome``)."""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(
        self, *, model: str | None, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None:
        if model:
            self.model = model
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost_usd += cost_usd
        self.calls += 1
