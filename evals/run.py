"""Run the eval suites against the platform and write a report.

    python -m evals.run                                   # every suite, platform in-process
    python -m evals.run --suites agent,assistant --repetitions 3
    python -m evals.run --model gpt-4o                    # DEFAULT_MODEL, and in bodies
    python -m evals.run --url http://127.0.0.1:8000 --api-key aip_...   # a running platform
    LLM_PROVIDER=openai LLM_API_KEY=sk-... python -m evals.run         # a real provider

By default the platform is started in this process: a temporary SQLite database,
migrated, the demo tenant seeded, an eval tenant with high limits and an admin key,
served by uvicorn in a background thread on an ephemeral port. Every case goes over
HTTP. The report lands in ``evals/reports/<UTC timestamp>/`` and is compared with
the previous run there (or ``--baseline``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from evals.catalog import SUITES, select
from evals.client import EvalClient
from evals.compare import Delta, compare, comparison_block, find_baseline, load_summary
from evals.images import draw
from evals.report import write_report
from evals.results import CaseResult
from evals.suite import SUITES_DIR, RunSettings, Suite, SuiteContext
from evals.summary import suite_summary
from evals.usage import attach_ledger_usage

REPORTS_DIR = Path(__file__).with_name("reports")


@dataclass
class RunOptions:
    suites: list[str] = field(default_factory=list)
    """Suite names; empty for all."""
    concurrency: int = 4
    repetitions: int = 1
    limit: int | None = None
    """At most this many cases per suite (the first ones in the file)."""
    model: str | None = None
    provider: str | None = None
    llm_base_url: str | None = None
    url: str | None = None
    api_key: str | None = None
    baseline: Path | None = None
    compare: bool = True
    reports_dir: Path = REPORTS_DIR
    suites_dir: Path = SUITES_DIR
    max_results: int = 5
    settings: dict[str, Any] = field(default_factory=dict)
    """Extra ``Settings`` fields for the platform the runner starts."""
    progress: bool = True
    warmup: bool = True
    timeout_s: float = 120.0
    fail_on_regression: bool = False


@dataclass
class RunOutcome:
    report_dir: Path
    summary: dict[str, Any]
    results: list[CaseResult]
    deltas: list[Delta] | None
    files: dict[str, Path]

    @property
    def regressions(self) -> list[Delta]:
        return [d for d in self.deltas or [] if d.regression]


@dataclass
class Target:
    client: EvalClient
    info: dict[str, Any]
    price_table_path: str | None = None


@contextlib.asynccontextmanager
async def platform_target(options: RunOptions) -> AsyncIterator[Target]:
    """The platform to evaluate: the given ``--url``, or one started here."""
    if options.url:
        if not options.api_key:
            raise SystemExit("--url needs --api-key (or EVAL_API_KEY)")
        client = EvalClient(options.url, options.api_key, timeout_s=options.timeout_s)
        try:
            yield Target(
                client,
                {"mode": "external", "base_url": options.url, "provider": options.provider},
            )
        finally:
            await client.aclose()
        return

    from evals.server import start_platform

    overrides: dict[str, Any] = dict(options.settings)
    if options.model:
        overrides.setdefault("default_model", options.model)
        overrides.setdefault("vision_model", options.model)
    if options.provider:
        overrides["llm_provider"] = options.provider
    if options.llm_base_url:
        overrides["llm_base_url"] = options.llm_base_url
    async with start_platform(**overrides) as started:
        settings = started.settings
        client = EvalClient(
            started.base_url,
            started.api_key,
            header=settings.api_key_header,
            timeout_s=options.timeout_s,
        )
        try:
            yield Target(
                client,
                {
                    "mode": "in-process",
                    "base_url": started.base_url,
                    "provider": settings.llm_provider,
                    "embedded_simulator": settings.embedded_simulator,
                    "llm_base_url": settings.llm_base_url,
                    "default_model": settings.default_model,
                    "vision_model": settings.vision_model,
                    "embedding_model": settings.embedding_model,
                    "database": "sqlite (temporary)",
                },
                settings.price_table_path,
            )
        finally:
            await client.aclose()


async def warm_up(client: EvalClient, suites: list[Suite]) -> None:
    """One unrecorded request per service: connections opened, lazy state built (the
    first hybrid search embeds the corpus chunks stored without vectors)."""
    services = {s.service for s in suites}
    if "knowledge" in services:
        await client.post("/api/v1/knowledge/search", json={"query": "return policy"})
    if "agent" in services:
        await client.post("/api/v1/agent/chat", json={"message": "Where is my order ORD-1001?"})
    if "assistant" in services:
        image = draw({"format": "PNG", "width": 8, "height": 8, "rgb": [0, 0, 0]})
        await client.post(
            "/api/v1/assistant/analyze",
            files=[("images", (image.filename, image.data, image.content_type))],
        )


async def run_suite(
    suite: Suite, ctx: SuiteContext, cases: list[dict[str, Any]], options: RunOptions
) -> list[CaseResult]:
    gate = asyncio.Semaphore(max(1, options.concurrency))
    jobs = [(case, rep) for rep in range(options.repetitions) for case in cases]
    bar = tqdm(
        total=len(jobs),
        desc=f"{suite.name:<17}",
        unit="case",
        file=sys.stderr,
        disable=not options.progress,
        dynamic_ncols=True,
    )

    async def one(case: dict[str, Any], rep: int) -> CaseResult:
        async with gate:
            started = time.perf_counter()
            try:
                result = await suite.run_case(ctx, case)
            except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
                result = CaseResult(
                    suite=suite.name,
                    service=suite.service,
                    case_id=str(case["id"]),
                    repetition=rep,
                    ok=False,
                    status_code=None,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    server_ms=None,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                )
            result.repetition = rep
            result.case = case
            bar.update(1)
            return result

    try:
        return list(await asyncio.gather(*(one(c, r) for c, r in jobs)))
    finally:
        bar.close()


def cost_basis(
    info: dict[str, Any], models: set[str], price_table_path: str | None
) -> dict[str, Any]:
    from ai_platform.llm.pricing import PriceTable

    table = PriceTable.load(price_table_path)
    prices = {}
    for model in sorted(models):
        price = table.price_for(model)
        prices[model] = {
            "priced_as": table.resolve(model) or table.fallback_model,
            "known": price.known,
            "input_per_1m": float(price.input_per_mtok),
            "output_per_1m": float(price.output_per_mtok),
        }
    provider = info.get("provider")
    if provider == "simulator":
        label = "estimate (simulator)"
        note = (
            "the bundled simulator stands in for a provider; its token counts are priced "
            "at the list price of the model it answers as, so the numbers say what those "
            "tokens would cost, not what a real model's answers would."
        )
    elif provider:
        label = "list prices"
        note = f"{provider}: the price table's list price for the model each response reported."
    else:
        label = "platform ledger"
        note = "the running platform's own ledger (provider not stated; pass --provider)."
    return {"label": label, "note": note, "price_table": list(table.sources), "prices": prices}


def new_run_dir(reports_dir: Path, started: datetime) -> Path:
    base = started.strftime("%Y%m%dT%H%M%SZ")
    path = reports_dir / base
    n = 1
    while path.exists():
        path = reports_dir / f"{base}-{n}"
        n += 1
    return path


async def run_evals(options: RunOptions) -> RunOutcome:
    """Run the chosen suites, write the report, return where it is and what it says."""
    suites = select(options.suites)
    loaded = {s.name: s.load(options.suites_dir) for s in suites}
    if options.limit is not None:
        loaded = {name: cases[: options.limit] for name, cases in loaded.items()}
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    results: list[CaseResult] = []
    async with platform_target(options) as target:
        client = target.client
        me = await client.get("/api/v1/me")
        if not me.ok:
            raise RuntimeError(f"the API key does not work: {me.describe_error()}")
        client_id = (me.data or {}).get("client_id")
        if options.warmup:
            await warm_up(client, suites)
        ctx = SuiteContext(
            client,
            RunSettings(
                model=options.model,
                max_results=options.max_results,
                research_timeout_s=options.timeout_s,
            ),
        )
        wall: dict[str, float] = {}
        for suite in suites:
            began = time.perf_counter()
            results += await run_suite(suite, ctx, loaded[suite.name], options)
            wall[suite.name] = round(time.perf_counter() - began, 2)
        ledger = await attach_ledger_usage(
            client, results, client_id=client_id, day=started_at.date()
        )
        info = target.info
        price_table_path = target.price_table_path
    finished_at = datetime.now(UTC)
    by_suite = {s.name: [r for r in results if r.suite == s.name] for s in suites}
    models = {r.usage.model for r in results if r.usage.model}
    summary: dict[str, Any] = {
        "run_id": "",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - clock, 2),
        "platform": info,
        "cost_basis": cost_basis(info, models, price_table_path),
        "ledger": ledger,
        "options": {
            "suites": [s.name for s in suites],
            "concurrency": options.concurrency,
            "repetitions": options.repetitions,
            "limit": options.limit,
            "model": options.model,
            "max_results": options.max_results,
            "settings": {k: str(v) for k, v in options.settings.items()},
        },
        "suites": {
            s.name: {**suite_summary(s, by_suite[s.name]), "wall_s": wall[s.name]} for s in suites
        },
    }
    out = new_run_dir(options.reports_dir, started_at)
    summary["run_id"] = out.name
    deltas: list[Delta] | None = None
    if options.compare:
        baseline = options.baseline or find_baseline(options.reports_dir, exclude=out)
        if baseline is not None:
            path, previous = load_summary(baseline)
            deltas = compare(previous, summary)
            summary["comparison"] = comparison_block(path, previous, deltas)
    files = await asyncio.to_thread(write_report, out, summary, results, deltas)
    return RunOutcome(out, summary, results, deltas, files)


# -- command line ------------------------------------------------------------------------


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError("expected NAME=VALUE, e.g. simulator_ttft_ms=0")
    return name.strip().lower(), value


def parse_args(argv: Sequence[str] | None = None) -> RunOptions:
    parser = argparse.ArgumentParser(
        prog="python -m evals.run",
        description="Run the eval suites and write a report (cost, latency, quality).",
    )
    parser.add_argument(
        "--suites",
        default="",
        help=f"comma-separated suites (default all): {', '.join(SUITES)}",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="cases in flight (4)")
    parser.add_argument("--repetitions", type=int, default=1, help="runs of each case (1)")
    parser.add_argument("--limit", type=int, help="at most N cases per suite")
    parser.add_argument(
        "--model",
        help="chat model: DEFAULT_MODEL and VISION_MODEL of the started platform, and "
        "'model' in the bodies that accept one (knowledge answers, research)",
    )
    parser.add_argument("--provider", choices=["simulator", "openai", "azure"], help="LLM_PROVIDER")
    parser.add_argument("--base-url", dest="llm_base_url", help="LLM_BASE_URL")
    parser.add_argument("--url", help="evaluate a running platform at this URL instead")
    parser.add_argument("--api-key", help="its API key (admin scope for the ledger's token split)")
    parser.add_argument(
        "--baseline", type=Path, help="run directory or summary.json to compare with"
    )
    parser.add_argument("--no-compare", action="store_true", help="skip the comparison")
    parser.add_argument("--reports-dir", type=Path, default=REPORTS_DIR)
    parser.add_argument("--max-results", type=int, default=5, help="k of knowledge searches (5)")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        type=_setting,
        default=[],
        metavar="NAME=VALUE",
        help="any platform setting for the started platform (repeatable), "
        "e.g. --set simulator_ttft_ms=0",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--no-warmup", action="store_true", help="skip the warm-up requests")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds (120)")
    parser.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 when a regression is flagged"
    )
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.repetitions < 1:
        parser.error("--concurrency and --repetitions must be at least 1")
    if not 1 <= args.max_results <= 20:
        parser.error("--max-results must be within 1..20")
    options = RunOptions(
        suites=[s.strip() for s in args.suites.split(",") if s.strip()],
        concurrency=args.concurrency,
        repetitions=args.repetitions,
        limit=args.limit,
        model=args.model,
        provider=args.provider,
        llm_base_url=args.llm_base_url,
        url=args.url,
        api_key=args.api_key or os.environ.get("EVAL_API_KEY"),
        baseline=args.baseline,
        compare=not args.no_compare,
        reports_dir=args.reports_dir,
        max_results=args.max_results,
        settings=dict(args.settings),
        progress=not args.no_progress,
        warmup=not args.no_warmup,
        timeout_s=args.timeout,
        fail_on_regression=args.fail_on_regression,
    )
    try:
        select(options.suites)
    except ValueError as exc:
        parser.error(str(exc))
    return options


def print_summary(outcome: RunOutcome) -> None:
    from evals.report import _md_table, quality_rows, summary_rows

    summary = outcome.summary
    print(_md_table(*summary_rows(summary)))
    print()
    print(_md_table(*quality_rows(summary)))
    print()
    print(f"costs: {summary['cost_basis']['label']}")
    if outcome.deltas is None:
        print("no earlier run to compare with")
    else:
        regressions = outcome.regressions
        print(
            f"compared with {summary['comparison']['baseline']}: "
            + (
                f"{len(regressions)} regression(s): "
                + ", ".join(f"{d.suite} {d.metric}" for d in regressions)
                if regressions
                else "no regressions"
            )
        )
    print(f"report: {outcome.files['html']}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    outcome = asyncio.run(run_evals(options))
    print_summary(outcome)
    if options.fail_on_regression and outcome.regressions:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
