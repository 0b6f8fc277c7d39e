"""The platform under evaluation, started in this process: migrated SQLite in a
temporary directory, the demo tenant seeded, an eval tenant with high limits and an
admin key, and a real uvicorn server in a background thread on an ephemeral port.

A real server (rather than httpx's in-process transport) so that latencies include
the HTTP stack, and the server's event loop is not the one the eval client runs on.
The tenant's limits are high because the evals measure the services, not the rate
limiter: at the default 60 requests a minute most cases would come back as 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from ai_platform.config import Settings
from ai_platform.core.net import listening_socket

EVAL_CLIENT = "evals"
HIGH_RPM = 100_000
HIGH_TPD = 10**9
HIGH_BUDGET_USD = 1_000_000.0


@dataclass
class StartedPlatform:
    """A running platform: where it listens, the eval key, the settings it runs with."""

    base_url: str
    api_key: str
    client_id: str
    settings: Settings
    data_dir: Path
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _sock: socket.socket = field(repr=False)
    _owns_dir: bool = True

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(15)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(5)
        self._sock.close()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


class _ThreadServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The main thread keeps Ctrl-C; a server in a thread must not take the signal.
        yield


def eval_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for the platform under evaluation.

    Environment variables still apply to every field not overridden, so
    ``LLM_PROVIDER=openai LLM_API_KEY=...`` evaluates a real provider.
    """
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": f"sqlite+aiosqlite:///{data_dir / 'evals.db'}",
        "data_dir": str(data_dir),
        "access_log": False,
        "log_level": "WARNING",
        "redis_url": None,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def prepare_database(settings: Settings) -> tuple[str, str]:
    """Migrate, seed the demo tenant, create the eval tenant with its sample data.

    Returns ``(client_id, api_key)`` of the eval tenant (admin scope, high limits).
    """
    from ai_platform.db.engine import create_engine, create_sessionmaker
    from ai_platform.db.migrate import upgrade
    from ai_platform.governance.demo import seed_demo, seed_services
    from ai_platform.governance.keys import ADMIN_SCOPE, DEFAULT_SCOPES
    from ai_platform.governance.tenants import create_client, issue_key

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            await seed_demo(session, settings, None)
            client = await create_client(
                session, EVAL_CLIENT, rpm=HIGH_RPM, tpd=HIGH_TPD, budget_usd=HIGH_BUDGET_USD
            )
            issued = await issue_key(
                session,
                settings.secret_key.get_secret_value(),
                client.id,
                name="evals",
                scopes=[*DEFAULT_SCOPES, ADMIN_SCOPE],
            )
            # The eval tenant gets the same sample data as the demo tenant: the
            # Northwind corpus for the knowledge cases, the orders for the agent's.
            await seed_services(session, settings, client.id)
            await session.commit()
            return client.id, issued.plaintext
    finally:
        await engine.dispose()


async def start_platform(
    *, data_dir: Path | None = None, startup_timeout_s: float = 60.0, **overrides: Any
) -> StartedPlatform:
    """Start the platform; ``overrides`` are ``Settings`` fields (None values ignored)."""
    from ai_platform.gateway.app import create_app

    owns_dir = data_dir is None
    directory = (
        Path(tempfile.mkdtemp(prefix="ai-platform-evals-")) if data_dir is None else data_dir
    )
    try:
        settings = eval_settings(directory, **overrides)
        client_id, api_key = await prepare_database(settings)
        app = create_app(settings)
        host = "127.0.0.1"
        # IPPROTO_TCP explicitly: asyncio then sets TCP_NODELAY on accepted connections,
        # so small responses are not held back by Nagle's algorithm and delayed ACKs.
        sock = listening_socket(host)
        config = uvicorn.Config(
            app,
            lifespan="on",
            access_log=False,
            log_config=None,
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        server = _ThreadServer(config)
        failure: list[BaseException] = []

        def serve() -> None:
            try:
                with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
                    runner.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported by the waiting caller
                failure.append(exc)

        port = sock.getsockname()[1]
        thread = threading.Thread(target=serve, name=f"evals-platform-{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + startup_timeout_s
        while not server.started:
            if not thread.is_alive():
                sock.close()
                raise RuntimeError("the platform stopped during startup") from (
                    failure[0] if failure else None
                )
            if time.monotonic() > deadline:
                server.should_exit = True
                raise TimeoutError(f"the platform did not start within {startup_timeout_s} s")
            await asyncio.sleep(0.01)
        # The app configures logging at startup; the evals report errors themselves.
        logging.getLogger("ai_platform").setLevel(logging.ERROR)
        return StartedPlatform(
            base_url=f"http://{host}:{port}",
            api_key=api_key,
            client_id=client_id,
            settings=settings,
            data_dir=directory,
            _server=server,
            _thread=thread,
            _sock=sock,
            _owns_dir=owns_dir,
        )
    except BaseException:
        if owns_dir:
            shutil.rmtree(directory, ignore_errors=True)
        raise
