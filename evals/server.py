"""The platform under evaluation, started in this process: migrated SQLite in a
temporary directory, the demo tenant seeded, an eval tenant with high limits and an
admin key, and a real uvicorn server in a background thread on an ephemeral port
(``ai_platform.harness.serving``).

A real server (rather than httpx's in-process transport) so that latencies include
the HTTP stack, and the server's event loop is not the one the eval client runs on.
The tenant's limits are high because the evals measure the services, not the rate
limiter: at the default 60 requests a minute most cases would come back as 429.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_platform.config import Settings
from ai_platform.harness.serving import serve_in_background

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


@contextlib.asynccontextmanager
async def start_platform(
    *, data_dir: Path | None = None, startup_timeout_s: float = 60.0, **overrides: Any
) -> AsyncIterator[StartedPlatform]:
    """The platform served for the run; ``overrides`` are ``Settings`` fields (None
    values ignored). Stopped, and its temporary directory removed, when the block exits.
    """
    from ai_platform.gateway.app import create_app

    async with contextlib.AsyncExitStack() as stack:
        if data_dir is None:
            data_dir = Path(tempfile.mkdtemp(prefix="ai-platform-evals-"))
            stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        settings = eval_settings(data_dir, **overrides)
        client_id, api_key = await prepare_database(settings)
        # Its own loop in a thread: the eval client's loop does not slow the server.
        base_url = await stack.enter_async_context(
            serve_in_background(
                create_app(settings),
                in_thread=True,
                lifespan="on",
                startup_timeout_s=startup_timeout_s,
            )
        )
        # The app configures logging at startup; the evals report errors themselves.
        logging.getLogger("ai_platform").setLevel(logging.ERROR)
        yield StartedPlatform(
            base_url=base_url,
            api_key=api_key,
            client_id=client_id,
            settings=settings,
            data_dir=data_dir,
        )
