"""``create_app(settings)`` and the lifespan that opens and closes every resource.

``ai_platform.gateway.app:app`` is what uvicorn and gunicorn load
(``uvicorn ai_platform.gateway.app:app --workers 4``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import ModuleType

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware

import ai_platform
import ai_platform.services
from ai_platform.config import Settings, get_settings
from ai_platform.core.errors import COMMON_ERRORS
from ai_platform.core.logging import configure_logging
from ai_platform.gateway import account, health, metrics
from ai_platform.gateway.errors import error_responses, install_error_handlers
from ai_platform.gateway.governance_middleware import GovernanceMiddleware
from ai_platform.gateway.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from ai_platform.gateway.resources import open_resources
from ai_platform.gateway.state import PlatformState
from ai_platform.governance.auth import Authenticator
from ai_platform.governance.headers import EXPOSED
from ai_platform.governance.metrics import observe_http

ServiceLifespan = Callable[[PlatformState], AbstractAsyncContextManager[None]]

DESCRIPTION = """
A gateway that governs every request to five AI services: API keys, rate limits,
monthly budgets, a cost ledger, prompt-injection screening, request ids, metrics.

Authenticate with the `X-API-Key` header. Every answer is an envelope
`{status, data, metadata}`; every error is `{status: "error", error, metadata}`
with the request id.
"""


def _service_modules(name: str) -> list[ModuleType]:
    """``ai_platform.services.<service>.<name>`` for every service that has one."""
    modules = []
    for info in sorted(pkgutil.iter_modules(ai_platform.services.__path__), key=lambda i: i.name):
        qualified = f"ai_platform.services.{info.name}.{name}"
        try:
            modules.append(importlib.import_module(qualified))
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise
    return modules


def service_routers() -> list[APIRouter]:
    """The ``router`` of every service package."""
    return [module.router for module in _service_modules("router")]


def service_lifespans() -> list[ServiceLifespan]:
    """``lifespan(platform)`` of every service that runs background work (the research
    runner): entered after the shared resources open, left before they close."""
    return [module.lifespan for module in _service_modules("lifespan")]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_logging(settings.log_level)
    async with AsyncExitStack() as stack:
        res = await open_resources(settings, stack)
        auth = Authenticator(settings, res.sessionmaker)
        await auth.start(settings.redis_url)
        stack.push_async_callback(auth.aclose)
        platform = PlatformState(
            settings=settings,
            engine=res.engine,
            sessionmaker=res.sessionmaker,
            auth=auth,
            governor=res.governor,
            llm=res.llm,
            simulator=res.simulator,
        )
        platform.extras["readiness"] = {"llm": res.llm.ping}
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
            expose_headers=["X-Request-ID", "X-Correlation-ID", "X-Processing-Time-Ms", *EXPOSED],
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
