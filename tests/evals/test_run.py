"""The runner end to end: a started platform, a few cases over HTTP, the report files,
and a second run compared with the first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evals.run import RunOptions, parse_args, run_evals

# The simulator without pacing: these tests check the plumbing, not the latency.
FAST = {"simulator_ttft_ms": 0, "simulator_tokens_per_s": 0, "simulator_jitter": 0}
SUITES = ["agent", "assistant", "screening"]


async def test_a_small_run_writes_a_report_and_the_next_run_compares_with_it(
    tmp_path: Path,
) -> None:
    options = RunOptions(
        suites=SUITES, limit=2, reports_dir=tmp_path, progress=False, settings=dict(FAST)
    )
    first = await run_evals(options)

    names = {p.name for p in first.report_dir.iterdir()}
    assert {
        "summary.json",
        "cases.jsonl",
        "report.md",
        "report.html",
        "cost_per_1k.png",
        "latency_percentiles.png",
        "latency_distribution.png",
        "quality.png",
    } <= names
    for png in ("cost_per_1k.png", "quality.png"):
        assert (first.report_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    summary = json.loads((first.report_dir / "summary.json").read_text())
    assert summary["run_id"] == first.report_dir.name
    assert summary["platform"]["provider"] == "simulator"
    assert summary["cost_basis"]["label"] == "estimate (simulator)"
    assert summary["cost_basis"]["prices"]["gpt-4o-mini"]["priced_as"] == "gpt-4o-mini"
    assert "comparison" not in summary and first.deltas is None
    assert list(summary["suites"]) == SUITES

    for name in ("agent", "assistant"):
        s = summary["suites"][name]
        assert (s["cases"], s["requests"], s["errors"]) == (2, 2, 0), s["error_kinds"]
        latency = s["latency_ms"]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
        assert s["server_latency_ms"]["p50"] > 0
        # Token split and cost come from the ledger rows of the cases' requests.
        assert s["usage_source"] == "ledger"
        assert s["tokens_in_mean"] > 0 and s["tokens_out_mean"] > 0
        assert s["cost_per_request_usd"] > 0
        assert s["cost_per_1k_requests_usd"] == pytest.approx(
            s["cost_per_request_usd"] * 1000, rel=1e-6
        )
        assert s["models"] == ["gpt-4o-mini"]
    assert set(summary["suites"]["agent"]["quality"]) >= {"tool_correct", "escalation_correct"}
    assert summary["suites"]["assistant"]["quality"] == {"size_named": 1.0, "colour_named": 1.0}

    # The first two screening texts are attacks: blocked with a 400, which is a verdict.
    screening = summary["suites"]["screening"]
    assert screening["errors"] == 0
    assert screening["quality"]["recall"] == 1.0

    cases = [
        json.loads(line) for line in (first.report_dir / "cases.jsonl").read_text().splitlines()
    ]
    assert len(cases) == 6
    assert {c["status_code"] for c in cases if c["suite"] == "screening"} == {400}
    assert all(c["request_ids"] and c["latency_ms"] > 0 for c in cases)
    agent_case = next(c for c in cases if c["case_id"] == "ag01")
    assert agent_case["details"]["tools"][0] == {
        "name": "get_order_status",
        "arguments": {"order_id": "ORD-1001"},
    }
    assert agent_case["tokens_in"] > agent_case["tokens_out"] > 0

    second = await run_evals(options)
    assert second.report_dir != first.report_dir
    block = second.summary["comparison"]
    assert block["baseline_run_id"] == first.report_dir.name
    assert second.deltas is not None
    compared = {(d.suite, d.metric) for d in second.deltas}
    assert ("agent", "cost_per_1k_requests_usd") in compared
    assert ("assistant", "colour_named") in compared
    # Same cases, same simulator: the same tokens, so no cost change.
    cost = next(
        d for d in second.deltas if (d.suite, d.metric) == ("assistant", "cost_per_1k_requests_usd")
    )
    assert cost.delta == pytest.approx(0, abs=1e-9) and not cost.regression
    assert "Comparison with the baseline" in (second.report_dir / "report.md").read_text()


def test_command_line_options() -> None:
    options = parse_args(
        [
            "--suites", "agent,research", "--concurrency", "2", "--repetitions", "3",
            "--model", "gpt-4o", "--set", "simulator_ttft_ms=0", "--set", "DEFAULT_RPM=5",
            "--no-progress", "--limit", "1",
        ]
    )  # fmt: skip
    assert options.suites == ["agent", "research"]
    assert (options.concurrency, options.repetitions, options.limit) == (2, 3, 1)
    assert options.model == "gpt-4o"
    assert options.settings == {"simulator_ttft_ms": "0", "default_rpm": "5"}
    assert options.progress is False and options.url is None
    for bad in (["--suites", "nope"], ["--concurrency", "0"], ["--set", "novalue"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
