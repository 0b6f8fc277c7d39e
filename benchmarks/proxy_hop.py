"""What the split shape's extra hop costs: the same request through the monolith and
through gateway → service.

Starts, as separate processes with one uvicorn worker each: the simulator (instant:
``SIMULATOR_TTFT_MS=0``, unpaced), the monolith (``ai-platform serve``), a service
process (``ai-platform serve --services knowledge,agent``) and a gateway proxying to it
(``SERVICES__KNOWLEDGE__URL``, ``SERVICES__AGENT__URL``), on one SQLite database. Then,
at concurrency 1 and alternating between the two shapes request by request (so drift
on a shared machine hits both alike):

- JSON: ``POST /api/v1/knowledge/search`` (hybrid: one embeddings call), p50/p95;
- streaming: ``POST /api/v1/agent/chat/stream``, time to the first token event.

Prints both shapes and the added milliseconds (split minus monolith), as the
difference of the percentiles and as the median of paired differences (each split
request against the monolith request just before it).

At concurrency 1 the request passes from process to process, one working at a time.
On a small virtual machine, handing it to a process on another CPU means waking that
CPU, which costs about as much as the hop's own work, and the split shape has one
more such hand-off per direction. ``--cpu N`` runs every process on CPU ``N``, which
measures the software cost of the hop alone (in a deployment the hand-off is a
network round trip between pods instead).

    python benchmarks/proxy_hop.py                  # 300 requests per shape and kind
    python benchmarks/proxy_hop.py --cpu 0          # every process on one CPU
    python benchmarks/proxy_hop.py --requests 1000 --postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import aiohttp

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "platform")]

from ai_platform.config import Settings  # noqa: E402
from ai_platform.db.migrate import upgrade  # noqa: E402
from ai_platform.harness.ports import free_port  # noqa: E402
from ai_platform.harness.processes import ServerProcess, simulator_process  # noqa: E402
from ai_platform.harness.stats import percentile  # noqa: E402
from ai_platform.harness.tables import markdown_table  # noqa: E402
from ai_platform.harness.tenants import tenant_for  # noqa: E402

CLI = [sys.executable, "-m", "ai_platform.cli"]
SECRET = "proxy-hop-benchmark-secret-" + "x" * 20
DOCUMENTS = [
    {
        "title": f"Care guide {i}",
        "text": f"Tent care {i}: dry the tent before storing it; clean zips with water. "
        "The warranty covers seams and poles for two years.",
        "source": f"guides/{i}.md",
    }
    for i in range(20)
]
SEARCH = {"query": "how do I store a wet tent", "max_results": 5, "mode": "hybrid"}
STREAM = {"message": "Tell me a short fact about tents"}


def platform_env(database_url: str, logs: Path) -> dict[str, str]:
    """The settings every platform process of these benchmarks runs with."""
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(logs / "data"),
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG": "false",
        "SERVICE_IDENTITY_SECRET": SECRET,
    }


def server(
    name: str, args: list[str], env: dict[str, str], logs: Path, cpus: set[int] | None = None
) -> ServerProcess:
    port = free_port()
    return ServerProcess(
        name,
        [*CLI, "serve", "--port", str(port), "--workers", "1", *args],
        port=port,
        env=env,
        clean_env=True,
        log_path=logs / f"{name}.log",
        cpus=cpus,
    )


async def json_ms(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    async with http.post(url + "/api/v1/knowledge/search", json=SEARCH, headers=headers) as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    return (time.perf_counter() - start) * 1000


async def ttft_ms(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    first = None
    async with http.post(url + "/api/v1/agent/chat/stream", json=STREAM, headers=headers) as resp:
        assert resp.status == 200, resp.status
        async for line in resp.content:
            if first is None and line.startswith(b"event: token"):
                first = (time.perf_counter() - start) * 1000
        # The stream is read to its end so the next request starts on an idle server.
    assert first is not None, "no token event"
    return first


async def measure(
    monolith: str, gateway: str, headers: dict[str, str], n: int
) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {
        "json": {"monolith": [], "split": []},
        "ttft": {"monolith": [], "split": []},
    }
    connector = aiohttp.TCPConnector(limit=4)
    async with aiohttp.ClientSession(connector=connector) as http:
        ingest = await http.post(
            gateway + "/api/v1/knowledge/ingest", json={"documents": DOCUMENTS}, headers=headers
        )
        assert ingest.status == 201, await ingest.text()
        for _ in range(max(20, n // 10)):  # warm-up: connections, caches, JIT-free paths
            for url in (monolith, gateway):
                await json_ms(http, url, headers)
                await ttft_ms(http, url, headers)
        for _ in range(n):
            for shape, url in (("monolith", monolith), ("split", gateway)):
                out["json"][shape].append(await json_ms(http, url, headers))
                out["ttft"][shape].append(await ttft_ms(http, url, headers))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per shape and kind")
    parser.add_argument("--postgres", action="store_true", help="use the local PostgreSQL")
    parser.add_argument("--cpu", type=int, default=None, help="run every process on this CPU")
    args = parser.parse_args()
    cpus = None if args.cpu is None else {args.cpu}
    if cpus is not None:
        os.sched_setaffinity(0, cpus)

    with tempfile.TemporaryDirectory(prefix="proxy-hop-") as tmp:
        logs = Path(tmp)
        if args.postgres:
            database_url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        else:
            database_url = f"sqlite+aiosqlite:///{logs / 'bench.db'}"
        await upgrade(database_url)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            database_url=database_url,
        )
        tenant = await tenant_for(settings, rpm=10**7, tpd=10**12, budget_usd=10**6)
        simulator = simulator_process(
            ttft_ms=0, tokens_per_s=0, log_path=logs / "sim.log", cpus=cpus
        )
        simulator.start()
        base = {**platform_env(database_url, logs), "LLM_BASE_URL": simulator.url + "/v1"}
        processes: list[ServerProcess] = [simulator]
        try:
            monolith = server("monolith", [], base, logs, cpus).start()
            processes.append(monolith)
            services = ["--services", "knowledge,agent"]
            service = server("service", services, base, logs, cpus).start()
            processes.append(service)
            gateway_env = {
                **base,
                "SERVICES__KNOWLEDGE__URL": service.url,
                "SERVICES__AGENT__URL": service.url,
            }
            gateway = server("gateway", [], gateway_env, logs, cpus).start()
            processes.append(gateway)
            results = await measure(monolith.url, gateway.url, tenant.headers, args.requests)
        finally:
            for process in reversed(processes):
                process.stop()

    rows = []
    for kind, label in (("json", "JSON search, total"), ("ttft", "SSE, first token")):
        mono, split = results[kind]["monolith"], results[kind]["split"]
        for q, name in ((50, "p50"), (95, "p95")):
            a, b = percentile(mono, q), percentile(split, q)
            rows.append([f"{label} {name}", f"{a:.2f}", f"{b:.2f}", f"{b - a:+.2f}"])
        # Each split request against the monolith request just before it: drift on a
        # shared machine (another tenant, a frequency change) cancels out pair by pair.
        paired = [b - a for a, b in zip(mono, split, strict=True)]
        rows.append([f"{label}, median of paired differences", "", "", f"{median(paired):+.2f}"])
    placement = f"every process on CPU {args.cpu}" if cpus else "processes on any CPU"
    print(
        f"{args.requests} requests per shape and kind, concurrency 1, one worker per process, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}, instant simulator, {placement}\n"
    )
    print(markdown_table(["ms", "monolith", "gateway → service", "added"], rows))


if __name__ == "__main__":
    asyncio.run(main())
