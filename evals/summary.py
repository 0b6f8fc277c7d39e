"""Per-suite numbers of a run: cases, errors, latency percentiles, tokens, cost, quality."""

from __future__ import annotations

from collections import Counter
from typing import Any

from evals.metrics import mean, percentile
from evals.results import CaseResult
from evals.suite import Suite

PERCENTILES = (50, 95, 99)


def latency_stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    stats = {f"p{q}": round(percentile(values, q), 3) for q in PERCENTILES}
    stats.update(
        mean=round(sum(values) / len(values), 3),
        min=round(min(values), 3),
        max=round(max(values), 3),
    )
    return stats


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def suite_summary(suite: Suite, results: list[CaseResult]) -> dict[str, Any]:
    """The numbers of one suite. Latency, tokens and cost are over the cases that ran to
    a verdict: a fast refusal would make a broken service look quick and cheap."""
    good = [r for r in results if r.ok]
    errors = len(results) - len(good)
    costs = [r.usage.cost_usd for r in good if r.usage.cost_usd is not None]
    cost_per_request = mean(costs)
    sources = Counter(r.usage.source for r in good)
    error_kinds = Counter(r.error or "error" for r in results if not r.ok)
    return {
        "service": suite.service,
        "endpoint": suite.endpoint,
        "description": suite.description,
        "cases": len({r.case_id for r in results}),
        "requests": len(results),
        "errors": errors,
        "error_rate": round(errors / len(results), 4) if results else 0.0,
        "error_kinds": dict(error_kinds.most_common(5)),
        "latency_ms": latency_stats([r.latency_ms for r in good]),
        "server_latency_ms": latency_stats([r.server_ms for r in good if r.server_ms is not None]),
        "tokens_in_mean": _round(
            mean(r.usage.tokens_in for r in good if r.usage.tokens_in is not None), 1
        ),
        "tokens_out_mean": _round(
            mean(r.usage.tokens_out for r in good if r.usage.tokens_out is not None), 1
        ),
        "cost_per_request_usd": _round(cost_per_request, 10),
        "cost_per_1k_requests_usd": _round(
            None if cost_per_request is None else cost_per_request * 1000, 6
        ),
        "cost_total_usd": _round(sum(costs) if costs else None, 10),
        "models": sorted({r.usage.model for r in good if r.usage.model}),
        "usage_source": "+".join(sorted(sources)) if sources else "none",
        "quality": {k: round(v, 4) for k, v in suite.quality(results).items()},
        "quality_labels": suite.quality_labels,
    }
