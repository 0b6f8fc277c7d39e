"""What governance costs: the governed path against a direct call to the same upstream.

Starts the simulator as its own zero-latency server and the platform (one uvicorn
worker, uvloop + httptools, access log off) with the benchmark's governed chat route
(``benchmarks.governed_app``: API key, requests-per-minute, screening, token and
budget reservation, the LLM call (``--transport``: the aiohttp wire transport or the
openai SDK), settlement, envelope,
ledger row, metrics). Then, at each concurrency, alternates rounds of

  A  POST /v1/chat/completions straight to the simulator (the same body the SDK sends)
  B  POST /bench/chat on the platform, which makes that same call

and prints p50/p99 of each, the difference (what governance and the gateway add) and
the throughput of each. On a 2-core machine the platform gets CPU 0 to itself; the
simulator and this generator share CPU 1.

    python benchmarks/governance_overhead.py                      # c = 1, 10, 50
    python benchmarks/governance_overhead.py --rss 100000         # + RSS across 100k
    python benchmarks/governance_overhead.py --profile 15         # + py-spy, 15 s at c=10
    python benchmarks/governance_overhead.py --redis              # limits/budget on Redis
    python benchmarks/governance_overhead.py --transport sdk --http aiohttp  # SDK over aiohttp
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import psutil
import uvloop

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "platform"),
]

from benchmarks.loadgen import (  # noqa: E402
    build_request,
    drive,
    free_port,
    percentile,
    prepare_tenant,
    start_platform,
    start_simulator,
    stop,
)

MESSAGE = "How do I make my Python web service faster under load?"
MAX_TOKENS = 64
SECRET = "benchmark-secret-not-for-production-0123456789"

# Self time of profile samples by where the leaf frame's code lives (first match wins).
COMPONENTS = [
    ("governance: rate limits (+ limits lib)", ("governance/ratelimit.py", "limits/")),
    ("governance: budget", ("governance/budget.py",)),
    (
        "governance: ledger (+ SQLAlchemy, aiosqlite)",
        ("governance/ledger.py", "sqlalchemy/", "aiosqlite/"),
    ),
    ("governance: screening", ("governance/screening/",)),
    ("governance: metrics (prometheus_client)", ("prometheus_client/", "governance/metrics.py")),
    (
        "governance: governor, context, headers",
        ("governance/", "gateway/governed.py", "gateway/governance_middleware.py", "llm/tokens.py"),
    ),
    ("auth, envelope, other gateway code", ("ai_platform/gateway/", "ai_platform/core/")),
    ("LLM client (ours)", ("ai_platform/llm/",)),
    ("openai SDK", ("openai/",)),
    ("HTTP client: httpx/httpcore/h11/anyio", ("httpx", "httpcore", "h11/", "anyio/")),
    ("HTTP client: aiohttp", ("aiohttp/", "yarl/", "multidict/")),
    ("FastAPI", ("fastapi/",)),
    ("pydantic", ("pydantic",)),
    ("starlette", ("starlette/",)),
    ("uvicorn, httptools", ("uvicorn/", "httptools")),
    (
        "asyncio, threads, stdlib",
        (
            "asyncio/",
            "threading.py",
            "concurrent/",
            "contextlib.py",
            "typing.py",
            "copy.py",
            "json/",
            "uuid.py",
            "random.py",
            "dataclasses.py",
            "queue.py",
        ),
    ),
]


def platform_settings(
    db: str, sim_port: int, data_dir: str, args: argparse.Namespace
) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": db,
        "DATA_DIR": data_dir,
        "LLM_PROVIDER": "simulator",
        "LLM_BASE_URL": f"http://127.0.0.1:{sim_port}/v1",
        "LLM_TRANSPORT": args.transport,
        "LLM_HTTP_BACKEND": args.http,
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "AUTH_CACHE_TTL_S": "60",
    }
    if args.redis:
        env["REDIS_URL"] = args.redis_url
        env["REDIS_KEY_PREFIX"] = f"bench-{os.getpid()}"
    return env


def run(
    port: int, request: bytes, connections: int, count: int
) -> tuple[list[float], float, Counter[int]]:
    result = uvloop.run(drive(port, request, connections, count))
    return result.latencies, result.elapsed, Counter(result.statuses)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def compare(
    app_pid: int,
    sim_port: int,
    app_port: int,
    direct: bytes,
    governed: bytes,
    concurrency: int,
    per_round: int,
    rounds: int,
) -> None:
    a_lat: list[float] = []
    b_lat: list[float] = []
    a_time = b_time = 0.0
    b_status: Counter[int] = Counter()
    app = psutil.Process(app_pid)
    b_cpu = 0.0
    for _ in range(rounds):
        lat, elapsed, _ = run(sim_port, direct, concurrency, per_round)
        a_lat += lat
        a_time += elapsed
        before = sum(app.cpu_times()[:2])
        lat, elapsed, statuses = run(app_port, governed, concurrency, per_round)
        b_cpu += sum(app.cpu_times()[:2]) - before
        b_lat += lat
        b_time += elapsed
        b_status += statuses
    if set(b_status) != {200}:
        raise SystemExit(f"governed requests failed: {dict(b_status)}")
    a50, a99 = percentile(a_lat, 50), percentile(a_lat, 99)
    b50, b99 = percentile(b_lat, 50), percentile(b_lat, 99)
    print(
        f"{concurrency:>4} | {ms(a50)} {ms(a99)} {len(a_lat) / a_time:8.0f} | "
        f"{ms(b50)} {ms(b99)} {len(b_lat) / b_time:8.0f} | {ms(b50 - a50)} {ms(b99 - a99)} | "
        f"{b_cpu / len(b_lat) * 1000:5.2f}"
    )


def breakdown(app_pid: int, app_port: int, key: str, count: int) -> None:
    """Platform CPU per request for routes that add one layer at a time (c=10)."""
    app = psutil.Process(app_pid)
    body = {"message": MESSAGE, "max_tokens": MAX_TOKENS}
    routes = [
        ("/bench/plain", "framework: routing, validation, middleware, JSON"),
        ("/bench/governed-noop", "+ key, RPM, screening, envelope, ledger row"),
        ("/bench/llm-only", "framework + the LLM call (openai SDK), ungoverned"),
        ("/bench/chat", "everything: the governed chat route"),
    ]
    cpu: dict[str, float] = {}
    print(f"\nplatform CPU per request, c=10, {count} requests per route")
    for path, what in routes:
        request = build_request(app_port, path, body, {"X-API-Key": key})
        run(app_port, request, 10, count // 5)
        before = sum(app.cpu_times()[:2])
        _, elapsed, statuses = run(app_port, request, 10, count)
        if set(statuses) != {200}:
            raise SystemExit(f"{path} failed: {dict(statuses)}")
        cpu[path] = (sum(app.cpu_times()[:2]) - before) / count * 1000
        print(f"  {path:<22} {cpu[path]:5.2f} ms  {count / elapsed:6.0f} req/s  {what}")
    governance = cpu["/bench/governed-noop"] - cpu["/bench/plain"]
    sdk = cpu["/bench/llm-only"] - cpu["/bench/plain"]
    rest = cpu["/bench/chat"] - cpu["/bench/plain"] - governance - sdk
    print(
        f"  => governance {governance:.2f} ms, LLM call via SDK {sdk:.2f} ms, "
        f"reservation/settlement around the call {rest:.2f} ms, framework "
        f"{cpu['/bench/plain']:.2f} ms"
    )


def rss_run(app_pid: int, app_port: int, governed: bytes, total: int, step: int) -> None:
    proc = psutil.Process(app_pid)
    print(f"\nRSS of the platform worker (pid {app_pid}) across {total:,} governed requests (c=10)")
    print(f"{'requests':>10} {'RSS MiB':>9}")
    print(f"{0:>10,} {proc.memory_info().rss / 2**20:9.1f}")
    done = 0
    samples = []
    while done < total:
        _, _, statuses = run(app_port, governed, 10, step)
        if set(statuses) != {200}:
            raise SystemExit(f"governed requests failed: {dict(statuses)}")
        done += step
        rss = proc.memory_info().rss / 2**20
        samples.append(rss)
        print(f"{done:>10,} {rss:9.1f}")
    half = samples[len(samples) // 2 :]
    print(
        f"second half: min {min(half):.1f} MiB, max {max(half):.1f} MiB "
        f"(growth {max(half) - min(half):.1f} MiB)"
    )


def profile(
    app_pid: int,
    app_port: int,
    governed: bytes,
    seconds: int,
    out_dir: Path,
    concurrency: int = 10,
) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        print("\npy-spy is not installed (pip install py-spy); skipping the profile")
        return
    raw = out_dir / "governed.txt"
    cmd = [
        str(spy), "record", "--pid", str(app_pid), "--duration", str(seconds), "--rate", "250",
        "--format", "raw", "--output", str(raw), "--nonblocking",
    ]  # fmt: skip
    spy_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    n = 0
    while spy_proc.poll() is None:
        run(app_port, governed, concurrency, 1000)
        n += 1000
    if not raw.exists():
        print("\npy-spy produced no profile (ptrace not permitted?)")
        return
    total = 0
    shares: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        leaf = stack.rsplit(";", 1)[-1]
        where = leaf[leaf.find("(") + 1 : leaf.rfind(":")] if "(" in leaf else leaf
        for name, needles in COMPONENTS:
            if any(needle in where for needle in needles):
                shares[name] += samples
                break
        else:
            shares["other"] += samples
    print(
        f"\nprofile: py-spy, {seconds} s at c={concurrency} ({n:,} requests), {total:,} samples; "
        "self time by component"
    )
    for name, _ in [*COMPONENTS, ("other", ())]:
        print(f"  {name:<46} {100 * shares[name] / max(total, 1):5.1f} %")
    print(f"  raw stacks: {raw}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=3000)
    parser.add_argument(
        "--breakdown", type=int, default=5000, help="requests per route for the CPU breakdown"
    )
    parser.add_argument("--rss", type=int, default=0, help="governed requests for the RSS run")
    parser.add_argument("--profile", type=int, default=0, help="seconds of py-spy at c=10")
    parser.add_argument("--redis", action="store_true", help="rate limits and budgets on Redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--transport", choices=("wire", "sdk"), default="wire")
    parser.add_argument(
        "--http", choices=("httpx", "aiohttp"), default="httpx", help="SDK's client"
    )
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    app_cpus = {cores[0]}
    other_cpus = set(cores[1:]) or set(cores)
    os.sched_setaffinity(0, other_cpus)
    tmp = Path(tempfile.mkdtemp(prefix="governance-bench-"))
    db = f"sqlite+aiosqlite:///{tmp}/bench.db"
    _, key = asyncio.run(prepare_tenant(db, SECRET, rpm=10**9, tpd=10**12, budget_usd=10**6))
    sim_port, app_port = free_port(), free_port()
    sim = start_simulator(sim_port, other_cpus)
    app = start_platform(app_port, platform_settings(db, sim_port, str(tmp), args), cpus=app_cpus)
    try:
        direct = build_request(
            sim_port,
            "/v1/chat/completions",
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": MESSAGE}],
                "max_tokens": MAX_TOKENS,
            },
            {"Authorization": "Bearer sk-simulator"},
        )
        governed = build_request(
            app_port,
            "/bench/chat",
            {"message": MESSAGE, "max_tokens": MAX_TOKENS},
            {"X-API-Key": key},
        )
        run(sim_port, direct, 10, args.warmup)
        run(app_port, governed, 10, args.warmup)
        backend = "Redis" if args.redis else "in-process memory"
        print(
            f"platform: 1 uvicorn worker on CPU {sorted(app_cpus)}; simulator + generator on CPU "
            f"{sorted(other_cpus)}; limits/budgets: {backend}; transport: {args.transport}; "
            f"SQLite ledger"
        )
        print(
            f"{args.rounds} interleaved rounds of {args.per_round} requests "
            "per side and concurrency\n"
        )
        print(
            "     |   A: direct to simulator |  B: governed via platform |     added by B |"
            " platform"
        )
        print(
            "   c |  p50 ms  p99 ms    req/s |  p50 ms  p99 ms    req/s |  p50 ms  p99 ms |"
            " CPU ms/req"
        )
        for c in args.concurrency:
            compare(app.pid, sim_port, app_port, direct, governed, c, args.per_round, args.rounds)
        if args.breakdown:
            breakdown(app.pid, app_port, key, args.breakdown)
        if args.rss:
            rss_run(app.pid, app_port, governed, args.rss, max(1000, args.rss // 10))
        if args.profile:
            profile(app.pid, app_port, governed, args.profile, tmp)
    finally:
        stop(app)
        stop(sim)


if __name__ == "__main__":
    main()
