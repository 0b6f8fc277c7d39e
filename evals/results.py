"""What one case produced: timings, usage, outcome, quality scores."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Usage:
    """Tokens and cost of a case, with where the numbers came from."""

    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    model: str | None = None
    source: str = "none"
    """``ledger`` (the admin usage report), ``response`` (the service's own usage
    block or the envelope metadata), or ``none``."""


@dataclass
class CaseResult:
    suite: str
    service: str
    case_id: str
    repetition: int
    ok: bool
    """The case ran to a verdict. A refusal the case expects (a blocked attack in the
    screening suite) is ok; an unexpected error status or a timeout is not."""
    status_code: int | None
    latency_ms: float
    """Client side: from sending the request to having the whole answer."""
    server_ms: float | None
    """Server side: ``X-Processing-Time-Ms`` (research: the job's run time)."""
    request_ids: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    scores: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    case: dict[str, Any] = field(default_factory=dict)
    """The labelled case as read from its suite (inputs and expectations)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        usage = data.pop("usage")
        data.update(
            tokens_in=usage["tokens_in"],
            tokens_out=usage["tokens_out"],
            cost_usd=usage["cost_usd"],
            model=usage["model"],
            usage_source=usage["source"],
        )
        return data
