"""Prometheus metrics, correct with one process or many.

With several uvicorn workers each process counts on its own, so a scrape that lands
on one worker would see a fraction of the traffic. prometheus-client's multiprocess
mode fixes that: every process writes its samples to memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them. The directory must be set
(and empty) before any worker starts; ``prepare_multiprocess_dir()`` does that for
``ai-platform serve --workers N``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client import values as _values

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):
    # The samples of this process go there from the first metric defined below.
    Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "ai_platform_http_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "ai_platform_http_request_duration_seconds",
    "HTTP request latency by method and route template (whole response, streams included).",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
GOVERNED_REQUESTS = Counter(
    "ai_platform_governed_requests_total",
    "Governed requests (one per ledger row) by service and outcome.",
    ["service", "outcome"],
)
LLM_TOKENS = Counter(
    "ai_platform_llm_tokens_total",
    "LLM tokens by client, service, model and direction (input/output).",
    ["client", "service", "model", "direction"],
)
LLM_COST = Counter(
    "ai_platform_llm_cost_usd_total",
    "LLM cost in USD by client, service and model.",
    ["client", "service", "model"],
)
LLM_CALLS = Counter(
    "ai_platform_llm_calls_total",
    "LLM calls by service, model, operation and result (ok or the error code).",
    ["service", "model", "operation", "result"],
)
LLM_UPSTREAM_ERRORS = Counter(
    "ai_platform_llm_upstream_errors_total",
    "LLM calls that failed upstream, by service, model and error code.",
    ["service", "model", "error"],
)
LLM_LATENCY = Histogram(
    "ai_platform_llm_call_duration_seconds",
    "LLM call latency by service, model and operation.",
    ["service", "model", "operation"],
    buckets=LATENCY_BUCKETS,
)
LLM_TTFT = Histogram(
    "ai_platform_llm_time_to_first_token_seconds",
    "Time to the first streamed token, by service and model.",
    ["service", "model"],
    buckets=TTFT_BUCKETS,
)
RATE_LIMIT_REJECTIONS = Counter(
    "ai_platform_rate_limit_rejections_total",
    "Requests or calls refused by a rate limit, by client and limit.",
    ["client", "limit"],
)
BUDGET_REJECTIONS = Counter(
    "ai_platform_budget_rejections_total",
    "LLM calls refused because the client's monthly budget could not cover them.",
    ["client"],
)
GUARDRAIL_EVENTS = Counter(
    "ai_platform_guardrail_events_total",
    "Injection guardrail events (tool_refused, link_removed, image_removed, canary_leak, "
    "system_prompt_leak, action_pending, action_confirmed) by service.",
    ["service", "event"],
)
LEDGER_ROWS = Counter(
    "ai_platform_ledger_rows_written_total",
    "Usage-ledger rows written to the database.",
)
LEDGER_PENDING = Gauge(
    "ai_platform_ledger_pending_rows",
    "Usage-ledger rows waiting to be written (summed over processes).",
    multiprocess_mode="livesum",
)


def observe_http(method: str, route: str, status: int, seconds: float) -> None:
    """``RequestContextMiddleware(observer=observe_http)``: one call per HTTP request."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def multiprocess_mode() -> bool:
    """True when this process writes its samples to the shared directory.

    Decided by prometheus-client when it was first imported, so setting the variable
    later in a running process changes nothing (workers started afterwards see it).
    """
    return bool(getattr(_values.ValueClass, "_multiprocess", False))


def prepare_multiprocess_dir(path: str | os.PathLike[str] | None = None) -> str:
    """Create an empty metrics directory and export ``PROMETHEUS_MULTIPROC_DIR``.

    Call in the parent process before starting workers. An existing directory is
    emptied, because samples left by a previous run would be summed into this one.
    """
    chosen = path or multiprocess_dir()
    target = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="ai-platform-metrics-"))
    if target.exists():
        for entry in target.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    target.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(target)
    return str(target)


def mark_process_dead(pid: int) -> None:
    """For a process manager's child-exit hook (gunicorn ``child_exit``)."""
    if multiprocess_mode():
        _multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def render() -> bytes:
    """The exposition text: this process's registry, or every worker's when multiprocess."""
    if multiprocess_mode():
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
