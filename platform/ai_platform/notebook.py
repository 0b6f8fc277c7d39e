"""Small helpers the lessons in ``notebooks/`` share: a running platform, a tenant with
an API key, a real uvicorn server in the background, a stopwatch, stable printing.
Servers and tenants come from ``ai_platform.harness``, the harness the tests, load
tests, evals and benchmarks use too.

The platform in a notebook (data in a temporary directory, removed on close)::

    from ai_platform.notebook import start_platform, show

    nb = await start_platform()                 # migrated SQLite, one tenant, lifespan run
    r = await nb.client.get("/api/v1/me", headers=nb.headers)
    show(r)                                     # status line and indented JSON body
    admin = await nb.new_tenant(admin=True)     # more tenants: .api_key, .headers
    nb.state.llm                                # the PlatformState the lifespan built
    await nb.aclose()

``start_platform(**overrides)`` takes any ``Settings`` field (``simulator_ttft_ms=0``,
``default_rpm=5``, ``database_url=...``) and:

- ``serve=True``: a real uvicorn server on an ephemeral port instead of httpx's
  in-process ``ASGITransport`` (which buffers whole responses): use it for streaming
  and latency. ``nb.base_url`` is then ``http://127.0.0.1:PORT``.
- ``routers=[...]``: extra ``APIRouter``\\ s included in the app (lesson-only routes
  that raise errors, say) before it starts.
- ``migrate=False`` / ``tenant=False``: skip the migrations and the first tenant (a
  database that is not reachable, in the readiness lesson).

Settings come from ``notebook_settings(data_dir, **overrides)``: development
environment, SQLite in ``data_dir``, quiet logs, no ``.env`` file. Environment
variables still apply to every field not overridden, so ``LLM_PROVIDER=openai`` and
``LLM_API_KEY=sk-...`` in the environment turn the same cells to a real provider
(the bundled simulator is a stand-in for one, not a model).

A real server for any ASGI app::

    async with serve_in_background(app) as base_url:            # a task on this loop
        async with httpx.AsyncClient(base_url=base_url) as http: ...

    async with serve_in_background(app, in_thread=True) as base_url:
        ...   # its own event loop (uvloop) in a thread: a blocked server loop does not
              # block the notebook's, and the notebook's client does not slow the server

Timing and printing::

    with stopwatch() as sw:
        await work()
    print(f"{sw.ms:.0f} ms")      # a measured number: mark the cell NBVAL_IGNORE_OUTPUT

    show(response, headers=["x-request-id"])   # ids, times and timestamps are masked
                                               # by notebooks/sanitize.cfg under nbval

Top-level ``await`` works in a notebook cell; ``asyncio.run`` does not (the kernel's
loop is already running).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ai_platform.config import Settings
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.tenants import Tenant, tenant_for

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from ai_platform.gateway.state import PlatformState

__all__ = [
    "PlatformSession",
    "Stopwatch",
    "Tenant",
    "create_tenant",
    "notebook_settings",
    "serve_in_background",
    "show",
    "start_platform",
    "stopwatch",
]

IN_PROCESS_BASE_URL = "http://platform"


# -- the platform -------------------------------------------------------------------------


def notebook_settings(data_dir: str | Path, **overrides: Any) -> Settings:
    """Settings for a lesson: development, SQLite under ``data_dir``, quiet logs.

    No ``.env`` file is read; environment variables still fill every field not given.
    """
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": f"sqlite+aiosqlite:///{Path(data_dir) / 'notebook.db'}",
        "data_dir": str(data_dir),
        "access_log": False,
        "log_level": "ERROR",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def create_tenant(
    settings: Settings,
    name: str | None = None,
    *,
    admin: bool = False,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: float | None = None,
) -> Tenant:
    """Create a client with one API key in the settings' database (committed).

    Limits left as None fall back to the settings' defaults (``DEFAULT_RPM`` ...).
    """
    return await tenant_for(
        settings, name, admin=admin, rpm=rpm, tpd=tpd, budget_usd=budget_usd, prefix="notebook"
    )


@dataclass
class PlatformSession:
    """A started platform: its app, settings, an HTTP client on it, and a tenant."""

    app: FastAPI
    settings: Settings
    client: httpx.AsyncClient
    base_url: str
    data_dir: Path
    tenant: Tenant | None = None
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """The first tenant's API key header."""
        if self.tenant is None:
            raise RuntimeError("this platform was started with tenant=False")
        return self.tenant.headers

    @property
    def state(self) -> PlatformState:
        """What the lifespan opened: engine, sessionmaker, governor, LLM client, ..."""
        platform: PlatformState = self.app.state.platform
        return platform

    async def new_tenant(
        self,
        name: str | None = None,
        *,
        admin: bool = False,
        rpm: int | None = None,
        tpd: int | None = None,
        budget_usd: float | None = None,
    ) -> Tenant:
        return await create_tenant(
            self.settings, name, admin=admin, rpm=rpm, tpd=tpd, budget_usd=budget_usd
        )

    async def aclose(self) -> None:
        """Stop the platform (ledger flushed, simulator stopped) and remove temp data."""
        await self._stack.aclose()

    async def __aenter__(self) -> PlatformSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def start_platform(
    *,
    data_dir: str | Path | None = None,
    serve: bool = False,
    routers: Sequence[APIRouter] = (),
    migrate: bool = True,
    tenant: bool = True,
    timeout_s: float = 30.0,
    **overrides: Any,
) -> PlatformSession:
    """Start the platform for a lesson; see the module docstring.

    With no ``data_dir`` a temporary directory is used and removed by ``aclose()``.
    ``overrides`` are ``Settings`` fields.
    """
    from asgi_lifespan import LifespanManager

    from ai_platform.db.migrate import upgrade
    from ai_platform.gateway.app import create_app

    stack = contextlib.AsyncExitStack()
    try:
        if data_dir is None:
            tmp = Path(tempfile.mkdtemp(prefix="ai-platform-nb-"))
            stack.callback(shutil.rmtree, tmp, ignore_errors=True)
            data_dir = tmp
        data = Path(data_dir)
        settings = notebook_settings(data, **overrides)
        if migrate:
            await upgrade(settings.database_url)
        first = await create_tenant(settings) if tenant else None
        app = create_app(settings)
        for router in routers:
            app.include_router(router)
        if serve:
            base_url = await stack.enter_async_context(
                serve_in_background(app, lifespan="on", startup_timeout_s=timeout_s)
            )
            client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)
        else:
            manager = await stack.enter_async_context(
                LifespanManager(app, startup_timeout=timeout_s, shutdown_timeout=timeout_s)
            )
            base_url = IN_PROCESS_BASE_URL
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app),
                base_url=base_url,
            )
        stack.push_async_callback(client.aclose)
        return PlatformSession(
            app=app,
            settings=settings,
            client=client,
            base_url=base_url,
            data_dir=data,
            tenant=first,
            _stack=stack,
        )
    except BaseException:
        await stack.aclose()
        raise


# -- timing and printing ------------------------------------------------------------------


@dataclass
class Stopwatch:
    """Wall-clock seconds of a ``with`` block (``perf_counter``); ``seconds`` is live
    inside the block and fixed after it."""

    started: float = 0.0
    stopped: float | None = None

    @property
    def seconds(self) -> float:
        end = self.stopped if self.stopped is not None else time.perf_counter()
        return end - self.started

    @property
    def ms(self) -> float:
        return self.seconds * 1000


@contextlib.contextmanager
def stopwatch() -> Generator[Stopwatch, None, None]:
    watch = Stopwatch(started=time.perf_counter())
    try:
        yield watch
    finally:
        watch.stopped = time.perf_counter()


def show(response: httpx.Response, *, headers: Iterable[str] = ()) -> None:
    """Print the status line, the chosen headers and the body (indented JSON if it is).

    Volatile values (request ids, timestamps, processing times) are printed as they
    are; ``notebooks/sanitize.cfg`` masks them when nbval compares outputs.
    """
    print(response.status_code, response.reason_phrase)
    for name in headers:
        print(f"{name}: {response.headers.get(name)}")
    try:
        body = response.json()
    except ValueError:
        print(response.text)
        return
    print(json.dumps(body, indent=2, ensure_ascii=False, default=str))
