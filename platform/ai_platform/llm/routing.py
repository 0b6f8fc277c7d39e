"""Model routing: the names clients ask for, mapped to provider deployments.

A *deployment* is one place a model runs: OpenAI, an Azure OpenAI resource, any
OpenAI-compatible URL (vLLM, Ollama, a LiteLLM proxy) or the simulator, with its own
connection pool and circuit breaker. A *route* maps a client-facing alias to an
ordered list of targets (``deployment`` or ``deployment:model``): the first serves,
the next ones are fallbacks when it answers 429 or 5xx, times out, cannot be reached,
or its breaker is open. A model name that no route names goes to the primary
deployment under its own name, so with no routing configured the platform behaves as
one provider.

    LLM_DEPLOYMENTS='[{"name": "backup", "provider": "openai",
                       "base_url": "https://api.openai.com/v1", "api_key": "sk-…"}]'
    MODEL_ROUTES='{"chat-default": ["primary:gpt-4o-mini", "backup:gpt-4o-mini"]}'

``primary`` is the deployment the ``LLM_*`` settings describe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
import httpx2
import openai

from ai_platform.llm.breaker import CircuitBreaker
from ai_platform.llm.transports import SdkTransport, Transport, WireTransport

if TYPE_CHECKING:
    from ai_platform.config import DeploymentSettings, Settings

PRIMARY = "primary"


@dataclass(slots=True)
class Deployment:
    name: str
    provider: str
    transport: Transport
    breaker: CircuitBreaker


@dataclass(frozen=True, slots=True)
class Target:
    deployment: Deployment
    model: str
    """The model name the deployment is asked for (on Azure, its deployment name)."""

    @property
    def label(self) -> str:
        return f"{self.deployment.name}:{self.model}"


@dataclass(slots=True)
class ModelRoutes:
    deployments: dict[str, Deployment]
    routes: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    primary: str = PRIMARY

    def resolve(self, model: str) -> list[Target]:
        """The targets to try for ``model``, in order."""
        route = self.routes.get(model)
        if route is None:
            return [Target(self.deployments[self.primary], model)]
        return [Target(self.deployments[name], upstream or model) for name, upstream in route]

    def aliases(self) -> list[str]:
        return sorted(self.routes)

    @property
    def primary_deployment(self) -> Deployment:
        return self.deployments[self.primary]

    async def aclose(self) -> None:
        for deployment in self.deployments.values():
            await deployment.transport.aclose()


def parse_target(text: str) -> tuple[str, str | None]:
    """``"backup"`` or ``"backup:gpt-4o-mini"`` (the first colon splits; model names
    such as ``llama3:8b`` keep theirs)."""
    name, _, model = text.partition(":")
    return name.strip(), (model.strip() or None)


def check_routes(routes: Mapping[str, Sequence[str]], deployments: Iterable[str]) -> None:
    """Fail fast on a route that names no target or an unknown deployment."""
    known = {PRIMARY, *deployments}
    for alias, targets in routes.items():
        if not targets:
            raise ValueError(f"MODEL_ROUTES: {alias!r} has no targets")
        for target in targets:
            name, _ = parse_target(target)
            if name not in known:
                raise ValueError(
                    f"MODEL_ROUTES: {alias!r} names deployment {name!r}; "
                    f"known: {', '.join(sorted(known))}"
                )


def build_routes(
    settings: Settings,
    *,
    base_url: str | None = None,
    http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ModelRoutes:
    """The deployments and routes the settings describe. ``http_client`` (tests) puts
    the primary deployment on the SDK over that client."""
    primary = _primary(settings, base_url, http_client, clock)
    deployments = {PRIMARY: primary}
    for spec in settings.llm_deployments:
        deployments[spec.name] = _deployment(spec, settings, clock)
    check_routes(settings.model_routes, deployments)
    routes = {
        alias: [parse_target(t) for t in targets]
        for alias, targets in settings.model_routes.items()
    }
    return ModelRoutes(deployments, routes)


def _breaker(name: str, settings: Settings, clock: Callable[[], float]) -> CircuitBreaker:
    return CircuitBreaker(
        name,
        failure_threshold=settings.llm_breaker_failures,
        reset_timeout_s=settings.llm_breaker_reset_s,
        clock=clock,
    )


def _primary(
    settings: Settings,
    base_url: str | None,
    http_client: httpx.AsyncClient | httpx2.AsyncClient | None,
    clock: Callable[[], float],
) -> Deployment:
    azure = settings.llm_provider == "azure"
    if azure:
        if base_url is not None:
            raise ValueError("base_url does not apply to Azure; set AZURE_OPENAI_ENDPOINT")
        if not settings.azure_openai_endpoint or settings.azure_openai_api_key is None:
            raise ValueError("AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY are required")
        url = settings.azure_openai_endpoint
        key = settings.azure_openai_api_key.get_secret_value()
    else:
        url = base_url or settings.llm_base_url or ""
        if settings.llm_provider == "simulator" and not url:
            raise ValueError(
                "the simulator's address is needed: pass base_url= (the embedded "
                "simulator's) or set LLM_BASE_URL"
            )
        key = settings.llm_api_key.get_secret_value()
    transport: Transport
    if settings.llm_transport == "wire" and http_client is None:
        transport = WireTransport(
            url or "https://api.openai.com/v1",
            key,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=settings.llm_read_timeout_s,
            azure_api_version=settings.azure_openai_api_version if azure else None,
        )
    else:
        transport = SdkTransport(_sdk(settings, url, key, azure, http_client))
    return Deployment(
        PRIMARY, settings.llm_provider, transport, _breaker(settings.llm_provider, settings, clock)
    )


def _deployment(
    spec: DeploymentSettings, settings: Settings, clock: Callable[[], float]
) -> Deployment:
    azure = spec.provider == "azure"
    key = spec.api_key.get_secret_value()
    transport: Transport
    if settings.llm_transport == "wire":
        transport = WireTransport(
            spec.base_url,
            key,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=spec.timeout_s or settings.llm_read_timeout_s,
            azure_api_version=spec.api_version if azure else None,
        )
    else:
        transport = SdkTransport(_sdk(settings, spec.base_url, key, azure, None, spec))
    return Deployment(spec.name, spec.provider, transport, _breaker(spec.name, settings, clock))


def _sdk(
    settings: Settings,
    url: str,
    key: str,
    azure: bool,
    http_client: httpx.AsyncClient | httpx2.AsyncClient | None,
    spec: DeploymentSettings | None = None,
) -> openai.AsyncOpenAI:
    read = (spec.timeout_s if spec else None) or settings.llm_read_timeout_s
    timeout = openai.Timeout(read, connect=settings.llm_connect_timeout_s)
    if http_client is None and settings.llm_http_backend == "aiohttp":
        http_client = openai.DefaultAioHttpClient(timeout=timeout)
    client: httpx2.AsyncClient | None = http_client  # type: ignore[assignment]
    if azure:
        return openai.AsyncAzureOpenAI(
            azure_endpoint=url,
            api_key=key,
            api_version=spec.api_version if spec else settings.azure_openai_api_version,
            timeout=timeout,
            max_retries=0,
            http_client=client,
        )
    return openai.AsyncOpenAI(
        api_key=key, base_url=url or None, timeout=timeout, max_retries=0, http_client=client
    )
