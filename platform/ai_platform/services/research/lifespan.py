"""The research service's part of the platform lifespan: its job runner.

The gateway enters ``lifespan(platform)`` after the governor is up and leaves it
before the governor closes, so jobs stopping at shutdown still ledger their steps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ai_platform.services.research.runner import get_runner, start_runner, stop_runner

if TYPE_CHECKING:
    from ai_platform.gateway.state import PlatformState


@asynccontextmanager
async def lifespan(platform: PlatformState) -> AsyncIterator[None]:
    await start_runner(platform, platform.settings.research)
    try:
        yield
    finally:
        await stop_runner(platform)


async def ready(platform: PlatformState) -> None:
    """Readiness: a runner is taking jobs."""
    if get_runner(platform) is None:
        raise RuntimeError("the research runner is not running")
