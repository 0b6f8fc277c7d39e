"""The comparison with a baseline run: deltas, thresholds, which runs are compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evals.compare import compare, comparison_block, find_baseline, judge, load_summary


def suite(
    p50: float = 100.0,
    cost_1k: float = 1.0,
    quality: dict[str, float] | None = None,
    error_rate: float = 0.0,
) -> dict[str, Any]:
    return {
        "latency_ms": {"p50": p50, "p95": p50 * 2, "p99": p50 * 3},
        "cost_per_1k_requests_usd": cost_1k,
        "tokens_in_mean": 100.0,
        "tokens_out_mean": 10.0,
        "error_rate": error_rate,
        "quality": quality if quality is not None else {"recall@5": 0.9},
    }


def summary(**suites: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": "r", "suites": suites}


def by_metric(deltas: list[Any], suite_name: str) -> dict[str, Any]:
    return {d.metric: d for d in deltas if d.suite == suite_name}


@pytest.mark.parametrize(
    ("kind", "metric", "base", "cur", "expected"),
    [
        ("latency", "latency_p50_ms", 100.0, 121.0, (True, False)),
        ("latency", "latency_p50_ms", 100.0, 119.0, (False, False)),
        ("latency", "latency_p50_ms", 100.0, 75.0, (False, True)),
        ("cost", "cost_per_1k_requests_usd", 1.0, 1.11, (True, False)),
        ("cost", "cost_per_1k_requests_usd", 1.0, 1.09, (False, False)),
        ("cost", "cost_per_1k_requests_usd", 0.0, 0.5, (True, False)),
        ("cost", "cost_per_1k_requests_usd", 0.0, 0.0, (False, False)),
        ("quality", "recall@5", 0.90, 0.87, (True, False)),
        ("quality", "recall@5", 0.90, 0.89, (False, False)),
        ("quality", "recall@5", 0.80, 0.90, (False, True)),
        ("quality", "false_positive_rate", 0.01, 0.04, (True, False)),
        ("quality", "false_positive_rate", 0.05, 0.01, (False, True)),
        ("errors", "error_rate", 0.0, 0.03, (True, False)),
        ("tokens", "tokens_in_mean", 100.0, 500.0, (False, False)),
        ("latency", "latency_p50_ms", None, 100.0, (False, False)),
    ],
)
def test_thresholds(
    kind: Any, metric: str, base: float | None, cur: float | None, expected: tuple[bool, bool]
) -> None:
    assert judge(kind, metric, base, cur) == expected


def test_compare_flags_regressions_per_suite() -> None:
    baseline = summary(
        search=suite(p50=100, cost_1k=1.0, quality={"recall@5": 0.9, "mrr@5": 0.8}),
        agent=suite(p50=800, cost_1k=0.2),
        gone=suite(),
    )
    current = summary(
        search=suite(p50=130, cost_1k=1.05, quality={"recall@5": 0.85, "mrr@5": 0.81}),
        agent=suite(p50=600, cost_1k=0.3),
        new=suite(),
    )
    deltas = compare(baseline, current)
    assert {d.suite for d in deltas} == {"search", "agent"}

    search = by_metric(deltas, "search")
    assert search["latency_p50_ms"].regression
    assert search["latency_p50_ms"].delta == pytest.approx(30)
    assert search["latency_p50_ms"].delta_pct == pytest.approx(30)
    assert not search["cost_per_1k_requests_usd"].regression
    assert search["recall@5"].regression
    assert search["recall@5"].delta == pytest.approx(-0.05)
    assert not search["mrr@5"].regression

    agent = by_metric(deltas, "agent")
    assert agent["cost_per_1k_requests_usd"].regression
    assert agent["latency_p50_ms"].improvement and not agent["latency_p50_ms"].regression

    flagged = {(d.suite, d.metric) for d in deltas if d.regression}
    assert flagged == {
        ("search", "latency_p50_ms"),
        ("search", "latency_p95_ms"),
        ("search", "latency_p99_ms"),
        ("search", "recall@5"),
        ("agent", "cost_per_1k_requests_usd"),
    }


def test_a_metric_only_in_one_run_is_not_compared() -> None:
    deltas = compare(
        summary(search=suite(quality={"recall@5": 0.9})),
        summary(search=suite(quality={"recall@10": 0.95})),
    )
    names = {d.metric for d in deltas}
    assert "recall@5" not in names and "recall@10" not in names
    assert "latency_p50_ms" in names


def test_comparison_block_lists_the_regressions(tmp_path: Path) -> None:
    deltas = compare(summary(s=suite(p50=100)), summary(s=suite(p50=200)))
    block = comparison_block(tmp_path / "summary.json", {"run_id": "old"}, deltas)
    assert block["baseline_run_id"] == "old"
    assert {r["metric"] for r in block["regressions"]} == {
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
    }
    assert len(block["deltas"]) == len(deltas)
    json.dumps(block)  # it goes into summary.json


def test_find_baseline_takes_the_newest_earlier_run(tmp_path: Path) -> None:
    assert find_baseline(tmp_path / "missing") is None
    for name in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(summary()))
    (tmp_path / "20260104T000000Z").mkdir()  # an unfinished run: no summary
    current = tmp_path / "20260105T000000Z"
    assert find_baseline(tmp_path, exclude=current) == tmp_path / "20260103T000000Z/summary.json"
    middle = tmp_path / "20260102T000000Z"
    assert find_baseline(tmp_path, exclude=middle) == tmp_path / "20260101T000000Z/summary.json"
    assert find_baseline(tmp_path, exclude=tmp_path / "20260101T000000Z") is None


def test_load_summary_accepts_a_run_directory_and_refuses_other_json(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps(summary(s=suite())))
    path, data = load_summary(tmp_path)
    assert path == tmp_path / "summary.json" and "s" in data["suites"]
    other = tmp_path / "other.json"
    other.write_text("{}")
    with pytest.raises(ValueError, match="not an eval summary"):
        load_summary(other)
