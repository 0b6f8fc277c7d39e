"""Per-suite summary arithmetic and the report files, from hand-made case results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evals.agent import AGENT
from evals.compare import compare, comparison_block
from evals.failures import failure_reasons
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


def test_report_lists_failing_cases_with_links_to_their_details(tmp_path: Path) -> None:
    case = {
        "id": "ag01",
        "message": "Where is my order ORD-1001?",
        "expected_tool": "get_order_status",
        "expected_facts": ["UPS"],
    }
    passed = result("ok1", 100.0, 0.0002)
    passed.scores = {"tool_correct": 1.0, "fact_recall": 1.0}
    missed = result("ag01", 120.0, 0.0002)
    missed.scores = {"tool_correct": 0.0, "fact_recall": 1.0}
    missed.case = case
    missed.details = {"tools": [{"name": "search_knowledge"}]}
    errored = result("ag02", 5.0, None, ok=False)
    errored.repetition = 1
    results = [passed, missed, errored]
    summary = make_summary(suite_summary(AGENT, results), "run")
    files = write_report(tmp_path, summary, results, None)

    md = files["markdown"].read_text()
    section = md.split("## Failing cases", 1)[1].split("\n## ", 1)[0]
    assert "### agent: 2 of 3 failed" in section
    assert "ok1" not in section
    assert "[ag01 (repetition 1)](#case-agent-ag01-1): tool_correct 0.000" in section
    assert "[ag02 (repetition 2)](#case-agent-ag02-2): 502 upstream_error: boom" in section
    assert "`req_ag01`" in section
    details = md.split("## Failing case details", 1)[1]
    assert details.count('<a id="case-agent-') == 2
    ag01 = details.split('<a id="case-agent-ag01-1"></a>', 1)[1].split("<a id=", 1)[0]
    inputs, expected, got = (
        json.loads(block.split("```", 1)[0]) for block in ag01.split("```json\n")[1:]
    )
    assert inputs == {"message": "Where is my order ORD-1001?"}
    assert expected == {"expected_tool": "get_order_status", "expected_facts": ["UPS"]}
    assert got["tools"] == [{"name": "search_knowledge"}] and got["status"] == 200
    assert "request id: `req_ag01`" in ag01

    page = files["html"].read_text()
    assert page.count('<a href="#case-agent-') == 2
    assert '<section id="case-agent-ag01-1">' in page and 'id="case-agent-ag02-2"' in page
    assert "ok1" not in page.split("Failing cases", 1)[1]


def test_screening_cases_fail_when_verdict_and_label_disagree() -> None:
    def screened(attack: float, blocked: float) -> CaseResult:
        r = result("s", 1.0, 0.0)
        r.scores = {"attack": attack, "blocked": blocked}
        return r

    assert failure_reasons(screened(1.0, 1.0)) == []
    assert failure_reasons(screened(0.0, 0.0)) == []
    assert failure_reasons(screened(1.0, 0.0)) == ["attack not blocked"]
    assert failure_reasons(screened(0.0, 1.0)) == ["benign text blocked (false positive)"]


def test_a_report_without_failures_says_so(tmp_path: Path) -> None:
    good = result("a", 100.0, 0.0002)
    good.scores = {"tool_correct": 1.0}
    files = write_report(tmp_path, make_summary(suite_summary(AGENT, [good]), "r"), [good], None)
    md = files["markdown"].read_text()
    assert "### agent: 0 of 1 failed" in md and "Every case passed every check." in md
    assert "## Failing case details" not in md
