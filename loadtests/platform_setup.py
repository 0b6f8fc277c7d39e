"""A platform started for a load test: its own database, a tenant with high limits, a key.

The tenant is created with the ``ai-platform`` CLI, like an operator would: the
default limits (60 requests a minute) would otherwise throttle the load, and every
429 would measure the rate limiter instead of the service. The tenant then gets the
services' sample data (the Northwind corpus, the agent's demo orders) so that
searches find passages and order look-ups find orders.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from ai_platform.harness.tenants import Tenant
from loadtests.processes import ROOT, ServerProcess, child_env, free_port, simulator_server

HIGH_LIMITS = ("--rpm", "1000000", "--tpd", "1000000000", "--budget-usd", "1000000")


@dataclass
class PlatformOptions:
    workers: int = 1
    separate_simulator: bool = False
    llm_ttft_ms: float | None = None
    llm_tokens_per_s: float | None = None
    database_url: str | None = None
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def _cli(args: list[str], env: dict[str, str]) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "ai_platform.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ai-platform {' '.join(args[:2])} failed: {done.stderr or done.stdout}")
    return json.loads(done.stdout) if "--json" in args else done.stdout


async def _seed(database_url: str, data_dir: str, client_id: str) -> list[str]:
    from ai_platform.config import Settings
    from ai_platform.db.engine import create_engine, create_sessionmaker
    from ai_platform.governance.demo import seed_services

    settings = Settings(_env_file=None, database_url=database_url, data_dir=data_dir)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            seeded = await seed_services(session, settings, client_id)
            await session.commit()
            return seeded
    finally:
        await engine.dispose()


class PlatformUnderTest:
    """Migrate, create the load-test tenant, start the platform (and maybe a simulator).

    ``with PlatformUnderTest(options) as platform:`` gives ``platform.url``,
    ``platform.tenant.api_key`` and the server's pid (for CPU sampling).
    """

    def __init__(self, options: PlatformOptions | None = None) -> None:
        self.options = options or PlatformOptions()
        self.data_dir = Path(tempfile.mkdtemp(prefix="ai-platform-load-"))
        self.database_url = (
            self.options.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'load.db'}"
        )
        self.simulator: ServerProcess | None = None
        self.server: ServerProcess | None = None
        self.tenant: Tenant | None = None

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("the platform is not running")
        return self.server.url

    def _log(self, name: str) -> Path | None:
        return self.options.log_dir / name if self.options.log_dir else None

    def _env(self) -> dict[str, str]:
        extra = {
            "ENVIRONMENT": "development",
            "DATABASE_URL": self.database_url,
            "DATA_DIR": str(self.data_dir),
            "LOG_LEVEL": "WARNING",
            "ACCESS_LOG": "false",
            **self.options.extra_env,
        }
        if self.options.llm_ttft_ms is not None:
            extra["SIMULATOR_TTFT_MS"] = str(self.options.llm_ttft_ms)
        if self.options.llm_tokens_per_s is not None:
            extra["SIMULATOR_TOKENS_PER_S"] = str(self.options.llm_tokens_per_s)
        if self.simulator is not None:
            extra["LLM_PROVIDER"] = "simulator"
            extra["LLM_BASE_URL"] = self.simulator.url + "/v1"
        return child_env(extra)

    def start(self) -> PlatformUnderTest:
        try:
            if self.options.separate_simulator:
                self.simulator = simulator_server(
                    ttft_ms=self.options.llm_ttft_ms
                    if self.options.llm_ttft_ms is not None
                    else 150,
                    tokens_per_s=(
                        self.options.llm_tokens_per_s
                        if self.options.llm_tokens_per_s is not None
                        else 200
                    ),
                    jitter=0.1,
                    log_path=self._log("simulator.log"),
                ).start()
            env = self._env()
            _cli(["db", "upgrade"], env)
            name = f"loadtest-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{free_port()}"
            client = _cli(["clients", "create", name, *HIGH_LIMITS, "--json"], env)
            key = _cli(["keys", "create", "--client", client["id"], "--admin", "--json"], env)
            asyncio.run(_seed(self.database_url, str(self.data_dir), client["id"]))
            self.tenant = Tenant(
                client_id=client["id"], name=name, api_key=key["key"], key_id=key["id"]
            )
            port = free_port()
            command = [
                sys.executable, "-m", "ai_platform.cli", "serve",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(self.options.workers),
            ]  # fmt: skip
            self.server = ServerProcess(
                "platform",
                command,
                port=port,
                env=env,
                log_path=self._log("platform.log"),
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in (self.server, self.simulator):
            if server is not None:
                server.stop()
        self.server = self.simulator = None
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> PlatformUnderTest:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
