"""``create_app(settings)``: the composition root, and the lifespan that opens and
closes every resource.

The process's shape comes from settings (``shape_of``): the monolith runs every service;
a gateway in the split shape proxies the services that have a URL; a service process
(``ai-platform serve --services knowledge``) runs only its services, behind the
gateway's signed identity. Each process opens only what its shape needs.

``ai_platform.gateway.app:app`` is what uvicorn and gunicorn load
(``uvicorn ai_platform.gateway.app:app --workers 4``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware

import ai_platform
from ai_platform.config import SERVICE_NAMES, Settings, get_settings
from ai_platform.core.errors import COMMON_ERRORS
from ai_platform.core.logging import configure_logging
from ai_platform.gateway import account, health, metrics
from ai_platform.gateway.errors import error_responses, install_error_handlers
from ai_platform.gateway.governance_middleware import GovernanceMiddleware
from ai_platform.gateway.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from ai_platform.gateway.proxy import ProxyFastPath, ServiceProxy
from ai_platform.gateway.registry import SERVICES, ServiceSpec
from ai_platform.gateway.resources import open_resources
from ai_platform.gateway.service_identity import GatewayIdentityMiddleware
from ai_platform.gateway.state import PlatformState
from ai_platform.governance.auth import Authenticator
from ai_platform.governance.backends import build_seen_identities
from ai_platform.governance.headers import EXPOSED
from ai_platform.governance.identity import IdentitySigner
from ai_platform.governance.metrics import observe_http
from ai_platform.governance.replay import SeenIdentities
from ai_platform.openai_api import router as openai_api
from ai_platform.openai_api.fastpath import OpenAIFastPath
from ai_platform.web import install as install_web


@dataclass(frozen=True, slots=True)
class Shape:
    """What one process runs: its local services, and whether it is a gateway."""

    local: tuple[ServiceSpec, ...]
    gateway: bool
    """A gateway authenticates API keys and proxies; a service process trusts only the
    gateway's signed identity."""

    @property
    def names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.local)


def shape_of(settings: Settings) -> Shape:
    """``SERVE_SERVICES`` set: a service process serving those. Otherwise a gateway
    running every service without a ``SERVICES__<NAME>__URL`` itself, and admin."""
    served = settings.served
    if served is not None:
        return Shape(tuple(SERVICES[n] for n in SERVICE_NAMES if n in served), gateway=False)
    remote = settings.services.remote()
    names = [n for n in SERVICE_NAMES if n not in remote] + ["admin"]
    return Shape(tuple(SERVICES[n] for n in names), gateway=True)


DESCRIPTION = """
A gateway that governs every request to five AI services: API keys, rate limits,
monthly budgets, a cost ledger, prompt-injection screening, request ids, metrics.

Authenticate with the `X-API-Key` header. Every answer is an envelope
`{status, data, metadata}`; every error is `{status: "error", error, metadata}`
with the request id.
"""


def service_routers() -> list[APIRouter]:
    """The router of every service in the registry (what the monolith mounts)."""
    return [spec.router() for spec in SERVICES.values()]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    shape: Shape = app.state.shape
    proxy: ServiceProxy | None = app.state.proxy
    configure_logging(settings.log_level)
    async with AsyncExitStack() as stack:
        seen: SeenIdentities | None = getattr(app.state, "seen_identities", None)
        if seen is not None:
            stack.push_async_callback(seen.aclose)
        res = await open_resources(
            settings, stack, local_services=shape.names, behind_gateway=not shape.gateway
        )
        auth = Authenticator(settings, res.sessionmaker)
        if shape.gateway:
            await auth.start(settings.redis_url)
        stack.push_async_callback(auth.aclose)
        platform = PlatformState(
            settings=settings,
            engine=res.engine,
            sessionmaker=res.sessionmaker,
            auth=auth,
            governor=res.governor,
            llm=res.llm,
            signer=res.signer,
            simulator=res.simulator,
            local_services=shape.names,
            proxy=proxy,
        )
        platform.readiness["llm"] = res.llm.ping
        if proxy is not None:
            stack.push_async_callback(proxy.aclose)  # connections open on first use
            for name in proxy.upstreams:
                platform.readiness[f"service:{name}"] = proxy.readiness(name)
        app.state.platform = platform
        for spec in shape.local:
            if spec.readiness is not None:
                platform.readiness[spec.name] = spec.readiness(platform)
            if spec.lifespan is not None:
                await stack.enter_async_context(spec.lifespan()(platform))
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
        docs_url=None,  # served offline by ai_platform.web, with the page at /
        redoc_url=None,
    )
    app.state.settings = settings
    shape = app.state.shape = shape_of(settings)
    install_error_handlers(app)
    app.include_router(health.router)
    if shape.gateway:
        app.include_router(account.router)
        app.include_router(openai_api.router)
    if settings.metrics_enabled:
        app.include_router(metrics.router)
    for spec in shape.local:
        app.include_router(spec.router())
    if shape.gateway:
        install_web(app)
    signer = IdentitySigner(
        settings.service_identity_secret.get_secret_value(),
        ttl_s=settings.service_identity_ttl_s,
    )
    proxy = None
    if shape.gateway and settings.services.remote():
        proxy = ServiceProxy(
            settings.services.remote(), signer, api_key_header=settings.api_key_header
        )
        # First: a proxied service's prefix belongs to its service, whatever else is mounted.
        app.router.routes[0:0] = proxy.mounts()
    app.state.proxy = proxy

    # Added innermost first: the request-context middleware ends up outermost, so
    # its request id and timing cover every early exit below it.
    # The fast paths answer /v1 and proxied services before FastAPI's router, inside
    # the request context, body limit and CORS. A proxied call has no governed context
    # here (its service keeps the ledger), so it is forwarded outside the governance
    # middleware, which would only look for one at every message.
    if shape.gateway:
        app.add_middleware(OpenAIFastPath)
    app.add_middleware(GovernanceMiddleware)
    if not shape.gateway:
        seen = app.state.seen_identities = build_seen_identities(settings)
        app.add_middleware(GatewayIdentityMiddleware, signer=signer, seen=seen)
    if proxy is not None:
        app.add_middleware(ProxyFastPath, proxy=proxy)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "X-Correlation-ID", "X-Processing-Time-Ms", *EXPOSED],
        )
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
