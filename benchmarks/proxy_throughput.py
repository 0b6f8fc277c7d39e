"""How many requests per second one gateway worker forwards to a service.

Starts a stand-in service (a bare ASGI app under uvicorn that answers every request at
once with a 0.6 kB JSON body, so the gateway is what is measured) and a gateway with
``SERVICES__KNOWLEDGE__URL`` pointing at it, one uvicorn worker each, on one SQLite
database. Then, at each concurrency, keeps that many requests in flight through the
gateway for a few seconds and prints requests per second and errors.

    python benchmarks/proxy_throughput.py [--seconds 4] [--concurrency 1 10 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from starlette.types import Receive, Scope, Send

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "platform"),
]

from benchmarks.proxy_hop import platform_env, server  # noqa: E402

from ai_platform.config import Settings  # noqa: E402
from ai_platform.db.migrate import upgrade  # noqa: E402
from ai_platform.harness.ports import free_port  # noqa: E402
from ai_platform.harness.processes import ServerProcess  # noqa: E402
from ai_platform.harness.tables import markdown_table  # noqa: E402
from ai_platform.harness.tenants import tenant_for  # noqa: E402

BODY = b'{"query": "how do I store a wet tent", "max_results": 5, "mode": "hybrid"}'
ANSWER = b'{"results": [1, 2, 3], "text": "' + b"a" * 600 + b'"}'


async def standin(scope: Scope, receive: Receive, send: Send) -> None:
    """The stand-in service: drains the request, answers 200 with ``ANSWER``."""
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(ANSWER)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": ANSWER})


async def rate(
    url: str, headers: dict[str, str], concurrency: int, seconds: float
) -> tuple[float, int]:
    done = errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < stop:
                async with http.post(url, data=BODY, headers=headers) as resp:
                    await resp.read()
                    if resp.status == 200:
                        done += 1
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / seconds, errors


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="proxy-throughput-") as tmp:
        logs = Path(tmp)
        database_url = f"sqlite+aiosqlite:///{logs / 'bench.db'}"
        await upgrade(database_url)
        settings = Settings(_env_file=None, environment="test", database_url=database_url)  # type: ignore[call-arg]
        tenant = await tenant_for(settings, rpm=10**9, tpd=10**12, budget_usd=10**6)
        service_port = free_port()
        service = ServerProcess(
            "stand-in",
            [sys.executable, "-m", "uvicorn", "benchmarks.proxy_throughput:standin",
             "--port", str(service_port), "--log-level", "warning", "--no-access-log"],
            port=service_port,
            clean_env=True,
            log_path=logs / "standin.log",
        )  # fmt: skip
        gateway_env = {**platform_env(database_url, logs), "SERVICES__KNOWLEDGE__URL": service.url}
        gateway = server("gateway", [], gateway_env, logs)
        rows = []
        try:
            service.start()
            gateway.start()
            url = gateway.url + "/api/v1/knowledge/search"
            headers = {**tenant.headers, "Content-Type": "application/json"}
            await rate(url, headers, 10, 1.0)  # warm-up: connections, caches
            for concurrency in args.concurrency:
                per_s, errors = await rate(url, headers, concurrency, args.seconds)
                rows.append([str(concurrency), f"{per_s:,.0f}", str(errors)])
        finally:
            gateway.stop()
            service.stop()
    print("one gateway worker forwarding to a stand-in service that answers at once\n")
    print(markdown_table(["concurrency", "req/s", "errors"], rows))


if __name__ == "__main__":
    asyncio.run(main())
