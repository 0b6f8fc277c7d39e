"""What the governed ``/v1/chat/completions`` adds over calling the provider directly.

Starts the simulator as its own zero-latency server and the platform (one uvicorn
worker, uvloop + httptools, access log off, every governance layer on: key, requests
per minute, tokens per day, budget reservation and settlement, injection screening,
ledger row, metrics). Then, in one run:

  JSON     interleaved rounds of A (POST /v1/chat/completions straight to the simulator)
           and B (the same body to the platform's /v1 with a platform key), at each
           concurrency: p50/p99, throughput, and what B adds;
  stream   time to first token (the first content chunk) of a streamed call, A then B,
           alternating, at concurrency 1.

The platform gets CPU 0 to itself; the simulator and this generator share CPU 1.

    python benchmarks/openai_gateway.py                       # JSON at c = 1, 10, 50; TTFT
    python benchmarks/openai_gateway.py --transport sdk       # the openai SDK's transport
    python benchmarks/openai_gateway.py --rss 100000          # + RSS across 100k requests
    python benchmarks/openai_gateway.py --profile 15          # + py-spy, 15 s at c=10
    python benchmarks/openai_gateway.py --redis               # limits/budget on Redis
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson
import uvloop

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "platform"),
]

from benchmarks.governance_overhead import (  # noqa: E402
    SECRET,
    compare,
    platform_settings,
    profile,
    rss_run,
    run,
)
from benchmarks.loadgen import (  # noqa: E402
    build_request,
    free_port,
    percentile,
    prepare_tenant,
    start_platform,
    start_simulator,
    stop,
)

MESSAGE = "How do I make my Python web service faster under load?"
MAX_TOKENS = 64


def chat_body(stream: bool = False) -> dict[str, object]:
    body: dict[str, object] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": MESSAGE}],
        "max_tokens": MAX_TOKENS,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


async def first_token(port: int, request: bytes) -> float:
    """Seconds from sending ``request`` to the first SSE chunk that carries content;
    the rest of the stream is read to its end so the connection closes cleanly."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.perf_counter()
        writer.write(request)
        seen: float | None = None
        buffer = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if seen is None:
                buffer += data
                for line in buffer.split(b"\n"):
                    if line.startswith(b"data: {") and b'"content":"' in line:
                        seen = time.perf_counter() - started
                        break
            if b"data: [DONE]" in data or b"0\r\n\r\n" in data[-7:]:
                break
        if seen is None:
            raise SystemExit(f"no content chunk from port {port}: {buffer[:300]!r}")
        return seen
    finally:
        writer.close()


async def ttft(sim_port: int, app_port: int, key: str, count: int) -> None:
    body = chat_body(stream=True)
    direct = build_request(
        sim_port, "/v1/chat/completions", body, {"Authorization": "Bearer sk-simulator"}
    )
    governed = build_request(
        app_port, "/v1/chat/completions", body, {"Authorization": f"Bearer {key}"}
    )
    for request, port in ((direct, sim_port), (governed, app_port)):
        for _ in range(50):
            await first_token(port, request)
    a: list[float] = []
    b: list[float] = []
    for _ in range(count):
        a.append(await first_token(sim_port, direct.replace(b"keep-alive", b"close")))
        b.append(await first_token(app_port, governed.replace(b"keep-alive", b"close")))
    a50, b50 = percentile(a, 50), percentile(b, 50)
    a99, b99 = percentile(a, 99), percentile(b, 99)
    print(f"\nstreamed time to first token, c=1, {count} calls each (a new connection each)")
    print(f"  direct to simulator    p50 {a50 * 1000:6.2f} ms  p99 {a99 * 1000:6.2f} ms")
    print(f"  via the platform's /v1 p50 {b50 * 1000:6.2f} ms  p99 {b99 * 1000:6.2f} ms")
    added50, added99 = (b50 - a50) * 1000, (b99 - a99) * 1000
    print(f"  added                  p50 {added50:6.2f} ms  p99 {added99:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=3000)
    parser.add_argument("--ttft", type=int, default=300, help="streamed calls per side")
    parser.add_argument("--rss", type=int, default=0, help="requests for the RSS run")
    parser.add_argument("--profile", type=int, default=0, help="seconds of py-spy")
    parser.add_argument("--profile-concurrency", type=int, default=10)
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
    tmp = Path(tempfile.mkdtemp(prefix="openai-gateway-bench-"))
    db = f"sqlite+aiosqlite:///{tmp}/bench.db"
    _, key = asyncio.run(prepare_tenant(db, SECRET, rpm=10**9, tpd=10**12, budget_usd=10**6))
    sim_port, app_port = free_port(), free_port()
    env = platform_settings(db, sim_port, str(tmp), args)
    sim = start_simulator(sim_port, other_cpus)
    app = start_platform(app_port, env, cpus=app_cpus)
    try:
        direct = build_request(
            sim_port, "/v1/chat/completions", chat_body(), {"Authorization": "Bearer sk-simulator"}
        )
        governed = build_request(
            app_port, "/v1/chat/completions", chat_body(), {"Authorization": f"Bearer {key}"}
        )
        probe = uvloop.run(_probe(app_port, key))
        print(f"platform answered: model {probe}")
        run(sim_port, direct, 10, args.warmup)
        run(app_port, governed, 10, args.warmup)
        backend = "Redis" if args.redis else "in-process memory"
        print(
            f"platform: 1 uvicorn worker on CPU {sorted(app_cpus)}; simulator + generator on "
            f"CPU {sorted(other_cpus)}; limits/budgets: {backend}; transport: "
            f"{args.transport}; SQLite ledger"
        )
        print(f"{args.rounds} interleaved rounds of {args.per_round} requests per side\n")
        print(
            "     |   A: direct to simulator |   B: governed /v1 (ours) |     added by B | platform"
        )
        print(
            "   c |  p50 ms  p99 ms    req/s |  p50 ms  p99 ms    req/s |  p50 ms  p99 ms |"
            " CPU ms/req"
        )
        for c in args.concurrency:
            compare(app.pid, sim_port, app_port, direct, governed, c, args.per_round, args.rounds)
        if args.ttft:
            uvloop.run(ttft(sim_port, app_port, key, args.ttft))
        if args.rss:
            rss_run(app.pid, app_port, governed, args.rss, max(1000, args.rss // 20))
        if args.profile:
            profile(app.pid, app_port, governed, args.profile, tmp, args.profile_concurrency)
    finally:
        stop(app)
        stop(sim)


async def _probe(port: int, key: str) -> str:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.post(
            "/v1/chat/completions", json=chat_body(), headers={"Authorization": f"Bearer {key}"}
        )
        if response.status_code != 200:
            raise SystemExit(f"the platform refused the benchmark call: {response.text}")
        return str(orjson.loads(response.content)["model"])


if __name__ == "__main__":
    main()
