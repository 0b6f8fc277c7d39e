"""What a suite is: labelled cases (data), a way to run one, a way to score them all."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.client import EvalClient, Reply
from evals.results import CaseResult

SUITES_DIR = Path(__file__).with_name("suites")

Case = dict[str, Any]


@dataclass(frozen=True)
class RunSettings:
    """What the runner was asked for that changes request bodies."""

    model: str | None = None
    """Sent as ``model`` where a service accepts one (knowledge answers, research)."""
    max_results: int = 5
    """``max_results`` of knowledge searches: the k of recall@k and nDCG@k."""
    research_timeout_s: float = 120.0
    poll_interval_s: float = 0.1


@dataclass
class SuiteContext:
    client: EvalClient
    settings: RunSettings = field(default_factory=RunSettings)


@dataclass(frozen=True)
class Suite:
    name: str
    service: str
    endpoint: str
    description: str
    load: Callable[[Path], list[Case]]
    run_case: Callable[[SuiteContext, Case], Awaitable[CaseResult]]
    quality: Callable[[list[CaseResult]], dict[str, float]]
    quality_labels: dict[str, str] = field(default_factory=dict)
    """Metric name -> one line saying what it measures (for the report)."""


def read_jsonl(path: Path) -> list[Case]:
    """One JSON object a line; blank lines skipped; a bad line names its number."""
    cases: list[Case] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
            if not isinstance(item, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object")
            cases.append(item)
    ids = [c.get("id") for c in cases]
    if len(set(ids)) != len(ids) or None in ids:
        raise ValueError(f"{path}: every case needs a unique 'id'")
    return cases


def from_reply(
    suite: Suite,
    case: Case,
    reply: Reply,
    *,
    ok: bool | None = None,
    scores: dict[str, float] | None = None,
    details: dict[str, Any] | None = None,
) -> CaseResult:
    """A case answered by one request."""
    good = reply.ok if ok is None else ok
    return CaseResult(
        suite=suite.name,
        service=suite.service,
        case_id=str(case["id"]),
        repetition=0,
        ok=good,
        status_code=reply.status,
        latency_ms=reply.client_ms,
        server_ms=reply.server_ms,
        request_ids=[reply.request_id] if reply.request_id else [],
        usage=reply.usage(),
        scores=scores or {},
        details=details or {},
        error=None if good else reply.describe_error(),
    )


def mean_scores(results: list[CaseResult], names: list[str]) -> dict[str, float]:
    """Each metric's mean over the ok cases that have it (absent when none has it)."""
    out: dict[str, float] = {}
    for name in names:
        values = [r.scores[name] for r in results if r.ok and name in r.scores]
        if values:
            out[name] = sum(values) / len(values)
    return out
