"""What the LLM client returns: results of chat and embedding calls, and stream events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one call, as the provider reported it (or estimated, if it did not).

    ``cached_tokens`` is the part of ``prompt_tokens`` served from the provider's prompt
    cache; ``reasoning_tokens`` is the part of ``completion_tokens`` spent on hidden
    reasoning. Both are already included in the two main counts.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call. ``arguments`` is the parsed JSON object when the model
    produced one, else the raw text (kept as-is so the caller can report the defect)."""

    id: str
    name: str
    arguments: dict[str, Any] | str
    raw_arguments: str

    @classmethod
    def from_raw(cls, id: str, name: str, raw_arguments: str) -> ToolCall:
        return cls(
            id=id, name=name, arguments=parse_arguments(raw_arguments), raw_arguments=raw_arguments
        )


def parse_arguments(raw: str) -> dict[str, Any] | str:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return raw
    return value if isinstance(value, dict) else raw


@dataclass(frozen=True, slots=True)
class ChatChoice:
    index: int
    content: str | None
    tool_calls: list[ToolCall]
    finish_reason: str | None
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class ChatResult:
    """A completed chat call. ``content``, ``tool_calls`` and ``finish_reason`` are
    those of the first choice; ``choices`` has all of them when ``n > 1``."""

    content: str | None
    tool_calls: list[ToolCall]
    finish_reason: str | None
    model: str
    usage: Usage
    latency_ms: float
    cost_usd: float
    price_known: bool
    attempts: int = 1
    ttft_ms: float | None = None
    request_id: str | None = None
    refusal: str | None = None
    choices: list[ChatChoice] = field(default_factory=list)
    deployment: str | None = None
    """The deployment that served (see ``ai_platform.llm.routing``)."""
    hops: tuple[str, ...] = ()
    """Each deployment tried, ``name:model:outcome``, when the route has fallbacks."""


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    vectors: list[list[float]]
    model: str
    usage: Usage
    latency_ms: float
    cost_usd: float
    price_known: bool
    attempts: int = 1

    @property
    def dimensions(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of generated text, in order."""

    text: str
    index: int = 0
    kind: Literal["content"] = "content"


@dataclass(frozen=True, slots=True)
class ToolCallReady:
    """A tool call, assembled from its stream deltas once its choice finished."""

    tool_call: ToolCall
    index: int = 0
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True, slots=True)
class StreamDone:
    """The last event of a stream: what a ``ChatResult`` would have held, plus the
    time to the first token."""

    result: ChatResult
    kind: Literal["done"] = "done"

    @property
    def usage(self) -> Usage:
        return self.result.usage

    @property
    def finish_reason(self) -> str | None:
        return self.result.finish_reason

    @property
    def ttft_ms(self) -> float | None:
        return self.result.ttft_ms

    @property
    def cost_usd(self) -> float:
        return self.result.cost_usd


StreamEvent = ContentDelta | ToolCallReady | StreamDone
