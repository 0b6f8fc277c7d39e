"""The services a process can run: name → router, lifespan, readiness, explicitly.

Imports are deferred to the loaders, so a service process imports only the services
it serves (a knowledge process never loads the research runner or the image decoder).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from ai_platform.gateway.state import PlatformState, ReadinessCheck

ServiceLifespan = Callable[["PlatformState"], AbstractAsyncContextManager[None]]


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    router: Callable[[], APIRouter]
    lifespan: Callable[[], ServiceLifespan] | None = None
    """Background work entered after the shared resources open (the research runner)."""
    readiness: Callable[[PlatformState], ReadinessCheck] | None = None

    @property
    def prefix(self) -> str:
        return f"/api/v1/{self.name}"


def _knowledge_router() -> APIRouter:
    from ai_platform.services.knowledge.router import router

    return router


def _knowledge_lifespan() -> ServiceLifespan:
    from ai_platform.services.knowledge.lifespan import lifespan

    return lifespan


def _agent_router() -> APIRouter:
    from ai_platform.services.agent.router import router

    return router


def _research_router() -> APIRouter:
    from ai_platform.services.research.router import router

    return router


def _research_lifespan() -> ServiceLifespan:
    from ai_platform.services.research.lifespan import lifespan

    return lifespan


def _research_readiness(platform: PlatformState) -> ReadinessCheck:
    from ai_platform.services.research.lifespan import ready

    async def check() -> None:
        await ready(platform)

    return check


def _assistant_router() -> APIRouter:
    from ai_platform.services.assistant.router import router

    return router


def _admin_router() -> APIRouter:
    from ai_platform.services.admin.router import router

    return router


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("knowledge", _knowledge_router, _knowledge_lifespan),
        ServiceSpec("agent", _agent_router),
        ServiceSpec("research", _research_router, _research_lifespan, _research_readiness),
        ServiceSpec("assistant", _assistant_router),
        ServiceSpec("admin", _admin_router),
    )
}
"""Every service, in the order their routes are mounted (admin only in a gateway)."""
