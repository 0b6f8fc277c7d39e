"""This run against a baseline run: a delta per metric, regressions flagged.

A regression is, per suite present in both runs:

- latency (client-side p50, p95, p99) up by more than 20 %;
- cost per 1,000 requests up by more than 10 %;
- a quality metric down by more than 0.02 (absolute; metrics where lower is better,
  like the false-positive rate, up by more than 0.02);
- the error rate up by more than 0.02.

Tokens are compared but never flagged: they explain a cost change, they are not one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

LATENCY_UP = 0.20
COST_UP = 0.10
QUALITY_DOWN = 0.02
ERROR_RATE_UP = 0.02
LOWER_IS_BETTER = frozenset({"false_positive_rate"})

Kind = Literal["latency", "cost", "tokens", "errors", "quality"]


@dataclass(frozen=True)
class Delta:
    suite: str
    metric: str
    kind: Kind
    baseline: float | None
    current: float | None
    delta: float | None
    delta_pct: float | None
    regression: bool
    improvement: bool


def _relative(base: float, cur: float) -> float | None:
    if base == 0:
        return None if cur == 0 else float("inf")
    return (cur - base) / abs(base)


def judge(kind: Kind, metric: str, base: float | None, cur: float | None) -> tuple[bool, bool]:
    """(regression, improvement) for one metric."""
    if base is None or cur is None:
        return False, False
    if kind in ("latency", "cost"):
        limit = LATENCY_UP if kind == "latency" else COST_UP
        change = _relative(base, cur)
        if change is None:
            return False, False
        return change > limit, change < -limit
    if kind == "errors":
        return cur - base > ERROR_RATE_UP, base - cur > ERROR_RATE_UP
    if kind == "quality":
        worse = (cur - base) if metric in LOWER_IS_BETTER else (base - cur)
        return worse > QUALITY_DOWN, -worse > QUALITY_DOWN
    return False, False


def _metrics(suite: dict[str, Any]) -> list[tuple[str, Kind, float | None]]:
    latency = suite.get("latency_ms") or {}
    out: list[tuple[str, Kind, float | None]] = [
        (f"latency_{p}_ms", "latency", latency.get(p)) for p in ("p50", "p95", "p99")
    ]
    out += [
        ("cost_per_1k_requests_usd", "cost", suite.get("cost_per_1k_requests_usd")),
        ("tokens_in_mean", "tokens", suite.get("tokens_in_mean")),
        ("tokens_out_mean", "tokens", suite.get("tokens_out_mean")),
        ("error_rate", "errors", suite.get("error_rate")),
    ]
    out += [(name, "quality", value) for name, value in (suite.get("quality") or {}).items()]
    return out


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> list[Delta]:
    """Deltas for every metric of every suite in both summaries (in the current order)."""
    deltas: list[Delta] = []
    before = baseline.get("suites") or {}
    for name, suite in (current.get("suites") or {}).items():
        if name not in before:
            continue
        old = {metric: value for metric, _, value in _metrics(before[name])}
        for metric, kind, value in _metrics(suite):
            if metric not in old:
                continue
            base = old[metric]
            regression, improvement = judge(kind, metric, base, value)
            change = None if base is None or value is None else value - base
            pct = None if base is None or value is None else _relative(base, value)
            deltas.append(
                Delta(
                    suite=name,
                    metric=metric,
                    kind=kind,
                    baseline=base,
                    current=value,
                    delta=change,
                    delta_pct=None if pct is None or pct == float("inf") else pct * 100,
                    regression=regression,
                    improvement=improvement,
                )
            )
    return deltas


def comparison_block(
    baseline_path: Path, baseline: dict[str, Any], deltas: list[Delta]
) -> dict[str, Any]:
    """What summary.json records about the comparison."""
    return {
        "baseline": str(baseline_path),
        "baseline_run_id": baseline.get("run_id"),
        "thresholds": {
            "latency_up_pct": LATENCY_UP * 100,
            "cost_up_pct": COST_UP * 100,
            "quality_down_abs": QUALITY_DOWN,
            "error_rate_up_abs": ERROR_RATE_UP,
        },
        "regressions": [asdict(d) for d in deltas if d.regression],
        "deltas": [asdict(d) for d in deltas],
    }


def find_baseline(reports_dir: Path, exclude: Path | None = None) -> Path | None:
    """The newest earlier run's summary.json in ``reports_dir`` (run directories are
    named by UTC timestamp, so the newest sorts last)."""
    if not reports_dir.is_dir():
        return None
    runs = sorted(
        p
        for p in reports_dir.iterdir()
        if p.is_dir() and (p / "summary.json").is_file() and p != exclude
    )
    if exclude is not None:
        runs = [p for p in runs if p.name < exclude.name]
    return runs[-1] / "summary.json" if runs else None


def load_summary(path: Path) -> tuple[Path, dict[str, Any]]:
    """A baseline given as a run directory or its summary.json."""
    file = path / "summary.json" if path.is_dir() else path
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "suites" not in data:
        raise ValueError(f"{file} is not an eval summary (no 'suites')")
    return file, data
