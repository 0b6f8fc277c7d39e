"""Per-suite summary arithmetic and the report files, from hand-made case results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evals.agent import AGENT
from evals.compare import compare, comparison_block
from evals.report import write_report
from evals.results import CaseResult, Usage
from evals.summary import suite_summary


def result(case: str, latency: float, cost: float | None, ok: bool = True) -> CaseResult:
    return CaseResult(
        suite="agent",
        service="agent",
        case_id=case,
        repetition=0,
        ok=ok,
        status_code=200 if ok else 502,
        latency_ms=latency,
        server_ms=latency - 1,
        request_ids=[f"req_{case}"],
        usage=Usage(
            tokens_in=100, tokens_out=10, cost_usd=cost, model="gpt-4o-mini", source="ledger"
        ),
        scores={"tool_correct": 1.0, "escalation_correct": 0.0} if ok else {},
        error=None if ok else "502 upstream_error: boom",
    )


RESULTS = [
    result("a", 100.0, 0.0002),
    result("b", 200.0, 0.0004),
    result("c", 300.0, 0.0003),
    result("d", 5.0, None, ok=False),
]


def test_suite_summary_leaves_errors_out_of_latency_and_cost() -> None:
    s = suite_summary(AGENT, RESULTS)
    assert (s["cases"], s["requests"], s["errors"]) == (4, 4, 1)
    assert s["error_rate"] == 0.25
    assert s["error_kinds"] == {"502 upstream_error: boom": 1}
    assert s["latency_ms"]["p50"] == 200.0
    assert s["latency_ms"]["p95"] == pytest.approx(290.0)
    assert s["latency_ms"]["min"] == 100.0
    assert s["server_latency_ms"]["p50"] == 199.0
    assert s["cost_per_request_usd"] == pytest.approx(0.0003)
    assert s["cost_per_1k_requests_usd"] == pytest.approx(0.3)
    assert s["cost_total_usd"] == pytest.approx(0.0009)
    assert (s["tokens_in_mean"], s["tokens_out_mean"]) == (100.0, 10.0)
    assert s["quality"] == {"tool_correct": 1.0, "escalation_correct": 0.0}
    assert s["usage_source"] == "ledger"


def make_summary(suite: dict[str, Any], run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "started_at": "2026-01-01T00:00:00+00:00",
        "duration_s": 1.0,
        "platform": {
            "mode": "in-process",
            "base_url": "http://127.0.0.1:1",
            "provider": "simulator",
        },
        "cost_basis": {"label": "estimate (simulator)", "note": "n", "prices": {}},
        "options": {"suites": ["agent"], "concurrency": 1, "repetitions": 1, "max_results": 5},
        "suites": {"agent": suite},
    }


def test_report_files_highlight_regressions(tmp_path: Path) -> None:
    current_suite = suite_summary(AGENT, RESULTS)
    faster = {**current_suite, "latency_ms": {"p50": 100.0, "p95": 120.0, "p99": 130.0}}
    baseline = make_summary(
        {**faster, "quality": {"tool_correct": 1.0, "escalation_correct": 0.5}}, "old"
    )
    current = make_summary(current_suite, "new")
    deltas = compare(baseline, current)
    current["comparison"] = comparison_block(tmp_path / "old.json", baseline, deltas)
    files = write_report(tmp_path / "new", current, RESULTS, deltas)

    html = files["html"].read_text()
    assert html.count("data:image/png;base64,") == 4
    assert '<tr class="regression">' in html
    assert 'src="cost_per_1k.png"' not in html  # self-contained

    md = files["markdown"].read_text()
    assert "**REGRESSION**" in md
    assert "![Cost per 1,000 requests](cost_per_1k.png)" in md
    flagged = {r["metric"] for r in current["comparison"]["regressions"]}
    assert flagged == {"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "escalation_correct"}

    assert json.loads(files["summary"].read_text())["run_id"] == "new"
    lines = files["cases"].read_text().splitlines()
    assert [json.loads(x)["case_id"] for x in lines] == ["a", "b", "c", "d"]
    assert json.loads(lines[0])["cost_usd"] == 0.0002
