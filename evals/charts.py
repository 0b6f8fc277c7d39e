"""PNG charts of a run, drawn with matplotlib's object API on the Agg canvas.

``Figure`` + ``FigureCanvasAgg`` instead of pyplot: no global backend is switched, so
drawing a report inside a notebook leaves the notebook's inline plots alone.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evals.results import CaseResult

COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860")
DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def cost_chart(summary: dict[str, Any], path: Path) -> Path:
    suites = summary["suites"]
    names = list(suites)
    values = [suites[n].get("cost_per_1k_requests_usd") or 0.0 for n in names]
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    bars = ax.bar(names, values, color=COLOURS[0])
    ax.bar_label(bars, labels=[f"${v:.4f}" for v in values], fontsize=8, padding=2)
    ax.set_ylabel("USD per 1,000 requests")
    basis = summary.get("cost_basis", {}).get("label", "")
    ax.set_title(f"Cost per 1,000 requests — {basis}" if basis else "Cost per 1,000 requests")
    ax.tick_params(axis="x", labelrotation=20)
    ax.margins(y=0.15)
    return _save(fig, path)


def latency_chart(summary: dict[str, Any], path: Path) -> Path:
    suites = summary["suites"]
    names = list(suites)
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    width = 0.27
    for i, p in enumerate(("p50", "p95", "p99")):
        values = [(suites[n].get("latency_ms") or {}).get(p) or 0.0 for n in names]
        xs = [x + (i - 1) * width for x in range(len(names))]
        ax.bar(xs, values, width=width, label=p, color=COLOURS[i])
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel("ms (client side, log scale)")
    ax.set_title("Latency percentiles per suite")
    ax.legend(fontsize=8)
    return _save(fig, path)


def distribution_chart(results: list[CaseResult], suites: list[str], path: Path) -> Path:
    data = [[r.latency_ms for r in results if r.suite == s and r.ok] for s in suites]
    shown = [(s, d) for s, d in zip(suites, data, strict=True) if d]
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    if shown:
        ax.boxplot([d for _, d in shown], tick_labels=[s for s, _ in shown], showfliers=True)
        ax.set_yscale("log")
    ax.tick_params(axis="x", labelrotation=20)
    ax.set_ylabel("ms (client side, log scale)")
    ax.set_title("Latency distribution per suite")
    return _save(fig, path)


def quality_chart(summary: dict[str, Any], path: Path) -> Path:
    suites = {n: s.get("quality") or {} for n, s in summary["suites"].items()}
    suites = {n: q for n, q in suites.items() if q}
    cols = 3 if len(suites) > 4 else max(1, min(2, len(suites)))
    rows = max(1, math.ceil(len(suites) / cols))
    fig = Figure(figsize=(4.2 * cols, 2.6 * rows))
    for i, (name, quality) in enumerate(suites.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        metrics = list(quality)
        values = [quality[m] for m in metrics]
        bars = ax.barh(metrics, values, color=COLOURS[i % len(COLOURS)])
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=2)
        ax.set_xlim(0, 1.15)
        ax.invert_yaxis()
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    if not suites:
        fig.add_subplot().text(0.5, 0.5, "no quality metrics", ha="center")
    return _save(fig, path)


def draw_all(
    summary: dict[str, Any], results: list[CaseResult], out: Path
) -> list[tuple[str, str]]:
    """Every chart into ``out``; returns (file name, title) pairs in report order."""
    charts = [
        (cost_chart(summary, out / "cost_per_1k.png"), "Cost per 1,000 requests"),
        (latency_chart(summary, out / "latency_percentiles.png"), "Latency p50 / p95 / p99"),
        (
            distribution_chart(results, list(summary["suites"]), out / "latency_distribution.png"),
            "Latency distribution",
        ),
        (quality_chart(summary, out / "quality.png"), "Quality metrics"),
    ]
    return [(p.name, title) for p, title in charts]
