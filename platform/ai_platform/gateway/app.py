"""``create_app(settings)`` and the lifespan that opens and closes every resource.

``ai_platform.gateway.app:app`` is what uvicorn and gunicorn load
(``uvicorn ai_platform.gateway.app:app --workers 4``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware

import ai_platform
import ai_platform.services
from ai_platform.config import Settings, get_settings
from ai_platform.core.errors import COMMON_ERRORS
from ai_platform.core.logging import configure_logging
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.gateway import account, health
from ai_platform.gateway.errors import error_responses, install_error_handlers
from ai_platform.gateway.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from ai_platform.gateway.state import PlatformState
from ai_platform.governance.auth import Authenticator

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


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_logging(settings.log_level)
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database_url, echo=settings.database_echo)
        stack.push_async_callback(engine.dispose)
        sessionmaker = create_sessionmaker(engine)
        platform = PlatformState(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            auth=Authenticator(settings, sessionmaker),
        )
        app.state.platform = platform
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
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)
    return app


def __getattr__(name: str) -> FastAPI:
    # Built on first access so importing this module for create_app() does not read
    # the environment; `uvicorn ai_platform.gateway.app:app` triggers it.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
