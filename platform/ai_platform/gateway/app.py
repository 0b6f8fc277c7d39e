"""``create_app(settings)`` and the lifespan that opens and closes every resource.

``ai_platform.gateway.app:app`` is what uvicorn and gunicorn load
(``uvicorn ai_platform.gateway.app:app --workers 4``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware

import ai_platform
import ai_platform.services
from ai_platform.config import Settings, get_settings
from ai_platform.core.errors import COMMON_ERRORS
from ai_platform.core.logging import configure_logging
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.gateway import account, health, metrics
from ai_platform.gateway.errors import error_responses, install_error_handlers
from ai_platform.gateway.governance_middleware import GovernanceMiddleware
from ai_platform.gateway.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from ai_platform.gateway.state import PlatformState
from ai_platform.governance.auth import Authenticator
from ai_platform.governance.governor import Governor
from ai_platform.governance.metrics import observe_http
from ai_platform.governance.screening import InjectionDetector
from ai_platform.llm.client import LLMClient
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.simulator import EmbeddedSimulator, SimulatorConfig

ServiceLifespan = Callable[[PlatformState], AbstractAsyncContextManager[None]]

DESCRIPTION = """
A gateway that governs every request to five AI services: API keys, rate limits,
monthly budgets, a cost ledger, prompt-injection screening, request ids, metrics.

Authenticate with the `X-API-Key` header. Every answer is an envelope
`{status, data, metadata}`; every error is `{status: "error", error, metadata}`
with the request id.
"""


def service_routers() -> list[APIRouter]:
    """The ``router`` of every package under ``ai_platform.services`` that has one."""
    routers = []
    for info in sorted(pkgutil.iter_modules(ai_platform.services.__path__), key=lambda i: i.name):
        name = f"ai_platform.services.{info.name}.router"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        routers.append(module.router)
    return routers


def service_lifespans() -> list[ServiceLifespan]:
    """``lifespan(platform)`` of every service package that has a ``lifespan`` module.

    A service that runs background work (the research runner) starts it there and
    stops it when the platform shuts down.
    """
    hooks = []
    for info in sorted(pkgutil.iter_modules(ai_platform.services.__path__), key=lambda i: i.name):
        name = f"ai_platform.services.{info.name}.lifespan"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        hooks.append(module.lifespan)
    return hooks


async def _open_llm(
    settings: Settings, stack: AsyncExitStack, prices: PriceTable
) -> tuple[LLMClient, EmbeddedSimulator | None]:
    simulator = None
    base_url = settings.llm_base_url
    if settings.embedded_simulator:
        # A loopback server, not an in-process transport: httpx's ASGITransport would
        # buffer whole responses and the stream would arrive in one piece.
        simulator = EmbeddedSimulator(SimulatorConfig.from_settings(settings))
        base_url = await simulator.start()
        stack.push_async_callback(simulator.stop)
    llm = LLMClient.from_settings(settings, base_url=base_url, prices=prices)
    stack.push_async_callback(llm.aclose)
    return llm, simulator


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_logging(settings.log_level)
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database_url, echo=settings.database_echo)
        stack.push_async_callback(engine.dispose)
        sessionmaker = create_sessionmaker(engine)
        prices = PriceTable.load(settings.price_table_path)
        llm, simulator = await _open_llm(settings, stack, prices)
        governor = Governor(
            settings,
            llm,
            prices,
            InjectionDetector(threshold=settings.injection_threshold),
            sessionmaker=sessionmaker,
        )
        await governor.start()
        stack.push_async_callback(governor.aclose)
        platform = PlatformState(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            auth=Authenticator(settings, sessionmaker),
            governor=governor,
            llm=llm,
            simulator=simulator,
        )
        platform.extras["readiness"] = {"llm": llm.ping}
        app.state.platform = platform
        for hook in service_lifespans():
            await stack.enter_async_context(hook(platform))
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="AI Platform Workbench",
        version=ai_platform.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=settings.debug,
        responses=error_responses(*COMMON_ERRORS),
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(account.router)
    if settings.metrics_enabled:
        app.include_router(metrics.router)
    for router in service_routers():
        app.include_router(router)

    # Added innermost first: the request-context middleware ends up outermost, so
    # its request id and timing cover every early exit below it.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "X-Processing-Time-Ms", "Retry-After"],
        )
    app.add_middleware(GovernanceMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        RequestContextMiddleware,
        access_log=settings.access_log,
        observer=observe_http if settings.metrics_enabled else None,
    )
    return app


def __getattr__(name: str) -> FastAPI:
    # Built on first access so importing this module for create_app() does not read
    # the environment; `uvicorn ai_platform.gateway.app:app` triggers it.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
