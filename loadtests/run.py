"""Headless load-test runner: ``python -m loadtests.run`` (``make load ARGS="..."``).

For each step of the user ramp it runs Locust headless against a server it started
(or ``--host``), then writes to ``loadtests/results/<UTC timestamp>-<scenario>/``:
Locust's CSVs and HTML report per step, ``summary.json`` / ``summary.md`` (per step:
users, req/s, p50/p95/p99, failures, the ideal, CPU of generator, server and
simulator) and two charts, ``throughput.png`` and ``latency.png``.

    python -m loadtests.run                                   # the async experiment
    python -m loadtests.run --scenario experiment --workers 1,2
    python -m loadtests.run --scenario mixed --users 10,50 --duration 20
    python -m loadtests.run --scenario knowledge --host http://127.0.0.1:8000 --api-key aip_...
    python -m loadtests.run --scenario agent --distributed 2  # Locust master + 2 workers
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform as host_platform
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from loadtests.experiment_app import STYLES
from loadtests.keys import api_key as default_api_key
from loadtests.locust_step import GENERATOR_CPU_WARN_PCT, StepResult, StepSpec, run_step
from loadtests.processes import ROOT, ServerProcess, experiment_server, simulator_server
from loadtests.report import draw_charts, markdown_table, write_summary
from loadtests.scenarios import SCENARIOS, STYLE_USERS, Scenario

RESULTS = ROOT / "loadtests" / "results"
ANYIO_DEFAULT_THREADS = 40


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 10,50,100: {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("every value must be at least 1")
    return values


def _styles(text: str) -> list[str]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in STYLES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"styles are {', '.join(STYLES)}; got {text!r}")
    return chosen


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.run",
        description="Run a Locust scenario headless over a ramp of users; write CSV, HTML, "
        "summary.json and charts.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="experiment")
    parser.add_argument(
        "--users",
        type=_int_list,
        default=[10, 50, 100, 200],
        help="the ramp: concurrent users per step, comma-separated",
    )
    parser.add_argument("--spawn-rate", type=float, default=100.0, help="users started per second")
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds measured per step, after all users are running",
    )
    parser.add_argument("--host", help="an already running server; none is started")
    parser.add_argument(
        "--workers",
        type=_int_list,
        default=[1],
        help="uvicorn workers of the started server; a list (1,2) runs each",
    )
    parser.add_argument(
        "--distributed",
        type=int,
        default=0,
        metavar="N",
        help="a Locust master and N worker processes instead of one process",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    exp = parser.add_argument_group("experiment")
    exp.add_argument(
        "--styles",
        type=_styles,
        default=list(STYLES),
        help="endpoint styles, from async,sync,blocking",
    )
    exp.add_argument(
        "--latency-ms",
        type=float,
        default=None,
        help="simulated LLM latency (experiment default 1000; for the platform, "
        "the simulator's time to first token, default the platform's)",
    )
    exp.add_argument(
        "--llm",
        choices=("simulator", "sleep"),
        default="simulator",
        help="experiment upstream: the simulator over HTTP, or a bare sleep",
    )
    exp.add_argument(
        "--http",
        choices=("httpx", "aiohttp"),
        default="httpx",
        help="transport of the experiment's AsyncOpenAI client",
    )
    exp.add_argument(
        "--thread-tokens",
        type=int,
        default=None,
        help="resize anyio's thread limiter in the experiment app (default 40)",
    )
    plat = parser.add_argument_group("platform scenarios")
    plat.add_argument(
        "--separate-simulator",
        action="store_true",
        help="run the simulator as its own server (LLM_BASE_URL) instead of "
        "embedded in each platform worker",
    )
    plat.add_argument(
        "--tokens-per-s",
        type=float,
        default=None,
        help="the simulator's token rate (default the platform's)",
    )
    plat.add_argument(
        "--wait", default="0", help="think time between a user's tasks: 0, 0.5 or 0.5,2 (seconds)"
    )
    plat.add_argument(
        "--api-key",
        default=None,
        help="with --host: the key to send (default LOADTEST_API_KEY, then data/demo_api_key)",
    )
    plat.add_argument(
        "--database-url",
        default=None,
        help="the started platform's database (default a temporary SQLite file)",
    )
    return parser


def _redacted(argv: Sequence[str]) -> list[str]:
    """The command line for the summary, without the API key."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--api-key":
            out.append("***")
        elif arg.startswith("--api-key="):
            out.append("--api-key=***")
        else:
            out.append(arg)
    return out


def _mean_wait(spec: str) -> float:
    low, _, high = spec.partition(",")
    return (float(low) + float(high)) / 2 if high else float(low or 0)


def _series_name(base: str, workers: int, worker_counts: Sequence[int]) -> str:
    if len(worker_counts) == 1:
        return base if workers == 1 else f"{base} ({workers} workers)"
    return f"{base} ({workers} worker{'s' if workers > 1 else ''})"


def _step_record(result: StepResult, **extra: Any) -> dict[str, Any]:
    agg = result.aggregated
    return {
        **extra,
        "users": result.users,
        "duration_s": result.duration_s,
        "requests": agg.requests,
        "failures": agg.failures,
        "rps": round(agg.rps, 2),
        "p50_ms": agg.p50_ms,
        "p95_ms": agg.p95_ms,
        "p99_ms": agg.p99_ms,
        "avg_ms": None if agg.avg_ms is None else round(agg.avg_ms, 1),
        "max_ms": agg.max_ms,
        "generator_cpu_mean": result.generator_cpu_mean,
        "generator_cpu_peak": result.generator_cpu_peak,
        "generator_busiest_process_mean": result.generator_busiest_process_mean,
        "server_cpu_mean": result.cpu.get("server"),
        "simulator_cpu_mean": result.cpu.get("simulator"),
        "generator_bound": result.generator_bound,
        "locust_cpu_warning": result.locust_cpu_warning,
        "endpoints": [vars(row) for row in result.rows],
        "csv": result.csv_prefix,
        "html": result.html,
    }


def _experiment_bounds(
    style: str, users: int, workers: int, tokens: int, latency_s: float
) -> dict[str, float | None]:
    """The ideal (users ÷ latency) and what the style's own limit allows.

    async: the ideal; sync: at most ``tokens`` threads per worker wait at once;
    blocking: one request at a time per worker.
    """
    if latency_s <= 0:
        return {"ideal_rps": None, "bound_rps": None}
    concurrent = {"async": users, "sync": min(users, tokens * workers), "blocking": workers}
    return {
        "ideal_rps": round(users / latency_s, 2),
        "bound_rps": round(concurrent[style] / latency_s, 2),
    }


def _progress(step: dict[str, Any]) -> None:
    ideal = step.get("ideal_rps")
    share = f" ({100 * step['rps'] / ideal:.0f}% of ideal {ideal:.0f})" if ideal else ""
    p = {k: "–" if step[k] is None else f"{step[k]:.0f}" for k in ("p50_ms", "p95_ms", "p99_ms")}
    print(
        f"  {step['series']:<24} users={step['users']:<4} {step['rps']:8.1f} req/s{share}"
        f"  p50/p95/p99={p['p50_ms']}/{p['p95_ms']}/{p['p99_ms']} ms"
        f"  failures={step['failures']}  generator CPU {step['generator_cpu_mean']:.0f}%",
        flush=True,
    )


class Run:
    """One invocation: its options, output folder, steps and warnings."""

    def __init__(self, args: argparse.Namespace, argv: Sequence[str]) -> None:
        self.args = args
        self.scenario: Scenario = SCENARIOS[args.scenario]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.out_dir: Path = args.out / f"{stamp}-{args.scenario}"
        self.out_dir.mkdir(parents=True, exist_ok=False)
        self.command = "python -m loadtests.run " + shlex.join(_redacted(argv))
        self.steps: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.started_at = datetime.now(UTC)

    def _check_generator(self, step: dict[str, Any]) -> None:
        if not step["generator_bound"]:
            return
        busiest = step["generator_busiest_process_mean"]
        note = (
            f"{step['series']} at {step['users']} users: the load generator was CPU-bound "
            f"(busiest Locust process {busiest:.0f}% of a core"
            + ("; Locust logged its own CPU warning" if step["locust_cpu_warning"] else "")
            + f", threshold {GENERATOR_CPU_WARN_PCT:.0f}%): the numbers understate the "
            "server; spread the load with --distributed N or another machine"
        )
        self.warnings.append(note)
        print(f"  WARNING: {note}", file=sys.stderr, flush=True)

    def _record(self, result: StepResult, **extra: Any) -> dict[str, Any]:
        step = _step_record(result, **extra)
        self.steps.append(step)
        _progress(step)
        self._check_generator(step)
        return step

    # -- the experiment ---------------------------------------------------------------

    def experiment(self) -> dict[str, Any]:
        args = self.args
        latency_ms = args.latency_ms if args.latency_ms is not None else 1000.0
        latency_s = latency_ms / 1000
        tokens = args.thread_tokens or ANYIO_DEFAULT_THREADS
        with contextlib.ExitStack() as stack:
            simulator: ServerProcess | None = None
            if args.host is None and args.llm == "simulator":
                simulator = stack.enter_context(
                    simulator_server(ttft_ms=latency_ms, log_path=self.out_dir / "simulator.log")
                )
            for workers in args.workers:
                for style in args.styles:
                    for users in args.users:
                        with self._experiment_target(simulator, latency_ms, workers) as (
                            url,
                            sampled,
                        ):
                            result = run_step(
                                StepSpec(
                                    label=f"{style}_w{workers}",
                                    user_classes=[STYLE_USERS[style]],
                                    users=users,
                                    spawn_rate=args.spawn_rate,
                                    duration_s=args.duration,
                                    host=url,
                                    out_dir=self.out_dir,
                                    distributed=args.distributed,
                                    sampled=sampled,
                                )
                            )
                        self._record(
                            result,
                            series=_series_name(style, workers, args.workers),
                            style=style,
                            workers=workers,
                            **_experiment_bounds(style, users, workers, tokens, latency_s),
                        )
        return {
            "latency_ms": latency_ms,
            "llm": args.llm if args.host is None else "external",
            "http": args.http,
            "thread_tokens": tokens,
            "styles": args.styles,
        }

    @contextlib.contextmanager
    def _experiment_target(
        self, simulator: ServerProcess | None, latency_ms: float, workers: int
    ) -> Iterator[tuple[str, dict[str, list[int]]]]:
        """A fresh app per step: a blocked app still holds the previous step's queue."""
        if self.args.host is not None:
            yield self.args.host, {}
            return
        app = experiment_server(
            llm_base_url=simulator.url + "/v1" if simulator else None,
            latency_ms=latency_ms,
            workers=workers,
            http=self.args.http,
            thread_tokens=self.args.thread_tokens,
            log_path=self.out_dir / "experiment_app.log",
        )
        with app:
            sampled = {"server": [app.pid]}
            if simulator is not None:
                sampled["simulator"] = [simulator.pid]
            yield app.url, sampled

    # -- platform scenarios -----------------------------------------------------------

    def platform(self) -> dict[str, Any]:
        from loadtests.platform_setup import PlatformOptions, PlatformUnderTest

        args = self.args
        wait = _mean_wait(args.wait)
        for workers in args.workers:
            with contextlib.ExitStack() as stack:
                if args.host is not None:
                    url, sampled = args.host, {}
                    key = args.api_key or default_api_key() or ""
                else:
                    platform = stack.enter_context(
                        PlatformUnderTest(
                            PlatformOptions(
                                workers=workers,
                                separate_simulator=args.separate_simulator,
                                llm_ttft_ms=args.latency_ms,
                                llm_tokens_per_s=args.tokens_per_s,
                                database_url=args.database_url,
                                log_dir=self.out_dir,
                            )
                        )
                    )
                    assert platform.server is not None and platform.tenant is not None
                    url, key = platform.url, platform.tenant.api_key
                    sampled = {"server": [platform.server.pid]}
                    if platform.simulator is not None:
                        sampled["simulator"] = [platform.simulator.pid]
                base_ms: float | None = None
                for users in args.users:
                    result = run_step(
                        StepSpec(
                            label=f"{self.scenario.name}_w{workers}",
                            user_classes=self.scenario.user_classes,
                            users=users,
                            spawn_rate=args.spawn_rate,
                            duration_s=args.duration,
                            host=url,
                            out_dir=self.out_dir,
                            env={"LOADTEST_API_KEY": key, "LOADTEST_WAIT": args.wait},
                            distributed=args.distributed,
                            sampled=sampled,
                        )
                    )
                    # Ideal (Little's law): every user's cycle (the first step's mean
                    # latency plus think time) stays as short as at low load, so
                    # throughput grows in proportion to users.
                    if base_ms is None:
                        base_ms = result.aggregated.avg_ms
                    cycle_s = base_ms / 1000 + wait if base_ms else None
                    self._record(
                        result,
                        series=_series_name(self.scenario.name, workers, args.workers),
                        workers=workers,
                        ideal_rps=round(users / cycle_s, 2) if cycle_s else None,
                        bound_rps=None,
                    )
        return {
            "user_classes": list(self.scenario.user_classes),
            "wait": args.wait,
            "separate_simulator": args.separate_simulator,
            "simulator_ttft_ms": args.latency_ms,
            "simulator_tokens_per_s": args.tokens_per_s,
        }

    def execute(self) -> dict[str, Any]:
        load_before = os.getloadavg()
        print(f"{self.scenario.name}: {self.scenario.description}\nresults: {self.out_dir}")
        details = self.experiment() if self.scenario.target == "experiment" else self.platform()
        summary: dict[str, Any] = {
            "scenario": self.scenario.name,
            "command": self.command,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_before": [round(v, 2) for v in load_before],
                "load_average_after": [round(v, 2) for v in os.getloadavg()],
                "python": host_platform.python_version(),
                "locust": version("locust"),
            },
            "settings": {
                "users": self.args.users,
                "spawn_rate": self.args.spawn_rate,
                "duration_s": self.args.duration,
                "workers": self.args.workers,
                "distributed": self.args.distributed,
                "host": self.args.host,
                **details,
            },
            "description": self.scenario.description,
            "steps": self.steps,
            "warnings": self.warnings,
            "charts": ["throughput.png", "latency.png"],
        }
        write_summary(self.out_dir, summary)
        draw_charts(summary, self.out_dir)
        print()
        print(markdown_table(self.steps), end="")
        print(f"\nsummary: {self.out_dir / 'summary.json'}")
        print(f"charts:  {self.out_dir / 'throughput.png'}, {self.out_dir / 'latency.png'}")
        return summary


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    if args.distributed < 0:
        raise SystemExit("--distributed must be 0 (one Locust process) or a worker count")
    scenario = SCENARIOS[args.scenario]
    if scenario.target == "platform" and args.host and not (args.api_key or default_api_key()):
        raise SystemExit(
            "--host needs an API key: --api-key, LOADTEST_API_KEY or data/demo_api_key "
            "(written by ai-platform demo)"
        )
    started = time.monotonic()
    run = Run(args, arguments)
    run.execute()
    print(f"took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
