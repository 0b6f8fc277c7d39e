"""What a run leaves behind besides Locust's files: ``summary.json``, ``summary.md`` and
two charts (throughput and latency percentiles against users).

Redraw the charts of an earlier run: ``python -m loadtests.report <results folder>``.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server or in CI

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from ai_platform.harness.tables import fmt_number
from ai_platform.harness.tables import markdown_table as markdown_table_of
from loadtests.scenarios import SCENARIOS

PERCENTILES = (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))


def markdown_table(steps: Sequence[dict[str, Any]]) -> str:
    """One line per step: the numbers the README quotes."""
    head = [
        "series", "users", "requests", "failures", "req/s", "ideal req/s", "% of ideal",
        "style limit req/s", "p50 ms", "p95 ms", "p99 ms", "generator CPU %", "server CPU %",
    ]  # fmt: skip
    rows = []
    for step in steps:
        ideal = step.get("ideal_rps")
        share = 100 * step["rps"] / ideal if ideal else None
        rows.append(
            [
                str(step["series"]),
                fmt_number(step["users"]),
                fmt_number(step["requests"]),
                fmt_number(step["failures"]),
                fmt_number(step["rps"]),
                fmt_number(ideal),
                fmt_number(share, 0),
                fmt_number(step.get("bound_rps")),
                fmt_number(step["p50_ms"], 0),
                fmt_number(step["p95_ms"], 0),
                fmt_number(step["p99_ms"], 0),
                fmt_number(step["generator_cpu_mean"], 0),
                fmt_number(step.get("server_cpu_mean"), 0),
            ]
        )
    return markdown_table_of(head, rows)


def _series(steps: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        grouped.setdefault(step["series"], []).append(step)
    for rows in grouped.values():
        rows.sort(key=lambda r: r["users"])
    return grouped


def throughput_chart(
    steps: Sequence[dict[str, Any]],
    path: Path,
    *,
    title: str,
    latency_s: float | None = None,
    thread_limits: dict[str, float] | None = None,
) -> Path:
    """Requests per second against users: one line per series, the ideal, the limits."""
    fig, ax = plt.subplots(figsize=(8, 5))
    users = sorted({s["users"] for s in steps})
    for name, rows in _series(steps).items():
        xs = [r["users"] for r in rows]
        ys = [r["rps"] for r in rows]
        (line,) = ax.plot(xs, ys, marker="o", label=name)
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(f"{y:.0f}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ideal = [(r["users"], r["ideal_rps"]) for r in rows if r.get("ideal_rps")]
        if not latency_s and ideal:
            # Each series has its own ideal: its own low-load cycle time times users.
            ax.plot(*zip(*ideal, strict=True), ls="--", lw=1, color=line.get_color(),
                    label=f"ideal, {name} (users ÷ low-load cycle time)")  # fmt: skip
    if latency_s:
        ax.plot(users, [u / latency_s for u in users], "k--", lw=1, label="ideal (users ÷ latency)")
    for label, value in (thread_limits or {}).items():
        ax.axhline(value, color="grey", ls=":", lw=1)
        # Between the last two steps, above the line: clear of the points' own labels.
        x = (users[-1] + users[max(0, len(users) - 2)]) / 2 if users else 0
        ax.annotate(label, (x, value), xytext=(0, 3), ha="center",
                    textcoords="offset points", fontsize=8, color="grey")  # fmt: skip
    ax.set_xlabel("concurrent users (back-to-back requests)")
    ax.set_ylabel("throughput (requests/s)")
    ax.set_title(textwrap.fill(title, 80), fontsize=10)
    ax.set_xticks(users)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency_chart(
    steps: Sequence[dict[str, Any]], path: Path, *, title: str, latency_s: float | None = None
) -> Path:
    """p50, p95 and p99 against users, one panel each, log scale."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5), sharey=True)
    users = sorted({s["users"] for s in steps})
    for ax, (key, label) in zip(axes, PERCENTILES, strict=True):
        for name, rows in _series(steps).items():
            points = [(r["users"], r[key]) for r in rows if r.get(key)]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=name)
        if latency_s:
            ax.axhline(latency_s * 1000, color="k", ls="--", lw=1, label="simulated latency")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_title(f"{label} latency")
        ax.set_xlabel("concurrent users")
        ax.set_xticks(users)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("milliseconds (log scale)")
    axes[-1].legend(fontsize=8)
    fig.suptitle(textwrap.fill(title, 140), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_summary(out_dir: Path, summary: dict[str, Any]) -> tuple[Path, Path]:
    json_path = out_dir / "summary.json"
    json_path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    md_path = out_dir / "summary.md"
    md_path.write_text(
        f"# {summary['scenario']} — {summary['started_at']}\n\n"
        f"`{summary['command']}`\n\n"
        + markdown_table(summary["steps"])
        + "".join(f"\n- {w}" for w in summary.get("warnings", []))
        + "\n"
    )
    return json_path, md_path


def draw_charts(summary: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``throughput.png`` and ``latency.png`` for a run, titled from its settings."""
    settings = summary["settings"]
    steps = summary["steps"]
    workers = ",".join(map(str, settings["workers"]))
    cores = summary["machine"]["cpus"]
    latency_s: float | None = None
    limits: dict[str, float] = {}
    if summary["scenario"] == "experiment":
        latency_ms = float(settings["latency_ms"])
        latency_s = latency_ms / 1000 or None
        tokens = int(settings["thread_tokens"])
        if latency_s and "sync" in settings.get("styles", ()):
            for w in settings["workers"]:
                per = f"{w} workers × " if w > 1 else ""
                limits[f"thread pool: {per}{tokens} threads ÷ {latency_s:g} s"] = (
                    tokens * w / latency_s
                )
        title = (
            f"Async vs sync vs blocking — {latency_ms:g} ms simulated LLM latency, "
            f"workers {workers}, {cores} cores"
        )
    else:
        title = (
            f"{summary['scenario']}: "
            f"{summary.get('description') or SCENARIOS[summary['scenario']].description} — "
            f"workers {workers}, {cores} cores"
        )
    return (
        throughput_chart(steps, out_dir / "throughput.png", title=title,
                         latency_s=latency_s, thread_limits=limits),
        latency_chart(steps, out_dir / "latency.png", title=title, latency_s=latency_s),
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m loadtests.report <results folder>", file=sys.stderr)
        return 2
    out_dir = Path(args[0])
    summary = json.loads((out_dir / "summary.json").read_text())
    for path in draw_charts(summary, out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
